"""What a client can make the server hold or compute, over a real socket on loopback.

A spectator that sends most of a large message and vanishes leaves nothing behind, even with the garbage
collector off; limits count bytes; a client that has not said hello may only send small messages; the
unfinished messages of all connections share one budget; a frame that trickles in is timed out; a frame
full of keys is refused without being parsed.
"""

from __future__ import annotations

import contextlib
import gc
import json
import queue
import time
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import h11
import pytest
import trio
from wsproto.handshake import H11Handshake

from actors.messages import PUBLIC_VIEW
from engine import preset
from net.codec import text_frame
from net.connection import ConnectionConfig
from net.game_network import GameNetwork
from net.inbox import SMALL_READ
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import WAIT_S
from tests.proof.wire import WireClient, ws_frame

T = TypeVar("T")
EMOJI = "\N{GRINNING FACE}"  # 1 character, 4 bytes of UTF-8, 4 bytes in a Python str


def in_trio(server: NetworkServer, fn: Callable[[], T]) -> T:
    """Run `fn` in the server's Trio thread and return its result."""
    done: queue.Queue[T] = queue.Queue()
    server.call_soon(lambda: done.put(fn()))
    return done.get(timeout=WAIT_S)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT_S} s: {what}"
        time.sleep(0.01)  # polling a condition, bounded by the deadline


def ending(conn: WireClient) -> str:
    frames = conn.frames_to_end()
    lines = [f"{f['type']} {f.get('code', '')}".strip() for f in frames]
    return "; ".join([*lines, f"{conn.ended}: {conn.close_reason}"])


@pytest.fixture
def game_server(make_server: Callable[[ServerConfig], NetworkServer]) -> NetworkServer:
    server = make_server(ServerConfig(port=0))
    GameNetwork(server, "g1", preset("classic-8").players)
    return server


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def spectator(server: NetworkServer, name: str) -> WireClient:
    conn = WireClient(server.port, f"/ws/{name}?client_type=ui")
    conn.hello()
    welcome = conn.next()
    assert welcome is not None
    assert welcome["type"] == "welcome"
    return conn


# ---------------------------------------------------------------------------------------- released at the end


