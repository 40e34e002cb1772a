"""The pool of requests each LLM host allows: one explicit limit per host, set once per process.

A host's limit mirrors what its server runs in parallel (Ollama's OLLAMA_NUM_PARALLEL): more requests
in flight only queue on the GPU. Every seat on a host shares the host's one semaphore, so the limit
belongs to the host, not to a seat: a second, different value for the same host is a configuration
error and is refused, never silently ignored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol


class Limiter(Protocol):
    """What an LLM seat holds around each request: one of its host's slots (a context manager).

    In one process it is the host's semaphore below; a tournament on Ray hands its seats one that
    holds across the cluster (tournament/limits.py). Entering may raise `CallFailed` when no slot can
    be had: that one request fails, as a timeout would.
    """

    def __enter__(self) -> object:
        """Take a slot (blocks until one is free)."""
        ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> object:
        """Give the slot back."""
        ...


@dataclass(frozen=True, slots=True)
class HostPool:
    """One host's limit and the semaphore that enforces it."""

    host: str
    parallel: int
    limiter: threading.BoundedSemaphore


class HostPools:
    """The hosts of a process and their limits (thread-safe)."""

    def __init__(self) -> None:
        self._pools: dict[str, HostPool] = {}
        self._lock = threading.Lock()

    def configure(self, host: str, parallel: int) -> HostPool:
        """The pool of `host`, created with `parallel` requests in flight at most.

        Raises ValueError if `host` already has a different limit.
        """
        if parallel < 1:
            raise ValueError(f"LLM host {host}: parallel must be at least 1, got {parallel}")
        with self._lock:
            pool = self._pools.get(host)
            if pool is None:
                pool = self._pools[host] = HostPool(host, parallel, threading.BoundedSemaphore(parallel))
            elif pool.parallel != parallel:
                raise ValueError(
                    f"LLM host {host} is already limited to {pool.parallel} parallel requests; "
                    f"refusing {parallel} (one limit per host: give every seat on it the same value)"
                )
            return pool

    def get(self, host: str) -> HostPool | None:
        """The pool of `host`, if configured."""
        with self._lock:
            return self._pools.get(host)


#: The process's hosts: every LLM seat without an injected limiter takes its host's pool from here.
HOST_POOLS = HostPools()


def host_limiter(host: str, parallel: int) -> threading.BoundedSemaphore:
    """The one semaphore of `host` in `HOST_POOLS`; ValueError if the host has another limit."""
    return HOST_POOLS.configure(host, parallel).limiter
