"""The actor -> Trio seat of the bridge: order, batching of wake-ups, isolation of failures, shutdown.

Trio runs in a thread of its own here, as in the server; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

from net.bridge import Bridge

WAIT_S = 10.0


class CountingToken:
    """A Trio token that counts how often the Trio thread is woken."""

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.token = token
        self.wakeups = 0

    def run_sync_soon(self, fn: Callable[..., None], *args: Any) -> None:
        self.wakeups += 1
        self.token.run_sync_soon(fn, *args)


@contextlib.contextmanager
def trio_thread() -> Iterator[CountingToken]:
    """Trio running in a thread until the block ends; yields its (counting) token."""
    ready, stop = threading.Event(), threading.Event()
    tokens: list[trio.lowlevel.TrioToken] = []

    async def main() -> None:
        tokens.append(trio.lowlevel.current_trio_token())
        ready.set()
        while not stop.is_set():
            await trio.sleep(0.01)

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    assert ready.wait(WAIT_S)
    try:
        yield CountingToken(tokens[0])
    finally:
        stop.set()
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_calls_from_several_threads_all_run_in_the_order_each_thread_made_them():
    seen: list[tuple[int, int]] = []
    done = threading.Event()
    with trio_thread() as token:
        bridge = Bridge(token)  # type: ignore[arg-type]
        threads = [
            threading.Thread(target=lambda t=t: [bridge.call_soon(seen.append, (t, i)) for i in range(2000)])
            for t in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        bridge.call_soon(done.set)
        assert done.wait(WAIT_S)
    assert len(seen) == 8000
    for t in range(4):
        assert [i for s, i in seen if s == t] == list(range(2000))


def test_a_burst_of_calls_wakes_trio_once():
    release, blocked, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def hold_trio() -> None:  # keeps the Trio thread busy while the burst is queued
        blocked.set()
        assert release.wait(WAIT_S)

    with trio_thread() as token:
        bridge = Bridge(token)  # type: ignore[arg-type]
        bridge.call_soon(hold_trio)
        assert blocked.wait(WAIT_S)
        for i in range(100):
            bridge.call_soon(seen.append, i)
        bridge.call_soon(done.set)
        release.set()
        assert done.wait(WAIT_S)
        assert seen == list(range(100))
        assert token.wakeups == 2  # one for `hold_trio`, one for the whole burst


def test_a_failing_call_is_logged_and_the_next_ones_still_run(caplog):
    done = threading.Event()

    def fail() -> None:
        raise ValueError("boom")

    with trio_thread() as token, caplog.at_level(logging.ERROR, logger="net.bridge"):
        bridge = Bridge(token)  # type: ignore[arg-type]
        bridge.call_soon(fail)
        bridge.call_soon(done.set)
        assert done.wait(WAIT_S)
    assert "boom" in caplog.text


def test_calls_made_during_a_batch_wait_until_trio_has_had_its_turn():
    order: list[str] = []
    done = threading.Event()
    with trio_thread() as token:
        bridge = Bridge(token)  # type: ignore[arg-type]

        def first() -> None:
            order.append("first")
            bridge.call_soon(order.append, "queued by the batch")
            token.token.run_sync_soon(order.append, "trio's own callback")
            bridge.call_soon(done.set)

        bridge.call_soon(first)
        assert done.wait(WAIT_S)
    assert order == ["first", "trio's own callback", "queued by the batch"]


def test_after_trio_has_finished_calls_are_dropped_without_raising():
    with trio_thread() as token:
        bridge = Bridge(token)  # type: ignore[arg-type]
    ran: list[int] = []
    bridge.call_soon(ran.append, 1)
    bridge.call_soon(ran.append, 2)  # not stuck behind a wake-up that never happened
    assert ran == []
    assert token.wakeups == 2


@pytest.mark.parametrize("calls", [1, 3])
def test_nothing_is_left_pending_once_trio_has_run_the_calls(calls):
    done = threading.Event()
    with trio_thread() as token:
        bridge = Bridge(token)  # type: ignore[arg-type]
        for _ in range(calls - 1):
            bridge.call_soon(lambda: None)
        bridge.call_soon(done.set)
        assert done.wait(WAIT_S)
        follow = threading.Event()
        bridge.call_soon(follow.set)  # a later call wakes Trio again
        assert follow.wait(WAIT_S)
