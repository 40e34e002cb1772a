"""`net.connection.Connection` over in-memory streams, with a hand-driven wsproto client as the peer.

Every timer (heartbeat, close handshake, send timeout, rate limit) runs on `autojump_clock`, so the tests
take virtual seconds. `memory_stream_pair` buffers without limit (a peer that never reads does not block
us); `lockstep_stream_pair` blocks every `send_all` until the peer reads, which is how a slow consumer
looks from our side.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from wsproto.connection import ConnectionState
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    TextMessage,
)

from net.connection import ConnectionConfig
from net.errors import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_INVALID_DATA,
    CLOSE_POLICY,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
)
from tests.net.connection_kit import CONFIG, served

# ---------------------------------------------------------------------------------------- messages


async def test_text_message_goes_to_on_message(autojump_clock):
    async with served() as h:
        await h.peer.send(TextMessage(data='{"type":"ping"}'))
        with trio.fail_after(1):
            assert await h.next_message() == '{"type":"ping"}'
        assert h.conn.is_open


async def test_data_read_with_the_handshake_is_handled_first(autojump_clock):
    async with served(initial=lambda ws: ws.send(TextMessage(data="early"))) as h:
        await h.peer.send(TextMessage(data="later"))
        with trio.fail_after(1):
            assert await h.next_message() == "early"
            assert await h.next_message() == "later"


async def test_fragments_are_joined_into_one_message(autojump_clock):
    async with served() as h:
        await h.peer.send(
            TextMessage(data="hel", message_finished=False),
            TextMessage(data="lo wo", message_finished=False),
            TextMessage(data="rld", message_finished=True),
        )
        # One frame arriving a byte at a time is one message too.
        for byte in h.peer.ws.send(TextMessage(data="bit by bit")):
            await h.peer.stream.send_all(bytes([byte]))
        with trio.fail_after(1):
            assert await h.next_message() == "hello world"
            assert await h.next_message() == "bit by bit"
        assert h.messages == []


async def test_message_over_the_limit_is_closed_with_1009(autojump_clock):
    async with served() as h:
        await h.peer.send(TextMessage(data="x" * 60, message_finished=False))
        await h.peer.send(TextMessage(data="x" * 60, message_finished=True))  # 120 > 100
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_TOO_BIG
        assert h.conn.close_code == CLOSE_TOO_BIG
        assert not h.conn.is_open
        # The connection is failed (RFC 6455 7.1.7): the rest of the stream is read and dropped, not
        # parsed, and the connection ends when the peer closes TCP, as clients do after our close frame.
        await h.peer.send(close.response())
        await h.peer.stream.send_eof()
        with trio.fail_after(1):
            await h.done.wait()
        assert h.messages == []


async def test_what_follows_a_refused_message_is_dropped_unparsed(autojump_clock):
    """After 1009 the connection is failed (RFC 6455 7.1.7): the rest of the stream is read and dropped,
    never handed to wsproto, so an attacker's megabyte is not unmasked and decoded for nothing."""
    async with served() as h:
        await h.peer.send(TextMessage(data="x" * 120, message_finished=False))  # over the limit of 100
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_TOO_BIG
        parsed: list[int] = []
        feed = h.conn._ws.receive_data
        h.conn._ws.receive_data = lambda data: (parsed.append(len(data or b"")), feed(data))[1]  # type: ignore[method-assign]
        # The rest of the message: a final continuation frame of 60,000 bytes, masked with zeros (built by
        # hand: the peer's wsproto, having seen our close, would refuse to send it).
        rest = 60_000
        await h.peer.stream.send_all(bytes((0x80, 0x80 | 126)) + rest.to_bytes(2, "big") + bytes(4 + rest))
        with trio.fail_after(5):
            while not h.peer.eof:
                await h.peer.read()
        await h.peer.stream.send_eof()
        with trio.fail_after(5):
            await h.done.wait()
        assert parsed == []
        assert h.messages == []


async def test_huge_frame_is_refused_before_it_is_all_received(autojump_clock):
    async with served() as h:
        frame = h.peer.ws.send(TextMessage(data="y" * 10_000_000))
        await h.peer.stream.send_all(frame[:500])  # the header announces 10 MB; 500 bytes follow
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_TOO_BIG
        with trio.fail_after(5):
            await h.done.wait()  # the peer cannot answer (it is mid-frame): the close times out
        assert h.messages == []


