"""The server over real loopback sockets: HTTP routes, the handshake, and what a bad client gets.

The server runs in its own thread (`NetworkServer`, as `run.py` runs it); the tests are plain sync tests
using `http.client`, raw sockets and simple-websocket clients. A `GameNetwork` hosts a game (no game
master runs) so that spectators and agents have a hub and seats to bind to.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import simple_websocket

from actors.messages import PUBLIC_VIEW, Deliver, GameFinished
from engine import Game, preset
from engine.events import Scope
from net.client import _FixedClient
from net.connection import ConnectionConfig
from net.errors import (
    CLOSE_BAD_TOKEN,
    CLOSE_GAME_OVER,
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
)
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import (
    HOST,
    WAIT_S,
    Clients,
    RawWebSocket,
    hello,
    http_request,
    open_clients,
    poll_stats,
    raw_exchange,
    read_to_close,
    receive,
    receive_until,
    stats,
)

CONFIG = preset("classic-8")
FAST = ServerConfig(port=0, handshake_timeout=0.5, hello_timeout=5.0, stats_cache_s=0)


@pytest.fixture
def server(make_server: Callable[[ServerConfig], NetworkServer]) -> NetworkServer:
    return make_server(FAST)


@pytest.fixture
def game(server: NetworkServer) -> GameNetwork:
    return GameNetwork(server, "g1", CONFIG.players)


@pytest.fixture
def clients() -> Iterator[Clients]:
    with open_clients() as opened:
        yield opened


def greeted(clients: Clients, port: int, client_id: str, client_type: str = "ui", **kw: str) -> Any:
    """A client that said hello and got its welcome."""
    ws = clients.connect(port, client_id, client_type, kw.get("url_token"))
    ws.send(hello(kw.get("token")))
    welcome = receive(ws)
    assert welcome["type"] == "welcome", welcome
    return ws


# ---------------------------------------------------------------------------------------- HTTP routes


def test_healthz(server):
    assert http_request(server.port, "/healthz")[::2] == (200, {"ok": True})


def test_unknown_path_is_404(server):
    status, _, body = http_request(server.port, "/nope")
    assert status == 404
    assert "/nope" in body["error"]


def test_non_get_is_405(server):
    status, headers, _ = http_request(server.port, "/healthz", method="POST")
    assert status == 405
    assert headers["allow"] == "GET"


def test_plain_get_on_a_websocket_path_is_426(server):
    status, headers, _ = http_request(server.port, "/ws/someone?client_type=ui")
    assert status == 426
    assert headers["upgrade"] == "websocket"


@pytest.mark.parametrize(
    "path", ["/ws/someone?client_type=referee", "/ws/bad$id?client_type=ui", "/ws/" + "x" * 65]
)
def test_bad_client_type_or_id_is_400(server, path):
    with pytest.raises(simple_websocket.ConnectionError) as failed:
        simple_websocket.Client.connect(f"ws://{HOST}:{server.port}{path}")
    assert failed.value.status_code == 400


def test_malformed_request_is_400(server):
    response = raw_exchange(server.port, b"this is not HTTP\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 ")
    assert b"bad request" in response


def test_request_head_that_never_completes_is_408(server):
    start = time.monotonic()
    response = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line
    assert response.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - start >= FAST.handshake_timeout


def test_stats_counts_clients_as_they_come_and_go(server, game, clients):
    admin = server.lobby.admin_token
    assert stats(server.port, admin) == {
        "total_clients": 0,
        "by_type": {"agent": 0, "ui": 0, "observer": 0},
        "clients": [],
        "games": ["g1"],
    }
    ui1 = greeted(clients, server.port, "ui-1")
    greeted(clients, server.port, "ui-2")
    greeted(clients, server.port, "obs-1", "observer")
    assert stats(server.port, admin) == {
        "total_clients": 3,
        "by_type": {"agent": 0, "ui": 2, "observer": 1},
        "clients": [
            {"client_id": "obs-1", "type": "observer"},
            {"client_id": "ui-1", "type": "ui"},
            {"client_id": "ui-2", "type": "ui"},
        ],
        "games": ["g1"],
    }
    ui1.close()
    after = poll_stats(server.port, lambda s: s["total_clients"] != 3, admin)
    assert after["total_clients"] == 2
    assert after["by_type"] == {"agent": 0, "ui": 1, "observer": 1}
    assert [c["client_id"] for c in after["clients"]] == ["obs-1", "ui-2"]


# ---------------------------------------------------------------------------------------- bad frames


def test_invalid_json_gets_an_error_and_the_connection_stays(server, game, clients):
    ws = greeted(clients, server.port, "ui-1")
    ws.send("{not json")
    error = receive_until(ws, "error")
    assert error["code"] == "invalid_json"
    assert error["closing"] is False
    ws.send(json.dumps({"type": "ping", "nonce": "n1"}))
    assert receive_until(ws, "pong") == {"type": "pong", "message_type": "pong", "nonce": "n1"}


def test_unknown_frame_type_is_named(server, game, clients):
    ws = greeted(clients, server.port, "ui-1")
    ws.send(json.dumps({"type": "dance", "style": "tango"}))
    error = receive_until(ws, "error")
    assert error["code"] == "invalid_frame"
    assert '"dance"' in error["message"]
    assert error["closing"] is False


def test_binary_frame_is_refused(server, game, clients):
    ws = greeted(clients, server.port, "ui-1")
    ws.send(b"\x00\x01\x02")
    error = receive_until(ws, "error")
    assert error["code"] == "binary_not_supported"
    ws.send(json.dumps({"type": "ping"}))
    assert receive_until(ws, "pong")["nonce"] is None


def test_wrong_protocol_version_gets_an_error_and_a_close(server, game, clients):
    ws = clients.connect(server.port, "agent-1", "agent")  # no token in its URL: it waits for hello
    ws.send(hello(version=99))
    frames, code = read_to_close(ws)
    assert [f["code"] for f in frames] == ["protocol_version"]
    assert frames[0]["closing"] is True
    assert code == CLOSE_PROTOCOL_ERROR


def test_acting_before_hello_or_as_a_spectator_is_refused(server, game, clients):
    act = json.dumps({"type": "act", "phase_id": 1, "action": {"kind": "abstain"}})
    agent = clients.connect(server.port, "agent-1", "agent")
    agent.send(act)
    assert receive_until(agent, "error")["code"] == "hello_required"
    ws = clients.connect(server.port, "ui-1")
    receive_until(ws, "welcome")  # a spectator's URL says everything: welcomed without a hello
    ws.send(act)
    error = receive_until(ws, "error")
    assert error["code"] == "not_an_agent"
    assert error["closing"] is False


def test_agent_with_a_wrong_token_is_closed_4003(server, game, clients):
    ws = clients.connect(server.port, "agent-1", "agent")
    ws.send(hello(token="not-a-seat-token"))
    frames, code = read_to_close(ws)
    assert [f["code"] for f in frames] == ["bad_token"]
    assert code == CLOSE_BAD_TOKEN


def test_seat_token_in_the_url_works_and_a_newer_connection_replaces_the_older(server, game, clients):
    seat = game.seats["Alice"]
    first = greeted(clients, server.port, "alice-1", "agent", url_token=seat.token)
    second = clients.connect(server.port, "alice-2", "agent")
    second.send(hello(token=seat.token))
    welcome = receive(second)
    assert (welcome["type"], welcome["seat"], welcome["view"]) == ("welcome", "Alice", "player:Alice")
    frames, code = read_to_close(first)
    assert [f["code"] for f in frames] == ["replaced"]
    assert code == 4001


def test_no_hello_in_time_is_closed(make_server, clients):
    server = make_server(ServerConfig(port=0, hello_timeout=0.3))
    start = time.monotonic()  # the server's timer starts once the handshake is done
    ws = clients.connect(server.port, "quiet", "agent")  # no token in its URL: it must say hello
    frames, code = read_to_close(ws)
    assert time.monotonic() - start >= 0.3
    assert [(f["code"], f["closing"]) for f in frames] == [("hello_required", True)]
    assert code == CLOSE_POLICY


def test_message_over_the_size_limit_is_closed_1009(make_server, clients):
    server = make_server(ServerConfig(port=0, connection=ConnectionConfig(max_message=1000)))
    ws = clients.connect(server.port, "big", "agent")
    ws.send(json.dumps({"type": "ping", "nonce": "x" * 2000}))
    frames, code = read_to_close(ws)
    assert frames == []
    assert code == CLOSE_TOO_BIG


def test_flood_is_rate_limited_and_the_server_still_serves_others(server, game, clients):
    flooder = greeted(clients, server.port, "flooder")
    ping = json.dumps({"type": "ping"})
    sent = 0
    try:
        for _ in range(10_000):
            flooder.send(ping)
            sent += 1
    except (simple_websocket.ConnectionClosed, OSError):
        pass  # closed for flooding: fine
    assert sent >= 200  # at least the burst went out before any close
    error = receive_until(flooder, "error")
    assert error["code"] == "rate_limited"
    # The server still serves a newcomer, over WebSocket and HTTP.
    other = greeted(clients, server.port, "other")
    other.send(json.dumps({"type": "ping", "nonce": "still-here"}))
    assert receive_until(other, "pong")["nonce"] == "still-here"
    assert http_request(server.port, "/healthz")[0] == 200


def test_a_vanished_client_mid_game_does_not_hurt_the_others(server, game, clients):
    events = [e for e in Game.new(CONFIG, seed=1).events if e.audience.scope is Scope.PUBLIC]
    assert len(events) >= 3
    hub = game.hubs[PUBLIC_VIEW]

    def deliver(seq: int) -> None:
        hub.tell(Deliver(game_id="g1", view=PUBLIC_VIEW, first_seq=seq, events=(events[seq],)))

    watcher = greeted(clients, server.port, "watcher")
    raw = RawWebSocket(server.port, "/ws/vanisher?client_type=ui")
    try:
        raw.send_text(hello())
        assert raw.receive_frame()["type"] == "welcome"
        deliver(0)
        assert raw.receive_frame()["seq"] == 0  # it is in the game
    finally:
        raw.abort()  # TCP reset, no close frame
    for seq in range(1, len(events)):
        deliver(seq)  # the server writes to the dead socket, and goes on
    seqs = [receive_until(watcher, "event")["seq"] for _ in events]
    assert seqs == list(range(len(events)))
    after = poll_stats(server.port, lambda s: s["total_clients"] == 1, server.lobby.admin_token)
    assert after["clients"] == [{"client_id": "watcher", "type": "ui"}]
    late = greeted(clients, server.port, "late")  # a newcomer catches up on the whole history
    assert [receive_until(late, "event")["seq"] for _ in events] == seqs


def test_stop_closes_every_client_with_1001(make_server, clients):
    server = make_server(FAST)
    GameNetwork(server, "g1", CONFIG.players)
    ws = greeted(clients, server.port, "ui-1")
    server.stop()
    frames, code = read_to_close(ws)
    assert frames == []
    assert code == CLOSE_GOING_AWAY
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, server.port), timeout=WAIT_S).close()


# ------------------------------------------------------------------------------------- catch-up and the end


def _feed(game: GameNetwork, events: list[Any], first_seq: int = 0) -> None:
    """What the game master would tell the public hub."""
    game.hubs[PUBLIC_VIEW].tell(
        Deliver(game_id="g1", view=PUBLIC_VIEW, first_seq=first_seq, events=tuple(events))
    )


def _public_events(count: int) -> list[Any]:
    engine_game = Game.new(CONFIG, seed=3)
    events = [e for e in engine_game.events if e.audience.scope is Scope.PUBLIC]
    return (events * (count // len(events) + 1))[:count]


def test_catch_up_bigger_than_the_outbox_is_not_a_slow_consumer(make_server, clients):
    server = make_server(ServerConfig(port=0, connection=ConnectionConfig(outbox_bytes=4096)))
    game = GameNetwork(server, "g1", [])
    _feed(game, _public_events(200))  # about 20 KB of history, five times the outbox bound
    poll_stats(server.port, lambda s: True)  # a round trip through the server: the feed is in
    ws = clients.connect(server.port, "late")
    ws.send(hello())
    assert receive(ws)["type"] == "welcome"
    seqs = [receive(ws)["seq"] for _ in range(200)]
    assert seqs == list(range(200))


def test_catch_up_bigger_than_the_outbox_of_a_finished_game(make_server, clients):
    server = make_server(ServerConfig(port=0, connection=ConnectionConfig(outbox_bytes=4096)))
    game = GameNetwork(server, "g1", [])
    _feed(game, _public_events(200))
    game.hubs[PUBLIC_VIEW].tell(GameFinished(game_id="g1", outcome=None, record={"events": []}, faults={}))
    poll_stats(server.port, lambda s: True)
    ws = clients.connect(server.port, "late")  # told everything, and closed, before it could say hello
    frames, code = read_to_close(ws)
    assert [f["type"] for f in frames] == ["welcome"] + ["event"] * 200 + ["game_over"]
    assert code == CLOSE_GAME_OVER


def test_resume_past_the_end_is_named_and_resumes_at_the_end(server, game, clients):
    _feed(game, _public_events(5))
    poll_stats(server.port, lambda s: True)
    ws = clients.connect(server.port, "future", resume_from=50)
    error = receive(ws)
    assert error["type"] == "error"
    assert "resume_from 50 is past the 5 events" in error["message"]
    welcome = receive(ws)
    assert (welcome["type"], welcome["resume_from"]) == ("welcome", 5)


def test_spectators_get_game_over_then_a_4000_close(server, game, clients):
    ws = greeted(clients, server.port, "watcher")
    finished = GameFinished(game_id="g1", outcome=None, record={"events": []}, faults={})
    game.hubs[PUBLIC_VIEW].tell(finished)
    frames, code = read_to_close(ws)
    assert [f["type"] for f in frames] == ["game_over"]
    assert code == CLOSE_GAME_OVER
    late = clients.connect(server.port, "late")  # told everything before it could say hello
    frames, code = read_to_close(late)
    assert [f["type"] for f in frames] == ["welcome", "game_over"]
    assert code == CLOSE_GAME_OVER


# ------------------------------------------------------------------------------- handshake and hello details


def test_websocket_upgrade_without_its_headers_is_400(server):
    response = raw_exchange(
        server.port,
        b"GET /ws/someone HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    )
    assert response.startswith(b"HTTP/1.1 400 ")
    assert b"bad WebSocket handshake" in response


def test_request_head_over_16_kib_is_431(server):
    response = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
    assert response.startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize("size", [16 * 1024 + 1, 30_000])
def test_a_complete_head_over_16_kib_is_431_too(server, size):
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    head = start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == size
    response = raw_exchange(server.port, head)
    assert response.startswith(b"HTTP/1.1 431 ")


def test_a_head_of_exactly_16_kib_is_served(server):
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    head = start + b"a" * (16 * 1024 - len(start) - 4) + b"\r\n\r\n"
    response = raw_exchange(server.port, head)
    assert response.startswith(b"HTTP/1.1 200 ")


def test_client_type_defaults_to_ui_and_a_client_counts_before_its_hello(server, game, clients):
    ws = _FixedClient.connect(f"ws://{HOST}:{server.port}/ws/anon")  # no query at all
    clients.opened.append(ws)
    after = poll_stats(server.port, lambda s: s["total_clients"] == 1, server.lobby.admin_token)
    assert after["clients"] == [{"client_id": "anon", "type": "ui"}]
    ws.send(hello())
    welcome = receive(ws)
    assert (welcome["client_type"], welcome["view"], welcome["seat"]) == ("ui", "public", None)


def test_ping_is_answered_before_hello(server, game, clients):
    ws = clients.connect(server.port, "early", "agent")
    ws.send(json.dumps({"type": "ping", "nonce": "first"}))
    assert receive(ws) == {"type": "pong", "message_type": "pong", "nonce": "first"}


def test_a_second_hello_is_an_invalid_frame_and_the_connection_stays(server, game, clients):
    ws = greeted(clients, server.port, "twice")
    ws.send(hello())
    error = receive_until(ws, "error")
    assert (error["code"], error["closing"]) == ("invalid_frame", False)
    assert error["message"] == "hello was already received"
    ws.send(json.dumps({"type": "ping", "nonce": "still"}))
    assert receive_until(ws, "pong")["nonce"] == "still"


def test_a_url_token_is_used_at_once_and_a_later_hello_cannot_change_the_seat(server, game, clients):
    ws = clients.connect(server.port, "bruno", "agent", token=game.seats["Bruno"].token)
    welcome = receive(ws)
    assert (welcome["type"], welcome["seat"]) == ("welcome", "Bruno")
    ws.send(hello(token=game.seats["Alice"].token))
    error = receive_until(ws, "error")
    assert (error["code"], error["closing"]) == ("invalid_frame", False)
    wrong = clients.connect(server.port, "carol", "agent", token="not-a-seat-token")
    frames, code = read_to_close(wrong)
    assert [f["code"] for f in frames] == ["bad_token"]
    assert code == CLOSE_BAD_TOKEN
    spectator = clients.connect(server.port, "tv", "observer", token=server.lobby.admin_token)
    assert receive(spectator)["view"] == "full"
    spectator.send(hello(token="not-the-admin-token"))
    frames, code = read_to_close(spectator)
    assert [f["code"] for f in frames if f["type"] == "error"] == ["bad_token"]
    assert code == CLOSE_BAD_TOKEN


def test_spectator_with_a_wrong_admin_token_is_closed_4003(server, game, clients):
    ws = clients.connect(server.port, "tv", "observer")
    ws.send(hello(token="not-the-admin-token"))
    frames, code = read_to_close(ws)
    assert frames[0]["view"] == "public"  # welcomed from its URL before its hello was read
    assert [(f["code"], f["closing"]) for f in frames if f["type"] == "error"] == [("bad_token", True)]
    assert code == CLOSE_BAD_TOKEN
    in_url = clients.connect(server.port, "tv2", "observer", token="not-the-admin-token")
    frames, code = read_to_close(in_url)
    assert [(f["code"], f["closing"]) for f in frames] == [("bad_token", True)]
    assert code == CLOSE_BAD_TOKEN


def test_admin_token_opens_the_full_view(server, game, clients):
    ws = clients.connect(server.port, "tv", "observer", token=server.lobby.admin_token)
    welcome = receive(ws)
    assert (welcome["type"], welcome["view"], welcome["game_id"]) == ("welcome", "full", "g1")
    kept_out_of_url = clients.connect(server.port, "tv2", "observer")
    kept_out_of_url.send(hello(token=server.lobby.admin_token))
    assert receive(kept_out_of_url)["view"] == "public"  # the URL's view, sent before the hello is read
    welcome = receive_until(kept_out_of_url, "welcome")
    assert (welcome["view"], welcome["resume_from"]) == ("full", 0)


def test_spectator_when_no_game_is_hosted_is_closed_1008(server, clients):
    ws = clients.connect(server.port, "tv", "ui")
    frames, code = read_to_close(ws)
    assert [(f["code"], f["closing"]) for f in frames] == [("no_game", True)]
    assert code == CLOSE_POLICY


def test_act_before_any_request_is_a_stale_phase(server, game, clients):
    ws = greeted(clients, server.port, "alice", "agent", token=game.seats["Alice"].token)
    ws.send(json.dumps({"type": "act", "phase_id": 7, "action": {"kind": "abstain"}}))
    error = receive_until(ws, "error")
    assert (error["code"], error["closing"]) == ("stale_phase", False)
    assert error["message"] == "phase 7 is not open (no request is open)"


def test_flooding_is_closed_after_1000_drops_in_a_row(make_server, clients):
    # No refill to speak of: after the burst (the hello and one ping) every message is dropped.
    limits = ConnectionConfig(rate=1e-9, burst=2.0)
    server = make_server(ServerConfig(port=0, connection=limits))
    GameNetwork(server, "g1", CONFIG.players)
    ws = greeted(clients, server.port, "flooder")
    ping = json.dumps({"type": "ping", "nonce": "n"})
    with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
        for _ in range(1 + 1000):
            ws.send(ping)
    frames, code = read_to_close(ws)
    assert frames[0] == {"type": "pong", "message_type": "pong", "nonce": "n"}
    assert [(f["code"], f["closing"]) for f in frames[1:]] == [
        ("rate_limited", False),
        ("rate_limited", True),
    ]
    assert code == CLOSE_POLICY


def test_spectator_resumes_from_its_resume_point(server, game, clients):
    _feed(game, _public_events(5))
    poll_stats(server.port, lambda s: True)
    ws = clients.connect(server.port, "back", resume_from=3)
    welcome = receive(ws)
    assert (welcome["type"], welcome["resume_from"]) == ("welcome", 3)
    assert [receive(ws)["seq"] for _ in range(2)] == [3, 4]
    _feed(game, _public_events(6)[5:], first_seq=5)
    assert receive(ws)["seq"] == 5


def test_spectators_watch_the_game_hosted_last_and_stats_lists_every_game(server, clients):
    GameNetwork(server, "g2", CONFIG.players)
    GameNetwork(server, "g1", CONFIG.players)
    ws = clients.connect(server.port, "tv")
    ws.send(hello())
    assert receive(ws)["game_id"] == "g1"
    assert stats(server.port)["games"] == ["g1", "g2"]


def test_a_game_is_registered_once_its_network_is_built(make_server) -> None:
    # run.py prints the spectator URLs right after: whoever connects then must find this game, not
    # the one before it (spectators who name no game watch the latest).
    server = make_server(ServerConfig(port=0))
    for n in range(20):
        network = GameNetwork(server, f"g{n}", [])
        assert server.lobby.current == network.game_id


def test_a_call_from_the_server_thread_cannot_wait_for_itself(make_server) -> None:
    server = make_server(ServerConfig(port=0))
    errors: list[BaseException] = []

    def from_trio() -> None:
        try:
            server.call(lambda: None)
        except RuntimeError as exc:
            errors.append(exc)

    server.call(from_trio)
    assert len(errors) == 1