@pytest.mark.parametrize("char", ["a", EMOJI], ids=["ascii", "emoji"])
def test_a_vanished_spectator_leaves_nothing_behind_even_without_gc(game_server, no_gc, char):
    server = game_server
    conn = spectator(server, "vanisher")
    part = (char * (100_000 // len(char.encode()))).encode()
    conn.send_raw(ws_frame(0x1, part, fin=False))  # most of a message, never finished
    wait_until(lambda: server.budget.used == len(part), "the part is held")

    def find() -> tuple[weakref.ref[Any], weakref.ref[Any]]:
        session = next(s for s in server.lobby.sessions if s.client_id == "vanisher")
        return weakref.ref(session), weakref.ref(session.connection)

    session, connection = in_trio(server, find)
    assert session() is not None
    conn.sock.close()  # vanish
    wait_until(lambda: session() is None and connection() is None, "the session and connection are freed")
    assert server.budget.used == 0


# ---------------------------------------------------------------------------------------- sizes


def test_a_message_over_the_limit_in_bytes_is_closed_1009(game_server):
    conn = spectator(game_server, "emoji")
    limit = ConnectionConfig().max_message
    conn.send_text(json.dumps({"type": "ping", "nonce": EMOJI * (limit // 4)}, ensure_ascii=False))
    assert ending(conn) == f"close 1009: message too big (limit {limit} bytes)"


def test_before_hello_only_small_messages_are_accepted(game_server):
    padded = '{"type": "ping"' + " " * 5000 + "}"  # 5 KB of valid JSON
    early = WireClient(game_server.port, "/ws/early?client_type=agent")
    early.send_text(padded)
    assert ending(early) == "close 1009: message too big (limit 4096 bytes before hello)"
    greeted = spectator(game_server, "greeted")
    greeted.send_text(padded)
    while (frame := greeted.next()) is not None and frame["type"] != "pong":
        assert frame["type"] == "event"
    assert frame is not None
    greeted.close()


def test_a_spectator_welcomed_from_its_url_keeps_the_small_limit_until_it_says_hello(game_server):
    listener = WireClient(game_server.port, "/ws/listener?client_type=ui")  # welcomed without a hello
    listener.send_text('{"type": "ping"' + " " * 5000 + "}")
    assert ending(listener) == "welcome; close 1009: message too big (limit 4096 bytes before hello)"


def test_a_peer_that_keeps_sending_after_its_refusal_is_reset_not_read_to_the_end(game_server):
    # After refusing a message the server reads and drops what follows, looking for the peer's close
    # reply, but only so much (`max_message` bytes): a crowd each sending megabytes would otherwise have
    # it read them all while everyone else waits. Here: a frame that announces 64 MB, sent in full.
    conn = WireClient(game_server.port, "/ws/blaster?client_type=agent")
    total, chunk = 64 * 1024 * 1024, b"A" * (1024 * 1024)
    conn.sock.sendall(bytes([0x81, 0x80 | 127]) + total.to_bytes(8, "big") + b"\0" * 4)  # text, masked
    sent = 0
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        while sent < total:
            conn.sock.sendall(chunk)
            sent += len(chunk)
    assert sent < total  # reset long before the end: the server stopped reading


def test_a_stranger_is_read_in_small_pieces_even_when_it_sends_megabytes(game_server, monkeypatch):
    # Trio's receive_some returns the bytes it read only after a checkpoint, so every connection whose
    # data is ready holds its read's buffer while the others take theirs: 1,000 spectators sending at
    # once, read 64 KiB at a time, made the server hold 48 MiB at once (tracemalloc), which the heap kept
    # as scattered holes after they left. A connection that has not said hello may send 4 KiB messages:
    # it needs no big reads. (What follows a refusal is read into one buffer all connections share:
    # `Connection._drop`, not through receive_some.)
    asked: list[int] = []
    receive_some = trio.SocketStream.receive_some

    async def recording(self: trio.SocketStream, max_bytes: int | None = None) -> bytes | bytearray:
        asked.append(max_bytes or 0)
        return await receive_some(self, max_bytes)

    monkeypatch.setattr(trio.SocketStream, "receive_some", recording)
    conn = WireClient(game_server.port, "/ws/stranger?client_type=agent")
    payload = b"A" * (1024 * 1024)
    conn.sock.sendall(bytes([0x01, 0x80 | 127]) + len(payload).to_bytes(8, "big") + b"\0" * 4)  # unfinished
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        conn.sock.sendall(payload)
    assert ending(conn).startswith("close 1009")
    reads = asked[1:]  # the first read is the handshake's request head
    assert len(reads) > 1, asked  # the message is read in pieces
    assert max(reads) <= SMALL_READ, asked
    # Once the peer is known, reads are big again (tests/net/test_memory.py sends bursts of 50 KB).
    greeted = spectator(game_server, "greeted")
    asked.clear()
    greeted.send_text('{"type": "ping"' + " " * 60000 + "}")
    while (frame := greeted.next()) is not None and frame["type"] != "pong":
        pass
    assert max(asked) > SMALL_READ, asked
    greeted.close()


def test_a_frame_of_100000_keys_before_hello_is_closed_1009(game_server):
    conn = WireClient(game_server.port, "/ws/keys?client_type=agent")
    conn.send_text(json.dumps({"type": "ping", **{str(i): 0 for i in range(100_000)}}))
    assert ending(conn) == "close 1009: message too big (limit 4096 bytes before hello)"


def test_a_frame_with_too_many_keys_is_refused_and_the_connection_kept(game_server):
    conn = WireClient(game_server.port, "/ws/keys?client_type=agent")
    conn.send_text(json.dumps({"type": "ping", **{str(i): 0 for i in range(16)}}))  # 17 keys
    error = conn.next()
    assert error == {
        "type": "error",
        "message_type": "error",
        "code": "invalid_frame",
        "message": "frame too complex: an object may have at most 16 keys",
        "closing": False,
    }
    conn.send_json({"type": "ping", "nonce": "still here"})
    assert conn.next() == {"type": "pong", "message_type": "pong", "nonce": "still here"}
    conn.close()


# ---------------------------------------------------------------------------------------- shared budget


def test_the_connection_that_would_go_over_the_shared_budget_is_closed_1013(make_server):
    server = make_server(ServerConfig(port=0, max_unfinished_bytes=5000))
    first = WireClient(server.port, "/ws/first?client_type=agent")
    first.send_raw(ws_frame(0x1, b'{"type": "ping"' + b" " * 2985, fin=False))  # 3000 bytes held
    wait_until(lambda: server.budget.used == 3000, "the first part is held")
    second = WireClient(server.port, "/ws/second?client_type=agent")
    second.send_raw(ws_frame(0x1, b" " * 3000, fin=False))
    assert ending(second) == "close 1013: server busy: unfinished messages over 5000 bytes in all"
    first.send_raw(ws_frame(0x0, b"}"))  # the first one is still served
    assert first.next() == {"type": "pong", "message_type": "pong", "nonce": None}
    assert server.budget.used == 0
    first.close()


# ---------------------------------------------------------------------------------------- completion time


def test_a_frame_that_never_completes_is_closed_1008(make_server):
    timeout = 0.3
    server = make_server(ServerConfig(port=0, connection=ConnectionConfig(message_timeout=timeout)))
    conn = WireClient(server.port, "/ws/trickler?client_type=agent")
    started = time.monotonic()
    conn.send_raw(bytes((0x81,)))  # one byte of a frame header, and no more
    assert ending(conn) == f"close 1008: message not completed within {timeout:g} s"
    assert time.monotonic() - started >= timeout


# ---------------------------------------------------------------------------------------- held while open


def test_an_open_connection_keeps_nothing_of_its_handshake(game_server):
    # The HTTP request, its headers and both handshake state machines (h11's and wsproto's) are done with
    # once the upgrade is answered: kept for the connection's life they were 2.5 KB of every idle
    # spectator (tracemalloc, 1,000 spectators).
    conns = [spectator(game_server, f"quiet-{i}") for i in range(3)]

    def handshake_state() -> list[str]:
        gc.collect()
        return [  # the server's (the test's clients, in this process, keep theirs)
            type(o).__name__
            for o in gc.get_objects()
            if (isinstance(o, h11.Connection) and o.our_role is h11.SERVER)
            or (isinstance(o, H11Handshake) and not o.client)
        ]

    assert in_trio(game_server, handshake_state) == []
    for conn in conns:
        conn.close()


@pytest.mark.deadline(60)
def test_spectators_catching_up_share_the_history_instead_of_copying_it(game_server):
    # 1,000 spectators joining one game each held a copy of its history until their socket took it:
    # a third of the server's memory under the memory attack (8.6 of 25 MB, tracemalloc). The frames
    # are shared by every client; a catch-up now queues them, not a copy.
    hub = in_trio(game_server, lambda: game_server.lobby.hub_for(PUBLIC_VIEW))
    assert hub is not None
    frames = [
        text_frame(json.dumps({"type": "event", "n": n, "pad": "x" * 10_000}).encode()) for n in range(400)
    ]
    in_trio(game_server, lambda: hub.history.extend(frames))  # 4 MB of history
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        # They do not read: what the kernel does not take stays queued on the server.
        late = [WireClient(game_server.port, f"/ws/late-{i}?client_type=ui", rcvbuf=4096) for i in range(8)]
        wait_until(lambda: in_trio(game_server, lambda: len(hub.clients)) == len(late), "all caught up")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, f"{peak:,} bytes at the peak for 8 catch-ups of 4 MB"
    for conn in late:  # and each gets every frame whole and in order, however its socket took them
        got: list[int] = []
        while len(got) < len(frames) and (frame := conn.next()) is not None:
            if frame["type"] == "event":  # after its welcome
                got.append(frame["n"])
        assert got == list(range(len(frames)))
        conn.close()