async def test_binary_goes_to_on_binary_and_the_connection_stays(autojump_clock):
    async with served() as h:
        await h.peer.send(BytesMessage(data=b"\x00\x01"), TextMessage(data="after"))
        with trio.fail_after(1):
            assert await h.next_message() == "after"
        assert h.binaries == 1
        assert h.conn.is_open


async def test_a_failing_handler_closes_this_connection_with_1011(autojump_clock):
    async with served() as h:

        def broken(text: str) -> None:
            raise RuntimeError("bug")

        h.conn.on_message = broken
        await h.peer.send(TextMessage(data="boom"))
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_INTERNAL


# ---------------------------------------------------------------------------------------- heartbeat


async def test_silent_peer_is_dropped_after_the_ping_timeout(autojump_clock):
    async with served() as h:
        start = trio.current_time()
        with trio.fail_after(5):
            await h.done.wait()
        assert (h.conn.close_code, h.conn.close_reason) == (CLOSE_GOING_AWAY, "ping timeout")
        elapsed = trio.current_time() - start
        assert CONFIG.ping_interval + CONFIG.ping_timeout <= elapsed < 2 * CONFIG.ping_interval + 1
        # The ping was sent before the drop, then a close frame saying why (the peer's buffer holds both).
        events = await h.peer.read()
        assert any(isinstance(e, Ping) for e in events)
        closes = [e for e in events if isinstance(e, CloseConnection)]
        assert [(c.code, c.reason) for c in closes] == [(CLOSE_GOING_AWAY, "ping timeout")]


async def test_peer_that_answers_pings_stays(autojump_clock):
    async with served() as h:
        pings = 0

        async def answer() -> None:
            nonlocal pings
            while not h.peer.eof:
                for event in await h.peer.read():
                    if isinstance(event, Ping):
                        pings += 1
                        await h.peer.send(event.response())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer)
            await trio.sleep(8 * CONFIG.ping_interval)  # virtual time: several heartbeat rounds
            nursery.cancel_scope.cancel()
        assert pings >= 3
        assert h.conn.is_open
        assert not h.done.is_set()
        assert h.conn.close_code is None


def _tasks(task: trio.lowlevel.Task) -> list[trio.lowlevel.Task]:
    return [task, *(t for n in task.child_nurseries for child in n.child_tasks for t in _tasks(child))]


def _connection_tasks() -> list[str]:
    names = [t.name.rsplit(".", 1)[-1] for t in _tasks(trio.lowlevel.current_root_task())]
    return sorted(n for n in names if n in {"_reader", "_writer", "_heartbeat"})


async def test_an_idle_connection_runs_one_task_and_a_writer_only_while_it_has_a_backlog(autojump_clock):
    # Each task is a few KB of Trio's bookkeeping for as long as the connection lives (thousands of idle
    # spectators): the heartbeat's timers live in the reader's wait, and the writer task is started
    # only for what a plain write could not send (here: the harness's stream has no socket).
    async with served() as h:
        await trio.testing.wait_all_tasks_blocked()
        assert _connection_tasks() == ["_reader"]
        h.conn.send_nowait(b"\x81\x02hi")
        assert _connection_tasks() == ["_reader", "_writer"]
        assert [e.data for e in await h.peer.read() if isinstance(e, TextMessage)] == ["hi"]
        await trio.testing.wait_all_tasks_blocked()
        assert _connection_tasks() == ["_reader"]


def socket_pair() -> tuple[trio.abc.Stream, trio.abc.Stream]:
    """Two connected sockets: the server side gets the direct end-of-tick write (`_flush_now`)."""
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


async def test_an_empty_write_is_skipped_and_what_follows_goes_out():
    # A delivery with nothing for a view joins to b"": queued as it was, the direct write's loop never
    # saw it go out and spun in the server's thread.
    async with served(pair=socket_pair) as h:
        h.conn.send_nowait(b"\x81\x02hi")
        h.conn.send_nowait(b"")
        with trio.fail_after(5):
            first = await h.peer.until(TextMessage)
        h.conn.send_nowait(b"\x81\x03you")
        with trio.fail_after(5):
            second = await h.peer.until(TextMessage)
        assert isinstance(first, TextMessage)
        assert isinstance(second, TextMessage)
        assert (first.data, second.data) == ("hi", "you")


# ---------------------------------------------------------------------------------------- closing


