"""The host semaphore behind the cluster-wide LLM host limit on Ray, run on a plain event loop."""

from __future__ import annotations

import asyncio

import pytest

from tournament.limits import HostSemaphore

HOUR = 3600.0


def test_no_more_slots_than_the_limit() -> None:
    async def scenario() -> list[int | None]:
        semaphore = HostSemaphore("http://h:1", 2)
        return [await semaphore.acquire(HOUR, 0) for _ in range(3)]

    first, second, third = asyncio.run(scenario())
    assert first is not None
    assert second is not None
    assert first != second
    assert third is None  # no slot free and no time to wait


def test_a_released_slot_wakes_a_waiter() -> None:
    async def scenario() -> int | None:
        semaphore = HostSemaphore("http://h:1", 1)
        held = await semaphore.acquire(HOUR, 0)
        assert held is not None
        waiter = asyncio.create_task(semaphore.acquire(HOUR, HOUR))
        for _ in range(1000):  # until the waiter is parked on the condition (a few loop turns)
            if semaphore._changed._waiters:
                break
            await asyncio.sleep(0)
        assert semaphore._changed._waiters
        await semaphore.release(held)
        return await asyncio.wait_for(waiter, 10)

    assert asyncio.run(scenario()) is not None


def test_a_lease_its_holder_never_returned_comes_back_once() -> None:
    async def scenario() -> tuple[int | None, int, int | None]:
        semaphore = HostSemaphore("http://h:1", 1)
        dead = await semaphore.acquire(0, 0)  # expires at once, as if its worker had died
        assert dead is not None
        alive = await semaphore.acquire(HOUR, 0)
        await semaphore.release(dead)  # a late return of the expired lease frees nothing
        return alive, await semaphore.in_use(), await semaphore.acquire(HOUR, 0)

    alive, in_use, third = asyncio.run(scenario())
    assert alive is not None
    assert in_use == 1
    assert third is None


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        HostSemaphore("http://h:1", 0)
