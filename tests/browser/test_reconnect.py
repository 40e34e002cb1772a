"""The page reconnects by itself and resumes where it stopped (`resume_from`), a person's open request
included; the connection is cut from the test's side (playwright's WebSocket routing)."""

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


def _proxy(page) -> tuple[list, list[dict], list[tuple[int, int]]]:
    """Route the page's WebSockets through the test: the routes (to cut them), the hellos the page
    sent, and (connection number, phase id) of each request it received."""
    sockets: list = []
    hellos: list[dict] = []
    requests: list[tuple[int, int]] = []

    def route(ws) -> None:
        upstream = ws.connect_to_server()
        number = len(sockets)

        def to_server(message) -> None:
            frame = json.loads(message)
            if frame["type"] == "hello":
                hellos.append(frame)
            upstream.send(message)

        def to_page(message) -> None:
            frame = json.loads(message)
            if frame["type"] == "request":
                requests.append((number, frame["phase_id"]))
            ws.send(message)

        ws.on_message(to_server)
        upstream.on_message(to_page)
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/.*"), route)
    return sockets, hellos, requests


def test_a_dropped_page_reconnects_resumes_and_plays_on(server, page):
    config = preset("classic-8")
    seats = {p: (None if p == PERSON else HeuristicAgent(i)) for i, p in enumerate(config.players)}
    sockets, hellos, requests = _proxy(page)
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, seats, seed=4)
        token = game.tokens[PERSON]
        page.goto(game.page_url("127.0.0.1", token=token, seat=PERSON))
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        game.start(timeout_s=30, seat_timeouts={PERSON: 120.0})
        expect(page.locator("#you")).to_contain_text(
            f"You are {PERSON}, the "
        )  # its role, before any request
        page.wait_for_selector("#seat.open", timeout=TURN_MS)
        seen = page.locator("#log li").count()
        assert page.locator("#seat").get_attribute("data-requests") == "1"
        phase_id = page.locator("#seat").get_attribute("data-phase-id")
        sockets[-1].close(code=3000, reason="cut by the test")
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")  # again
        expect(page.locator("#seat")).to_have_attribute("data-requests", "2")  # sent again on resume
        expect(page.locator("#time-left")).to_contain_text("s left")
        assert (1, int(phase_id)) in requests  # the server sent the open request again on resume
        assert len(sockets) == 2
        assert hellos[0]["resume_from"] == 0
        assert hellos[1]["resume_from"] > 0  # it asked for what it missed only
        assert hellos[1]["token"] == token
        assert page.locator("#seat").get_attribute("data-phase-id") == phase_id  # the open request again
        assert page.locator("#log li").count() == seen  # nothing shown twice
        for turn in range(300):
            page.wait_for_selector("#seat.open, #winner:not([hidden])", timeout=TURN_MS)
            if page.locator("#winner").is_visible():
                break
            _play_one_turn(page, turn)
        finished = game.wait(60)
    assert finished.faults[PERSON] == 0
    expect(page.locator("#winner")).to_be_visible()