async def test_peer_initiated_close_is_answered_and_ends_the_connection(autojump_clock):
    async with served() as h:
        await h.peer.send(CloseConnection(code=1000, reason="bye"))
        with trio.fail_after(1):
            reply = await h.peer.until(CloseConnection)
            await h.done.wait()
        assert reply.code == 1000
        assert h.peer.ws.state is ConnectionState.CLOSED
        assert (h.conn.close_code, h.conn.close_reason) == (1000, "bye")
        assert not h.conn.is_open


async def test_close_nowait_waits_for_the_peer_reply(autojump_clock):
    async with served() as h:
        h.conn.close_nowait(4000, "game over")
        assert not h.conn.is_open
        start = trio.current_time()
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert (close.code, close.reason) == (4000, "game over")
        await trio.sleep(1)  # virtual: still waiting for the reply
        assert not h.done.is_set()
        await h.peer.send(close.response())
        with trio.fail_after(1):
            await h.done.wait()
        assert trio.current_time() - start < CONFIG.close_timeout
        assert h.conn.close_code == 4000


async def test_close_nowait_gives_up_after_close_timeout(autojump_clock):
    async with served() as h:
        h.conn.close_nowait(1000, "done")
        start = trio.current_time()
        with trio.fail_after(CONFIG.close_timeout + 1):
            await h.done.wait()
        assert trio.current_time() - start == pytest.approx(CONFIG.close_timeout)
        assert h.conn.close_code == 1000


async def test_peer_that_only_closes_tcp_after_our_close_ends_it(autojump_clock):
    # simple-websocket's client never answers a close frame: it just closes the socket.
    async with served() as h:
        h.conn.close_nowait(4000, "game over")
        start = trio.current_time()
        with trio.fail_after(1):
            await h.peer.until(CloseConnection)
        await h.peer.stream.aclose()
        with trio.fail_after(1):
            await h.done.wait()
        assert trio.current_time() - start < CONFIG.close_timeout
        assert h.conn.close_code == 4000


async def test_broken_stream_ends_the_connection_without_raising(autojump_clock):
    async with served() as h:
        await h.peer.stream.aclose()
        h.conn.send_nowait(b"\x81\x02hi")  # the writer hits the broken stream too
        with trio.fail_after(1):
            await h.done.wait()
        assert h.conn.close_code == 1006
        assert not h.conn.is_open
        h.conn.send_nowait(b"\x81\x02hi")  # after the end: ignored, no error
        h.conn.close_nowait(1000)


# ---------------------------------------------------------------------------------------- slow consumer


async def test_slow_consumer_overflowing_the_outbox_is_dropped(autojump_clock):
    async with served(pair=trio.testing.lockstep_stream_pair) as h:
        frame = b"\x81\x7e\x02\x58" + b"z" * 600  # a 600-byte text frame
        h.conn.send_nowait(frame)
        await trio.testing.wait_all_tasks_blocked()  # the writer is now stuck in send_all
        assert h.conn.is_open
        start = trio.current_time()
        for _ in range(100):  # never blocks: the overflow drops the peer at once
            h.conn.send_nowait(frame)
        assert trio.current_time() == start
        assert not h.conn.is_open
        assert (h.conn.close_code, h.conn.close_reason) == (CLOSE_POLICY, "too slow: outbound queue full")
        with trio.fail_after(1):
            await h.done.wait()


async def test_slow_consumer_is_dropped_after_the_send_timeout(autojump_clock):
    config = ConnectionConfig(outbox_bytes=10_000_000, send_timeout=2.0, ping_interval=100.0)
    async with served(config, pair=trio.testing.lockstep_stream_pair) as h:
        start = trio.current_time()
        h.conn.send_nowait(b"\x81\x02hi")
        assert trio.current_time() == start
        with trio.fail_after(5):
            await h.done.wait()
        assert trio.current_time() - start == pytest.approx(config.send_timeout)
        assert (h.conn.close_code, h.conn.close_reason) == (CLOSE_POLICY, "too slow: send timed out")


# ---------------------------------------------------------------------------------------- rate limit


