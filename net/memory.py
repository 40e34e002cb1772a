"""Giving memory back to the system once a crowd of connections has gone.

A flood of connections (1,500 idle spectators, or 1,000 that each send most of a 1 MB message and
leave) raises the server's memory while it lasts; the issue is what remains after. None of those
connections' objects survive them (tests/net/test_limits.py), yet with CPython's default small-object
allocator (pymalloc) the process kept its peak: pymalloc returns a 1 MiB arena to the system only when
every block in it is free, and the few hundred objects allocated meanwhile that do live on (a set's
larger table, a cached exception part) are spread over the arenas the flood used. Measured on a server
with 1,500 idle spectators that then left: 16 arenas before, 54 after, RSS 40 -> 90 MiB for the same
live data; `gc.collect()` brought it to 70-80 MiB.

With the C allocator (`PYTHONMALLOC=malloc`, see the CPython docs on PYTHONMALLOC), glibc's
`malloc_trim(0)` hands back every free page wherever it lies in the heap (glibc >= 2.8: it no longer
only trims the heap's top), so after the same flood and one trim the process was at 46-48 MiB. Hence:

- `use_system_allocator()`: a server process (run.py, the abuse benchmark's host) re-executes itself
  once under `PYTHONMALLOC=malloc` when it runs on glibc and the variable is not set. Setting the
  variable to anything (`PYTHONMALLOC=pymalloc`) keeps that choice.
- `keep_memory()`: a task of the server that, once the number of open connections has fallen well
  below its peak since the last time, collects garbage and trims (at most every `min_interval_s`),
  and trims the heap alone every `trim_every_s`: the games that go on after a flood allocate in the
  holes it left, page after page, and those pages stay with the process until a trim; while few
  connections are open, that trim follows a full collection (`collect_below`). A hosting
  process freezes its start-up objects (`freeze_at_start`) so that the collection, which stops the
  server's thread, scans only what the server made since.
  The game's throughput does not depend on the choice of allocator within noise
  (`python -m bench.many_games`, docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import trio

logger = logging.getLogger(__name__)

ALLOCATOR_ENV = "PYTHONMALLOC"


def glibc() -> bool:
    """True when this process runs on glibc (where `malloc_trim` exists)."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def use_system_allocator(environ: dict[str, str] | None = None) -> None:
    """Re-execute this process under `PYTHONMALLOC=malloc` unless the variable is set or this is not glibc.

    Call it first thing in a program's entry point: everything before it runs twice. It returns only
    when nothing is to be done (the variable set, by the user or by the re-execution, or not glibc).
    """
    env = os.environ if environ is None else environ
    if ALLOCATOR_ENV in env or not glibc():
        return
    env[ALLOCATOR_ENV] = "malloc"
    # sys.orig_argv keeps the interpreter's own options (-m, -X ...), which sys.argv has lost.
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], dict(env))


def _load_malloc_trim() -> Callable[[int], int] | None:
    if not glibc():
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def trim_heap() -> float:
    """Hand free heap pages back to the system (glibc; nothing elsewhere); the seconds it took."""
    start = time.perf_counter()
    if _malloc_trim is not None:
        _malloc_trim(0)
    return time.perf_counter() - start


def give_back() -> float:
    """Collect garbage and hand free heap pages back to the system; the seconds it took."""
    start = time.perf_counter()
    gc.collect()  # also empties CPython's free lists, whose blocks would pin pages the trim could free
    trim_heap()
    return time.perf_counter() - start


class ConnectionCounts(Protocol):
    """What `keep_memory` reads: the open connections now and their peak (net/admission.py)."""

    connections: int
    peak_connections: int
    memory_returns: int


