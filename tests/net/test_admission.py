"""Admission over loopback sockets: caps on connections and handshakes (global and per address), room
kept for seat-token holders, the file-descriptor limit, and bad tokens (their alphabet, constant-time
comparison, and the per-address block after too many).

Distinct client addresses come from binding to 127.0.0.2, 127.0.0.3... (all of 127/8 is loopback).
The file-descriptor tests run the server in a child process with a low RLIMIT_NOFILE.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine import PlayerId
from net.admission import Limits
from net.errors import CLOSE_BAD_TOKEN
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig
from tests.net.edgeutil import Peer, Refused, closing_all, eventually, greet, http_get, read_to_end, tcp
from tests.net.netutil import HOST, WAIT_S

ALICE = PlayerId("Alice")
WS_UI = "/ws/watcher?client_type=ui"
WS_AGENT = "/ws/Alice?client_type=agent"


@pytest.fixture
def hosted(make_server: Callable[[ServerConfig], NetworkServer]) -> Callable[..., tuple[NetworkServer, str]]:
    """A server with these settings hosting one game with one remote seat; returns it and the token."""

    def host(**settings: Any) -> tuple[NetworkServer, str]:
        server = make_server(ServerConfig(port=0, handshake_timeout=2.0, hello_timeout=5.0, **settings))
        network = GameNetwork(server, "g1", [ALICE])
        token = network.seats[ALICE].token
        # The game is registered through the bridge: wait until a spectator can bind to it.
        peer, _ = eventually(lambda: _welcomed(server.port))
        peer.close()
        return server, token

    return host


def _welcomed(port: int, target: str = WS_UI, token: str | None = None, source: str = HOST) -> Any:
    peer, frame = greet(port, target, token, source=source)
    if frame["type"] != "welcome":
        peer.close()
        raise AssertionError(frame)
    return peer, frame


def healthy(port: int, source: str = HOST) -> None:
    assert http_get(port, "/healthz", source=source)[0] == 200


def refused_at_once(port: int, source: str) -> tuple[int, Any]:
    """Connect from `source` and send nothing: the status the server answers with before closing."""
    with tcp(port, source) as sock:
        data = read_to_end(sock)
    assert data, "closed without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


# ---------------------------------------------------------------------------------------- caps


def test_spectators_past_the_cap_get_503_while_a_seat_holder_and_healthz_get_in(hosted):
    # 24 connections, 4 for handshakes, 4 kept for seats: 16 spectators at most.
    server, token = hosted(
        max_connections=24,
        max_handshakes=4,
        max_handshakes_per_address=4,
        seat_reserve=4,
        max_per_address=100,
    )
    with closing_all() as opened:
        for _ in range(16):
            opened.append(_welcomed(server.port)[0])
        with pytest.raises(Refused) as refused:
            Peer(server.port, WS_UI)
        assert refused.value.status == 503
        assert "spectators" in refused.value.body["error"]
        assert http_get(server.port, "/healthz")[::2] == (200, {"ok": True})
        agent, welcome = _welcomed(server.port, WS_AGENT, token)
        opened.append(agent)
        assert welcome["seat"] == ALICE
        opened.pop(0).close()  # room again: a spectator gets in once the server has seen the close
        opened.append(eventually(lambda: _welcomed(server.port))[0])


def test_idle_connections_past_the_per_address_handshake_cap_are_refused_at_once(hosted):
    server, token = hosted(max_handshakes=50, max_handshakes_per_address=5)
    with closing_all() as idle:
        for _ in range(5):
            idle.append(tcp(server.port, "127.0.0.2"))
        # The server may not have accepted the last ones yet: the sixth is refused once it has.
        status, body = eventually(lambda: refused_at_once(server.port, "127.0.0.2"))
        assert status == 503
        assert "handshakes" in body["error"]
        assert http_get(server.port, "/healthz")[0] == 200  # another address is not affected
        _welcomed(server.port, WS_AGENT, token)[0].close()
    eventually(lambda: healthy(server.port, "127.0.0.2"))


def test_connections_past_the_per_address_cap_are_refused_at_once(hosted):
    server, _ = hosted(max_per_address=3)
    with closing_all() as opened:
        for _ in range(3):
            opened.append(_welcomed(server.port, source="127.0.0.3")[0])
        status, body = refused_at_once(server.port, "127.0.0.3")
        assert status == 503
        assert "from your address" in body["error"]
        opened.append(_welcomed(server.port, source="127.0.0.4")[0])


def test_connections_queued_while_the_server_was_busy_are_each_admitted_or_refused(hosted):
    # While the server's thread is busy, connections wait in the kernel's accept queue; the accept loop
    # then takes them in one wake-up (not one per scheduling round, which left a newcomer waiting behind
    # every connection queued before it). Each is still counted: 4 admitted (they then time out their
    # handshake: 408), the rest refused at once (503).
    server, _ = hosted(max_per_address=4)
    gate = threading.Event()
    server.call_soon(gate.wait, WAIT_S)  # holds the server's thread (bounded)
    with closing_all() as queued:
        try:
            for _ in range(12):
                queued.append(tcp(server.port, "127.0.0.8"))
        finally:
            gate.set()
        statuses = sorted(int(read_to_end(sock).split(b" ")[1]) for sock in queued)
    assert statuses == [408] * 4 + [503] * 8


def test_global_handshake_cap_holds_across_addresses(hosted):
    server, token = hosted(max_handshakes=4, max_handshakes_per_address=2, seat_reserve=2)
    with closing_all() as idle:
        for source in ("127.0.0.5", "127.0.0.5", "127.0.0.6", "127.0.0.6"):
            idle.append(tcp(server.port, source))
        status, body = eventually(lambda: refused_at_once(server.port, "127.0.0.7"))
        assert status == 503
        assert "handshakes" in body["error"]
    # Recovery: the idle ones are gone, everybody gets in again.
    agent, welcome = eventually(lambda: _welcomed(server.port, WS_AGENT, token, source="127.0.0.7"))
    agent.close()
    assert welcome["seat"] == ALICE


def test_limits_derived_from_the_fd_limit():
    assert Limits.derive(1024) == Limits(
        max_connections=896,
        max_per_address=224,
        max_handshakes=112,
        max_handshakes_per_address=28,
        seat_reserve=56,
    )
    assert Limits.derive(1024).max_spectators == 728
    assert Limits.derive(100_000, max_per_address=7).max_per_address == 7
    with pytest.raises(ValueError, match="no room for spectators"):
        Limits.derive(1024, max_connections=10, max_handshakes=8)


# ---------------------------------------------------------------------------------------- fd limit

CHILD = """
import json, logging, resource, sys
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig
limit, overrides = int(sys.argv[1]), json.loads(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.WARNING)
known = ServerConfig.__dataclass_fields__
server = NetworkServer(ServerConfig(port=0, **{k: v for k, v in overrides.items() if k in known}))
server.start()
network = GameNetwork(server, "g1", ["Alice"])
print(json.dumps({"port": server.port, "token": network.seats["Alice"].token}), flush=True)
for line in sys.stdin:
    admission = getattr(server, "admission", None)
    failures = admission.accept_failures if admission is not None else len(records)
    text = [logging.Formatter().format(r) for r in records]
    print(json.dumps({"records": len(records), "tracebacks": sum(r.exc_info is not None for r in records),
                      "bytes": sum(map(len, text)), "failures": failures}), flush=True)