async def test_messages_past_the_burst_are_dropped_and_reported(autojump_clock):
    config = ConnectionConfig(rate=2.0, burst=5.0)
    async with served(config) as h:
        await h.peer.send(*(TextMessage(data=f"m{i}") for i in range(12)))
        await trio.testing.wait_all_tasks_blocked()
        assert h.messages == [f"m{i}" for i in range(5)]
        assert h.limited == 7
        await trio.sleep(1)  # virtual: 2 tokens come back
        await h.peer.send(*(TextMessage(data=f"n{i}") for i in range(3)))
        await trio.testing.wait_all_tasks_blocked()
        assert h.messages[5:] == ["n0", "n1"]
        assert h.limited == 8
        assert h.conn.is_open


async def test_pings_count_against_the_rate_limit(autojump_clock):
    """A ping costs the server a pong: a flood of pings is limited like a flood of messages (the pings
    past the burst get no pong and are reported as dropped), and shares the messages' budget."""
    config = ConnectionConfig(rate=2.0, burst=5.0)
    async with served(config) as h:
        await h.peer.send(*(Ping(payload=f"p{i}".encode()) for i in range(12)))
        await trio.testing.wait_all_tasks_blocked()
        pongs = [e for e in await h.peer.read() if isinstance(e, Pong)]
        assert [p.payload for p in pongs] == [f"p{i}".encode() for i in range(5)]
        assert h.limited == 7
        await trio.sleep(1)  # virtual: 2 tokens come back, shared with messages
        await h.peer.send(Ping(payload=b"q"), TextMessage(data="m"), TextMessage(data="n"))
        await trio.testing.wait_all_tasks_blocked()
        assert h.messages == ["m"]
        assert h.limited == 8
        assert h.conn.is_open


async def test_a_slow_consumer_dropped_between_frames_gets_a_1008_close_frame(autojump_clock):
    async with served() as h:
        h.conn.send_nowait(
            b"\x81\x7e\x04\xb0" + b"z" * 1200
        )  # one 1200-byte frame: over the 1000-byte outbox
        assert not h.conn.is_open
        with trio.fail_after(1):
            await h.done.wait()
        closes = [e for e in await h.peer.read() if isinstance(e, CloseConnection)]
        assert [(c.code, c.reason) for c in closes] == [(CLOSE_POLICY, "too slow: outbound queue full")]


async def test_a_slow_consumer_dropped_mid_frame_gets_no_close_frame(autojump_clock):
    async with served(pair=trio.testing.lockstep_stream_pair) as h:
        frame = b"\x81\x7e\x02\x58" + b"z" * 600
        h.conn.send_nowait(frame)
        await trio.testing.wait_all_tasks_blocked()  # the writer is stuck in send_all, mid-frame
        h.conn.send_nowait(frame)
        h.conn.send_nowait(frame)  # overflow: dropped
        with trio.fail_after(1):
            await h.done.wait()
        events: list[Event] = []
        with trio.fail_after(1):
            while not h.peer.eof:
                events += await h.peer.read()
        closes = [e.code for e in events if isinstance(e, CloseConnection)]
        assert closes == [1006]  # wsproto's name for "the connection ended without a close frame"


async def test_a_slow_consumer_dropped_after_the_send_timeout_gets_no_close_frame(autojump_clock):
    config = ConnectionConfig(send_timeout=2.0, ping_interval=100.0)
    async with served(config, pair=trio.testing.lockstep_stream_pair) as h:
        h.conn.send_nowait(b"\x81\x02hi")
        with trio.fail_after(5):
            await h.done.wait()  # the write never completed: nothing more can go on this stream
        events: list[Event] = []
        with trio.fail_after(1):
            while not h.peer.eof:
                events += await h.peer.read()
        assert [e.code for e in events if isinstance(e, CloseConnection)] == [1006]


# ---------------------------------------------------------------------------------------- protocol errors


async def test_unmasked_client_frame_is_closed_with_1002(autojump_clock):
    async with served() as h:
        await h.peer.stream.send_all(b"\x81\x02hi")  # a client must mask its frames
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_PROTOCOL_ERROR
        assert h.conn.close_code == CLOSE_PROTOCOL_ERROR
        assert h.messages == []


async def test_text_that_is_not_utf8_is_closed_with_1007(autojump_clock):
    async with served() as h:
        await h.peer.stream.send_all(b"\x81\x82\x00\x00\x00\x00\xff\xfe")  # masked (zero key), bad UTF-8
        with trio.fail_after(1):
            close = await h.peer.until(CloseConnection)
        assert close.code == CLOSE_INVALID_DATA
        assert h.conn.close_code == CLOSE_INVALID_DATA
        assert h.messages == []
