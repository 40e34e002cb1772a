"""The timer heap gives back what cancelled timers held (a game master re-arms a deadline every phase)."""

from __future__ import annotations

import gc
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