server.stop()
"""


class Child:
    """A server in a child process with RLIMIT_NOFILE set to `limit` (soft and hard)."""

    def __init__(self, limit: int, **overrides: Any) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(limit), json.dumps(overrides)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = json.loads(self.proc.stdout.readline())
        self.port, self.token = first["port"], first["token"]

    def report(self) -> dict[str, int]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())  # type: ignore[no-any-return]

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def child() -> Iterator[Callable[..., Child]]:
    started: list[Child] = []

    def start(limit: int, **overrides: Any) -> Child:
        started.append(Child(limit, **overrides))
        return started[-1]

    try:
        yield start
    finally:
        for c in started:
            c.stop()


def test_out_of_file_descriptors_logs_one_line_not_a_traceback_per_retry_and_recovers(child):
    # Caps above the fd limit, so that accept() itself fails (EMFILE), as with no caps at all.
    big = 10_000
    server = child(
        128, max_connections=big, max_per_address=big, max_handshakes=big // 2, max_handshakes_per_address=big
    )
    with closing_all() as flood:
        for _ in range(200):
            flood.append(tcp(server.port))
        deadline = time.monotonic() + 10.0
        while (report := server.report())["failures"] < 5 and time.monotonic() < deadline:
            pass
        assert report["failures"] >= 5, report  # accept() failed and was retried again and again
        assert report["tracebacks"] == 0, report
        assert report["records"] <= 2, report  # one line, maybe a second window's
    eventually(lambda: healthy(server.port), timeout=15.0)


@pytest.mark.deadline(120)
def test_default_caps_keep_healthz_and_a_seat_holder_in_under_a_flood_at_a_low_fd_limit(child):
    server = child(512)
    statuses: list[int] = []
    with closing_all() as flood:
        for _ in range(1500):  # idle raw TCP connections from one address
            flood.append(tcp(server.port, "127.0.0.2"))
        for source in ("127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"):  # spectators from four more
            for _ in range(120):
                try:
                    flood.append(_welcomed(server.port, source=source)[0])
                except Refused as refused:
                    statuses.append(refused.status)
        assert set(statuses) == {503}  # the caps answered (spectators and per address)
        start = time.monotonic()
        assert http_get(server.port, "/healthz")[0] == 200
        agent, welcome = _welcomed(server.port, WS_AGENT, server.token)
        flood.append(agent)
        assert welcome["seat"] == "Alice"
        assert time.monotonic() - start < 2.0  # answered at once, not after a timeout
        assert server.report()["tracebacks"] == 0
    peer, _ = eventually(lambda: _welcomed(server.port, source="127.0.0.3"), timeout=15.0)
    peer.close()


# ---------------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("target", "token"),
    [
        (WS_AGENT, "é"),  # non-ASCII: secrets.compare_digest raised TypeError on it
        (WS_AGENT, "tok en"),
        (WS_AGENT, "x" * 65),
        (WS_AGENT + "&token=%C3%A9", None),  # the same in the URL query
        (WS_UI, "é"),  # a spectator's admin token
    ],
)
def test_a_token_outside_its_alphabet_is_a_bad_token_not_a_crash(hosted, caplog, target, token):
    server, _ = hosted()
    with caplog.at_level(logging.WARNING):
        peer, frame = greet(server.port, target, token)
        rest = peer.frames_to_close()
        peer.close()
    if frame["type"] == "welcome":  # a spectator's URL says everything: the server spoke first
        frame, *rest = [f for f in rest if f["type"] != "event"]
    assert frame["code"] == "bad_token", frame
    assert frame["closing"]
    assert rest == []
    assert peer.closed is not None
    assert peer.closed.code == CLOSE_BAD_TOKEN
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_bad_tokens_from_one_address_get_it_blocked_for_a_while(hosted):
    server, token = hosted(bad_token_limit=3, bad_token_window=60.0, bad_token_block=1.0)
    for _ in range(3):
        peer, frame = greet(server.port, WS_AGENT, "not-a-seat-token", source="127.0.0.8")
        peer.close()
        assert frame["code"] == "bad_token"
    with pytest.raises(Refused) as refused:  # even with the right token, while blocked
        Peer(server.port, WS_AGENT, source="127.0.0.8")
    assert refused.value.status == 429
    assert "bad tokens" in refused.value.body["error"]
    assert http_get(server.port, "/healthz", source="127.0.0.8")[0] == 200  # only WebSockets are blocked
    agent, welcome = _welcomed(server.port, WS_AGENT, token)  # another address is not
    agent.close()
    assert welcome["seat"] == ALICE
    agent, welcome = eventually(lambda: _welcomed(server.port, WS_AGENT, token, source="127.0.0.8"))
    agent.close()
    assert welcome["seat"] == ALICE
