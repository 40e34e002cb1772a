"""What a peer can make one `Connection` hold, and for how long (in-memory streams, `autojump_clock`).

Message limits count UTF-8 bytes; the limit before hello is lower; the parts of unfinished messages are
counted against a budget shared by connections; a frame or message must be complete within
`message_timeout` however it trickles in; and everything is released when the connection ends.
"""

from __future__ import annotations

import dataclasses

import pytest
import trio
import trio.testing
from wsproto.events import CloseConnection, Ping, TextMessage

from net.errors import CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_TRY_AGAIN_LATER
from net.inbox import ReceiveBudget
from tests.net.connection_kit import CONFIG, Harness, served

TIMEOUT = dataclasses.replace(CONFIG, message_timeout=3.0, ping_interval=1.0, rate=1e9, burst=1e9)


async def closed_with(h: Harness) -> CloseConnection:
    with trio.fail_after(1):
        close = await h.peer.until(CloseConnection)
    assert isinstance(close, CloseConnection)
    return close


# ---------------------------------------------------------------------------------------- size in bytes


async def test_the_message_limit_counts_utf8_bytes_not_characters(autojump_clock):
    async with served() as h:  # max_message=100
        await h.peer.send(TextMessage(data="\N{GRINNING FACE}" * 30))  # 30 characters, 120 bytes
        close = await closed_with(h)
        assert (close.code, close.reason) == (CLOSE_TOO_BIG, "message too big (limit 100 bytes)")
        assert h.messages == []


async def test_a_message_of_exactly_the_limit_in_bytes_passes(autojump_clock):
    async with served() as h:
        await h.peer.send(TextMessage(data="\N{GRINNING FACE}" * 25))  # 100 bytes
        with trio.fail_after(1):
            assert await h.next_message() == "\N{GRINNING FACE}" * 25


async def test_the_limit_before_hello_is_lower_until_lifted(autojump_clock):
    config = dataclasses.replace(CONFIG, max_message_before_hello=50)
    async with served(config) as h:
        await h.peer.send(TextMessage(data="a" * 60))
        close = await closed_with(h)
        assert (close.code, close.reason) == (CLOSE_TOO_BIG, "message too big (limit 50 bytes before hello)")
    async with served(config) as h:
        await h.peer.send(TextMessage(data="a" * 50))
        with trio.fail_after(1):
            assert await h.next_message() == "a" * 50
        h.conn.lift_message_limit()
        await h.peer.send(TextMessage(data="b" * 100))
        with trio.fail_after(1):
            assert await h.next_message() == "b" * 100


# ---------------------------------------------------------------------------------------- shared budget


async def test_unfinished_messages_share_one_budget(autojump_clock):
    budget = ReceiveBudget(150)
    async with served(budget=budget) as first, served(budget=budget) as second:
        await first.peer.send(TextMessage(data="\N{GRINNING FACE}" * 20, message_finished=False))  # 80 bytes
        await trio.testing.wait_all_tasks_blocked()
        assert budget.used == 80
        await second.peer.send(TextMessage(data="b" * 80, message_finished=False))  # 160 in all: over
        close = await closed_with(second)
        assert close.code == CLOSE_TRY_AGAIN_LATER
        assert close.reason == "server busy: unfinished messages over 150 bytes in all"
        assert budget.used == 80
        assert first.conn.is_open  # the one that would go over is closed, not the others
        await first.peer.send(TextMessage(data="!"))
        with trio.fail_after(1):
            assert await first.next_message() == "\N{GRINNING FACE}" * 20 + "!"
        assert budget.used == 0


async def test_a_message_in_one_piece_takes_nothing_from_the_budget(autojump_clock):
    budget = ReceiveBudget(10)
    async with served(budget=budget) as h:
        await h.peer.send(TextMessage(data="x" * 90))
        with trio.fail_after(1):
            assert await h.next_message() == "x" * 90


# ---------------------------------------------------------------------------------------- released at the end