@dataclass(frozen=True, slots=True)
class MemoryPolicy:
    """When the server gives memory back (see the module doc)."""

    #: Connections that must have gone since the peak (and at least half of the peak) before a trim.
    min_drop: int = 128
    check_every_s: float = 1.0
    #: At least this long between two trims: a full collection pauses the server's thread (about
    #: 10-30 ms with a few thousand connections' objects).
    min_interval_s: float = 5.0
    #: Move every object alive when the server starts (modules, functions, classes: most of a fresh
    #: process's 40,000-odd tracked objects) out of the collector's sight while it runs (`gc.freeze`),
    #: so a full collection scans only what the server made since. Measured on a hosting process: a
    #: full collection took 80-90 ms before and well under 1 ms after, and that pause is the server's
    #: thread standing still for every client. Process-wide, hence off for a server embedded in a
    #: bigger program (tests); the server unfreezes when it stops.
    freeze_at_start: bool = False
    #: Seconds between two periodic trims (None: never). After a flood the heap is riddled with free
    #: holes, and the games that go on allocate in them, page after page: measured after a flood, 53
    #: MiB before a trim and 48-50 after, for the same live data. A trim walks the free lists and took
    #: 0.1-0.7 ms. Under the memory attack of `python -m bench.abuse`, RSS after / control was 108-109%
    #: with a trim every 5 s and 106-107% every 2 s (3 repeats each, same machine, same hour).
    trim_every_s: float | None = 2.0
    #: With fewer connections open than this, the periodic trim is preceded by a full collection (0:
    #: never). The collection empties CPython's free lists (up to 2,000 tuples of each size, and lists,
    #: dicts, floats), whose blocks, spread over the heap by a flood, pin pages a trim cannot free:
    #: measured after the memory attack, 53 MiB with trims alone and 51 after a collection, which found
    #: no garbage. It walks every tracked object: 1-2 ms with a few games and their clients (start-up
    #: frozen), 60-100 ms with 1,000 connections, hence the bound (a crowd gets trims alone).
    collect_below: int = 128
    #: The largest share of the server's thread periodic collections may take: after one that took
    #: t seconds, the next comes t / collect_duty seconds later at the soonest (trims alone meanwhile).
    #: Many games hosted with few connections (in-process seats) make a collection long.
    collect_duty: float = 0.005

    def __post_init__(self) -> None:
        """Refuse a duty that would divide by zero or never let a collection happen."""
        if not 0 < self.collect_duty <= 1:
            raise ValueError(f"collect_duty must be in (0, 1], not {self.collect_duty}")

    def due(self, peak: int, before: int, now: int) -> bool:
        """Whether a crowd has gone: `peak - now` connections closed since the peak, and none in the
        last check (`before` the count then), so a crowd still being torn down is not collected twice."""
        return peak - now >= self.min_drop and now * 2 <= peak and now >= before


async def keep_memory(
    counts: ConnectionCounts,
    policy: MemoryPolicy = MemoryPolicy(),
    release: Callable[[], float] = give_back,
    trim: Callable[[], float] = trim_heap,
) -> None:
    """Run forever (Trio): after a crowd has gone, give memory back; trim the heap now and then
    (see `MemoryPolicy`)."""
    if policy.freeze_at_start:
        gc.collect()  # garbage left by the start-up would otherwise be frozen with it, for good
        gc.freeze()
        logger.debug("%d objects frozen at start", gc.get_freeze_count())
    try:
        await _watch(counts, policy, release, trim)
    finally:
        if policy.freeze_at_start:
            gc.unfreeze()


async def _watch(
    counts: ConnectionCounts,
    policy: MemoryPolicy,
    release: Callable[[], float],
    trim: Callable[[], float],
) -> None:
    last = -policy.min_interval_s
    trimmed = collect_at = trio.current_time()
    before = counts.connections
    while True:
        await trio.sleep(policy.check_every_s)
        peak, now = counts.peak_connections, counts.connections
        due = policy.due(peak, before, now) and trio.current_time() - last >= policy.min_interval_s
        before = now
        if not due:
            if policy.trim_every_s is not None and trio.current_time() - trimmed >= policy.trim_every_s:
                if counts.connections < policy.collect_below and trio.current_time() >= collect_at:
                    collect_at = trio.current_time() + release() / policy.collect_duty
                else:
                    trim()
                trimmed = trio.current_time()
            continue
        seconds = release()
        last = trimmed = trio.current_time()
        counts.peak_connections = counts.connections
        counts.memory_returns += 1
        logger.info(
            "%d connections gone since the peak of %d: memory given back in %.1f ms",
            peak - now,
            peak,
            seconds * 1000,
        )
