"""The per-tick flusher: the connections that got data during a Trio tick are written once, after it.

Every frame queued on a socket connection during one tick (a broadcast to many spectators, a reply and
an event) is joined and written with one non-blocking `send` per connection at the end of the tick, with
no task hop per recipient. What the kernel does not take is left to the connection's writer task.
"""

from __future__ import annotations

from typing import Protocol

import trio


class Flushable(Protocol):
    """A connection with queued data to write now."""

    def _flush_now(self) -> None: ...


class _Flusher:
    """Writes the connections that got data during a Trio tick, once, after that tick's callbacks."""

    def __init__(self) -> None:
        self._pending: list[Flushable] = []
        self._scheduled = False

    def add(self, connection: Flushable) -> None:
        self._pending.append(connection)
        if not self._scheduled:
            self._scheduled = True
            trio.lowlevel.current_trio_token().run_sync_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for connection in pending:
            connection._flush_now()


_FLUSHER: trio.lowlevel.RunVar[_Flusher] = trio.lowlevel.RunVar("loupgarou_flusher")


def flush_at_end_of_tick(connection: Flushable) -> None:
    """Have `connection._flush_now()` called once this tick's callbacks have run (Trio thread)."""
    try:
        flusher = _FLUSHER.get()
    except LookupError:
        flusher = _Flusher()
        _FLUSHER.set(flusher)
    flusher.add(connection)
