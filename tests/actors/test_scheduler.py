"""The timer heap gives back what cancelled timers held (a game master re-arms a deadline every phase)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from actors.scheduler import ManualScheduler, ThreadingScheduler


class _Message:
    """A message whose lifetime the test can watch."""


class _Sink:
    def tell(self, message: object) -> None:
        raise AssertionError(f"a cancelled timer delivered {message!r}")


@pytest.mark.parametrize("make", [ThreadingScheduler, ManualScheduler])
def test_cancelled_timers_do_not_pile_up(make: type[ThreadingScheduler] | type[ManualScheduler]) -> None:
    scheduler = make()
    try:
        for _ in range(5000):
            scheduler.call_later(3600.0, _Sink(), _Message()).cancel()  # type: ignore[arg-type]
        assert scheduler.held() <= 128
    finally:
        scheduler.close()


@pytest.mark.parametrize("make", [ThreadingScheduler, ManualScheduler])
def test_a_cancelled_timer_lets_go_of_its_message_and_recipient(
    make: type[ThreadingScheduler] | type[ManualScheduler],
) -> None:
    scheduler = make()
    try:
        message, sink = _Message(), _Sink()
        watched = weakref.ref(message), weakref.ref(sink)
        timer = scheduler.call_later(3600.0, sink, message)  # type: ignore[arg-type]
        timer.cancel()
        del message, sink
        gc.collect()
        assert [ref() for ref in watched] == [None, None]
    finally:
        scheduler.close()


def test_live_timers_survive_the_compaction() -> None:
    scheduler = ManualScheduler()
    delivered: list[object] = []

    class Box:
        def tell(self, message: object) -> None:
            delivered.append(message)

    box = Box()
    for i in range(1000):
        timer = scheduler.call_later(float(i), box, i)  # type: ignore[arg-type]
        if i % 10:
            timer.cancel()
    assert scheduler.fire_all() == 100
    assert delivered == list(range(0, 1000, 10))


class _Box:
    """Keeps what it is told, in order; `arrived` is set at each message."""

    def __init__(self) -> None:
        self.delivered: list[object] = []
        self.arrived = threading.Condition()

    def tell(self, message: object) -> None:
        with self.arrived:
            self.delivered.append(message)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.delivered) >= count, timeout)


def test_the_timer_thread_delivers_in_due_order_whichever_timer_was_armed_first() -> None:
    """The thread is woken only when a new timer falls due before the one it sleeps on: an earlier
    one must still wake it, a later one must still be delivered after it, and a cancelled head
    (a game master's last deadline) must not hide the live timers behind it."""
    scheduler, box = ThreadingScheduler(), _Box()
    try:
        scheduler.call_later(3600.0, box, "late")  # type: ignore[arg-type]
        scheduler.call_later(0.05, box, "cancelled").cancel()  # type: ignore[arg-type]
        scheduler.call_later(0.02, box, "second")  # type: ignore[arg-type]
        scheduler.call_later(0.0, box, "first")  # type: ignore[arg-type]  # earlier: wakes the thread
        scheduler.call_later(0.06, box, "third")  # type: ignore[arg-type]  # later: no wake-up needed
        assert box.wait_for(3, timeout=10.0)
        assert box.delivered == ["first", "second", "third"]
    finally:
        scheduler.close()
