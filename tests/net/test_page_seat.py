"""What a person's page may see, enforced by the server whatever the page's JavaScript does: a seat's
token opens that seat's view only, never the spectators' full view, and acts only for that seat."""

from __future__ import annotations

import json
import time

import simple_websocket

from actors.heuristic import HeuristicAgent
from engine import PlayerId, preset
from net.hosting import Host
from net.server import ServerConfig
from tests.net.netutil import WAIT_S, hello, open_clients, read_to_close, receive
from tests.proof.remote_kit import SECRET

PERSON = PlayerId("Chloe")
GAME_S = 60.0


def test_a_seat_token_opens_that_seats_view_and_nothing_more(make_server):
    server = make_server(ServerConfig(port=0, stats_cache_s=0))
    config = preset("classic-8")
    seats = {p: (None if p == PERSON else HeuristicAgent(i)) for i, p in enumerate(config.players)}
    with Host(SECRET, server=server) as host, open_clients() as clients:
        game = host.open_game(config, seats, seed=6)
        token = game.tokens[PERSON]
        # The seat's token does not open the full view (nor any spectator's view).
        spy = clients.connect(server.port, "page-spy", "ui", hello_first=True)
        spy.send(hello(token))
        refused = receive(spy)
        assert (refused["type"], refused["code"]) == ("error", "bad_token")
        assert read_to_close(spy)[1] == 4003
        # As the seat, the page gets the seat's own view, with the token sent in hello only.
        ws = clients.connect(server.port, "human-Chloe", "agent")
        ws.send(hello(token))
        welcome = receive(ws)
        assert (welcome["view"], welcome["seat"]) == (f"player:{PERSON}", PERSON)
        game.start(timeout_s=30, seat_timeouts={PERSON: 120.0})
        events, requests, errors = [], [], []
        deadline = time.monotonic() + GAME_S
        while time.monotonic() < deadline:
            try:
                frame = receive(ws, timeout=WAIT_S)
            except simple_websocket.ConnectionClosed:
                break
            if frame["type"] == "event":
                events.append(frame["event"])
            elif frame["type"] == "request":
                requests.append(frame)
                if len(requests) == 1:  # acting for another seat is refused, the connection kept
                    ws.send(
                        json.dumps(
                            {
                                "type": "act",
                                "phase_id": frame["phase_id"],
                                "action": {"kind": "abstain"},
                                "player": "Alice",
                            }
                        )
                    )
                ws.send(
                    json.dumps({"type": "act", "phase_id": frame["phase_id"], "action": {"kind": "abstain"}})
                )
            elif frame["type"] == "error":
                errors.append(frame["code"])
            elif frame["type"] == "game_over":
                break
        finished = game.wait(GAME_S)
    assert finished.outcome is not None
    assert requests
    assert errors[:1] == ["not_your_seat"]
    assert all(r["seconds_left"] > 30 for r in requests)  # the person's own deadline, not the game's
    wolf = finished.roles[PERSON].value == "werewolf"
    allowed = {"public", f"player:{PERSON}"} | ({"wolves"} if wolf else set())
    assert {e["audience"] for e in events} <= allowed
    assert not [e for e in events if e["type"] in ("night_resolved", "reasoned")]
    assert [e["player"] for e in events if e["type"] == "role_assigned"] == [PERSON]
