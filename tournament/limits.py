"""LLM host limits that hold across a Ray cluster: one named Ray actor per host, a counting semaphore.

In one process every seat on a host shares the host's semaphore (actors/llm/pool.py), but on Ray each
worker process has its own, so N workers would put N times the limit on one GPU host. The Ray executor
therefore creates, before any game is submitted, one `HostSemaphore` actor per LLM host of the plan
(named after the run and the host), and each worker's LLM seats take a `RayHostLimiter` that looks the
actor up by name (`ray.get_actor`) and holds one of its slots around each request.

A slot is a lease: it comes back by itself `lease_s` after it was granted, so a worker that dies while
holding one (a crashed machine, `os._exit`) costs the host that slot for at most that long instead of
for the rest of the tournament. The lease is longer than any request can last (the seat's own HTTP
timeout bounds it), so a live holder never loses its slot early.

`ray` is imported only where these run (the Ray executor and its workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from actors.llm import LLMSettings
from actors.llm.backends import CallFailed

logger = logging.getLogger(__name__)

#: Ray namespace of the host limit actors (a cluster shared by several drivers finds each run's by name).
NAMESPACE = "loup-garou-llm-hosts"
#: Added to a request's own timeout for its slot's lease (answer read, Ray's round trips).
LEASE_MARGIN_S = 30.0
#: Added to the wait for a slot when waiting on the actor's answer (Ray's round trip).
CALL_MARGIN_S = 10.0


def actor_name(run: str, host: str) -> str:
    """The name of `host`'s limit actor in tournament run `run`."""
    return f"{run}:{host}"


class HostSemaphore:
    """A counting semaphore of leased slots, as a Ray async actor (one per LLM host).

    Every method runs on the actor's one event loop, so no lock is needed beyond the condition that
    wakes waiters when a slot comes back.
    """

    def __init__(self, host: str, parallel: int) -> None:
        """`parallel` slots for `host`."""
        if parallel < 1:
            raise ValueError(f"LLM host {host}: parallel must be at least 1, got {parallel}")
        self.host = host
        self.parallel = parallel
        self._leases: dict[int, float] = {}  # lease -> when it expires (loop time)
        self._issued = 0
        self._changed = asyncio.Condition()

    async def acquire(self, lease_s: float, wait_s: float) -> int | None:
        """A slot for `lease_s` seconds (its lease number), or None if none came free within `wait_s`."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_s
        async with self._changed:
            while True:
                now = loop.time()
                for lease, expires in list(self._leases.items()):
                    if expires <= now:  # its holder died or hung: the slot is the host's again
                        del self._leases[lease]
                        logger.warning("LLM host %s: lease %s expired unreturned", self.host, lease)
                if len(self._leases) < self.parallel:
                    self._issued += 1
                    self._leases[self._issued] = now + lease_s
                    return self._issued
                if now >= give_up:
                    return None
                wake = min(give_up, *self._leases.values())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wake - now)

    async def release(self, lease: int) -> None:
        """Give back slot `lease` (one that expired already is ignored: it was given back then)."""
        async with self._changed:
            if self._leases.pop(lease, None) is not None:
                self._changed.notify_all()

    async def in_use(self) -> int:
        """Slots held now."""
        return len(self._leases)


def create_host_semaphores(run: str, limits: Mapping[str, int]) -> list[Any]:
    """The driver's half: one named `HostSemaphore` actor per host (kept alive by the handles returned;
    `ray.kill` them when the run ends). Takes no CPU, so it never holds a game's slot."""
    import ray  # noqa: PLC0415 - optional extra

    actor: Any = ray.remote(num_cpus=0, max_restarts=0)(HostSemaphore)
    handles: list[Any] = [
        actor.options(name=actor_name(run, host), namespace=NAMESPACE).remote(host, parallel)
        for host, parallel in limits.items()
    ]
    ray.get([h.in_use.remote() for h in handles])  # created and reachable before any game asks
    return handles


@dataclass(frozen=True)
class RayHostLimits:
    """What a worker needs to find a run's host limits: the run's name and how long a seat waits."""

    run: str
    wait_s: float

    def limiter_for(self, settings: LLMSettings) -> RayHostLimiter:
        """The limiter of `settings.host` (an `actors.specs.LimiterFor`)."""
        return RayHostLimiter(
            actor_name(self.run, settings.host),
            settings.host,
            lease_s=settings.timeout_s + LEASE_MARGIN_S,
            wait_s=self.wait_s,
        )


class RayHostLimiter:
    """A seat's side of a host's `HostSemaphore`: a context manager around each request (the
    `actors.llm.Limiter` an LLMAgent takes). Threads share it safely: each holds its own lease."""

    def __init__(self, name: str, host: str, *, lease_s: float, wait_s: float) -> None:
        """The limiter of actor `name` (the limit of `host`); a slot is held at most `lease_s` and
        waited for at most `wait_s`."""
        self.name = name
        self.host = host
        self.lease_s = lease_s
        self.wait_s = wait_s
        self._actor: Any = None
        self._held = threading.local()

    def _semaphore(self) -> Any:
        if self._actor is None:
            import ray  # noqa: PLC0415 - optional extra

            self._actor = ray.get_actor(self.name, namespace=NAMESPACE)
        return self._actor

    def acquire(self, timeout: float | None = None) -> int | None:
        """A slot's lease, or None if none came free within `timeout` (default `wait_s`).

        Raises CallFailed if the host's limit cannot be reached (its actor is gone)."""
        import ray  # noqa: PLC0415 - optional extra

        wait_s = self.wait_s if timeout is None else timeout
        try:
            ref = self._semaphore().acquire.remote(self.lease_s, wait_s)
            lease: int | None = ray.get(ref, timeout=wait_s + CALL_MARGIN_S)
        except Exception as exc:  # Ray's errors (actor died, no answer) have no common base to name
            raise CallFailed(
                f"the request limit of {self.host} is unreachable: {type(exc).__name__}"
            ) from exc
        return lease

    def release(self, lease: int) -> None:
        """Give `lease` back (without waiting: the actor orders it before any later acquire of ours)."""
        try:
            self._semaphore().release.remote(lease)
        except Exception as exc:  # the actor is gone: nothing left to give back to
            logger.warning("LLM host %s: slot not given back: %s", self.host, exc)

    def __enter__(self) -> RayHostLimiter:
        """Hold a slot; CallFailed if none came free within `wait_s` (that request fails)."""
        lease = self.acquire()
        if lease is None:
            raise CallFailed(f"no request slot free on {self.host} within {self.wait_s:g} s")
        self._held.__dict__.setdefault("leases", []).append(lease)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Give the slot back."""
        self.release(self._held.leases.pop())