async def test_what_a_vanished_peer_left_unfinished_is_released(autojump_clock):
    budget = ReceiveBudget()
    async with served(budget=budget) as h:
        session = object()  # what the owner's callbacks would keep alive
        h.conn.on_message = lambda text, owner=session: None  # type: ignore[misc]
        await h.peer.send(TextMessage(data="x" * 90, message_finished=False))
        await trio.testing.wait_all_tasks_blocked()
        assert budget.used == 90
        await h.peer.stream.aclose()  # gone, mid-message
        with trio.fail_after(1):
            await h.done.wait()
        assert budget.used == 0
        assert h.conn.on_message.__defaults__ is None  # the owner's callback is gone
        assert h.conn.on_bytes is None


# ---------------------------------------------------------------------------------------- completion time


async def trickle(h: Harness, data: bytes, every: float) -> None:
    """Send `data` a byte at a time, one every `every` seconds (virtual), until done or closed."""
    for byte in data:
        if h.done.is_set():
            return
        await h.peer.stream.send_all(bytes([byte]))
        await trio.sleep(every)


async def assert_trickle_is_closed(h: Harness, data: bytes) -> None:
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        # Every byte comes well within the ping interval, so the heartbeat alone would never drop it.
        nursery.start_soon(trickle, h, data, TIMEOUT.ping_interval / 4)
        close = await h.peer.until(CloseConnection)
        nursery.cancel_scope.cancel()
    assert isinstance(close, CloseConnection)
    assert (close.code, close.reason) == (CLOSE_POLICY, "message not completed within 3 s")
    assert TIMEOUT.message_timeout <= trio.current_time() - start < TIMEOUT.message_timeout + 1
    with trio.fail_after(TIMEOUT.close_timeout + 1):
        await h.done.wait()


async def test_a_frame_trickled_byte_by_byte_is_closed_after_the_message_timeout(autojump_clock):
    async with served(TIMEOUT) as h:
        await assert_trickle_is_closed(h, h.peer.ws.send(TextMessage(data="z" * 90)))
        assert h.messages == []


async def test_a_trickled_frame_header_is_closed_too(autojump_clock):
    async with served(TIMEOUT) as h:
        header = bytes((0x81, 0xFF)) + (1 << 20).to_bytes(8, "big") + b"\0\0\0\0"  # 14 bytes, slowly
        await assert_trickle_is_closed(h, header * 2)


async def test_a_trickled_control_frame_is_closed_too(autojump_clock):
    async with served(TIMEOUT) as h:
        await assert_trickle_is_closed(h, h.peer.ws.send(Ping(payload=b"p" * 100)))


async def test_a_fragmented_message_that_never_ends_is_closed(autojump_clock):
    async with served(TIMEOUT) as h:
        start = trio.current_time()
        closes: list[CloseConnection] = []
        with trio.fail_after(10):
            while not closes:  # a fragment and a ping every half second: all of them complete frames
                await h.peer.send(TextMessage(data="f", message_finished=False), Ping(payload=b"!"))
                await trio.sleep(0.5)
                closes = [e for e in await h.peer.read() if isinstance(e, CloseConnection)]
        assert (closes[0].code, closes[0].reason) == (CLOSE_POLICY, "message not completed within 3 s")
        assert TIMEOUT.message_timeout <= trio.current_time() - start < TIMEOUT.message_timeout + 1


@pytest.mark.deadline(60)  # virtual seconds
async def test_each_message_has_its_own_time(autojump_clock):
    async with served(dataclasses.replace(TIMEOUT, ping_interval=100.0)) as h:
        for i in range(12):  # 12 messages of 2 s each: 24 s in all, far over the limit, none over it
            frame = h.peer.ws.send(TextMessage(data=f"message {i:02}"))
            await h.peer.stream.send_all(frame[:4])
            await trio.sleep(2.0)
            await h.peer.stream.send_all(frame[4:])
            with trio.fail_after(1):
                assert await h.next_message() == f"message {i:02}"
        assert h.conn.is_open
