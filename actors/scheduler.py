"""Deadlines as messages: a scheduler tells a recipient a message after a delay. No actor sleeps.

`ThreadingScheduler` runs one daemon thread over a heap of timers (not a thread per timer, so many
concurrent games cost one thread); `ManualScheduler` lets tests decide when time passes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import pykka

from actors.messages import Recipient

logger = logging.getLogger(__name__)


class Timer(Protocol):
    """A scheduled message that can be cancelled."""

    def cancel(self) -> None:
        """Do not deliver the message (no effect if it was already delivered)."""
        ...


class Scheduler(Protocol):
    """Tells `message` to `recipient` after `delay_s` seconds of the scheduler's clock."""

    def now(self) -> float:
        """The scheduler's clock, in seconds."""
        ...

    def call_later(self, delay_s: float, recipient: Recipient, message: Any) -> Timer:
        """Schedule a message; returns a handle to cancel it."""
        ...


COMPACT_AT = 64  # heap entries below which cancelled ones are left until they fall due


@dataclass(order=True)
class _Entry:
    due: float
    order: int
    recipient: Recipient | None = field(compare=False)
    message: Any = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        # A game master re-arms its deadline every phase and cancels the old one, which stays in the
        # heap until it would have fallen due (minutes): it must not keep the actor and message alive.
        self.cancelled = True
        self.recipient = self.message = None


class _Heap:
    """A timer heap that drops cancelled entries once they are half of it (amortised O(1) a push)."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self._compact_at = COMPACT_AT

    def push(self, entry: _Entry) -> None:
        if len(self.entries) >= self._compact_at:
            self.entries = [e for e in self.entries if not e.cancelled]
            heapq.heapify(self.entries)
            self._compact_at = max(COMPACT_AT, 2 * len(self.entries))
        heapq.heappush(self.entries, entry)

    def pop(self) -> _Entry:
        return heapq.heappop(self.entries)


def _deliver(entry: _Entry) -> None:
    if entry.recipient is None:  # cancelled after it was taken from the heap
        return
    try:
        entry.recipient.tell(entry.message)
    except pykka.ActorDeadError:  # a dead actor must not kill the timer thread; the message is moot
        logger.debug("timer message %r not delivered: recipient gone", entry.message)


class ThreadingScheduler:
    """Real time: one daemon thread delivers due messages. Call `close()` when done (joins the thread)."""

    def __init__(self) -> None:
        """Start the timer thread."""
        self._heap = _Heap()
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def call_later(self, delay_s: float, recipient: Recipient, message: Any) -> Timer:
        """Deliver `message` to `recipient` in `delay_s` seconds."""
        entry = _Entry(time.monotonic() + delay_s, next(self._counter), recipient, message)
        with self._cond:
            self._heap.push(entry)
            if self._heap.entries[0] is entry:  # else the thread already wakes earlier: a wake-up (and a
                self._cond.notify()  # GIL hand-off) per phase would be for nothing
        return entry

    def held(self) -> int:
        """Timers the heap holds now, cancelled ones not yet dropped included."""
        with self._cond:
            return len(self._heap.entries)

    def close(self) -> None:
        """Stop delivering and join the thread; pending messages are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                heap = self._heap
                while not self._closed and (not heap.entries or heap.entries[0].due > time.monotonic()):
                    timeout = heap.entries[0].due - time.monotonic() if heap.entries else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                entry = heap.pop()
            if not entry.cancelled:
                _deliver(entry)


class ManualScheduler:
    """Test time: nothing happens until the test calls `advance` or `fire_all`."""

    def __init__(self) -> None:
        """Start the clock at 0."""
        self._now = 0.0
        self._heap = _Heap()
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._added = threading.Condition(self._lock)

    def now(self) -> float:
        """The manual clock."""
        return self._now

    def call_later(self, delay_s: float, recipient: Recipient, message: Any) -> Timer:
        """Record a message due at now + `delay_s`."""
        with self._lock:
            entry = _Entry(self._now + delay_s, next(self._counter), recipient, message)
            self._heap.push(entry)
            self._added.notify_all()
        return entry

    def held(self) -> int:
        """Timers the heap holds now, cancelled ones not yet dropped included."""
        with self._lock:
            return len(self._heap.entries)

    def wait_pending(self, timeout: float) -> bool:
        """Block until at least one message is pending (True) or `timeout` seconds pass (False)."""
        with self._added:
            return self._added.wait_for(lambda: any(not e.cancelled for e in self._heap.entries), timeout)

    def pending(self) -> list[Any]:
        """The messages still to be delivered, in due order."""
        with self._lock:
            return [e.message for e in sorted(self._heap.entries) if not e.cancelled]

    def advance(self, seconds: float) -> int:
        """Move the clock forward, delivering what falls due; returns how many messages were delivered."""
        with self._lock:
            self._now += seconds
            due = []
            while self._heap.entries and self._heap.entries[0].due <= self._now:
                due.append(self._heap.pop())
        live = [e for e in due if not e.cancelled]
        for entry in live:
            _deliver(entry)
        return len(live)

    def fire_all(self) -> int:
        """Deliver every pending message now (the clock jumps to the last due time)."""
        with self._lock:
            last = max((e.due for e in self._heap.entries), default=self._now)
        return self.advance(max(0.0, last - self._now))

    def close(self) -> None:
        """Drop pending messages."""
        with self._lock:
            self._heap.entries.clear()
