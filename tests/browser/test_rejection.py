"""A person's page shows what the game rejected and why, and lets the person answer again."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from actors.heuristic import HeuristicAgent
from engine import PlayerId, preset
from net.hosting import Host
from tests.browser.test_human import TURN_MS, _play_one_turn
from tests.proof.remote_kit import SECRET

PERSON = PlayerId("Chloe")


def test_a_rejected_answer_is_shown_with_its_reason_and_can_be_replaced(server, page):
    """The page's first targeted answer is turned, on its way to the server, into one for a player
    who is not on the menu: the game's own rejection comes back and is shown."""
    tampered: list[dict] = []

    def route(ws) -> None:
        upstream = ws.connect_to_server()

        def to_server(message) -> None:
            frame = json.loads(message)
            if frame["type"] == "act" and "target" in frame["action"] and not tampered:
                frame["action"]["target"] = "Nobody"
                tampered.append(frame)
                message = json.dumps(frame)
            upstream.send(message)

        ws.on_message(to_server)

    page.route_web_socket(re.compile(r".*/ws/.*"), route)
    config = preset("classic-8")
    seats = {p: (None if p == PERSON else HeuristicAgent(i)) for i, p in enumerate(config.players)}
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, seats, seed=4)
        page.goto(game.page_url("127.0.0.1", token=game.tokens[PERSON], seat=PERSON))
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        game.start(timeout_s=30, seat_timeouts={PERSON: 120.0})
        for turn in range(300):
            page.wait_for_selector("#seat.open, #winner:not([hidden])", timeout=TURN_MS)
            if page.locator("#winner").is_visible():
                break
            targets = page.locator("button.act[data-target]")
            if not tampered and targets.count():
                targets.first.click()
                expect(page.locator("#notice")).to_have_class("rejected")
                expect(page.locator("#notice")).to_contain_text("Rejected: ")
                expect(page.locator("#notice")).to_contain_text("'Nobody' is not allowed now")
                expect(targets.first).to_be_enabled()  # the request is still open: answer again
            _play_one_turn(page, turn)
        finished = game.wait(60)
    assert tampered
    assert finished.faults[PERSON] == 1  # the illegal answer, and nothing else
