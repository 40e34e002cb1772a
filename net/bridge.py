"""The seam between pykka's threads and the Trio thread.

Two calls that look natural are traps, so nothing here uses them. `trio.from_thread.run` from an actor: if
Trio shuts down while the actor waits in it, the actor gets `trio.Cancelled`, a `BaseException`, and pykka
answers any `BaseException` in an actor by stopping every actor in the process. A pykka future in the Trio
thread: `.get()` freezes the event loop, and `await` raises `TypeError` (pykka's `__await__` is for asyncio).

- Actor -> Trio: `Bridge.call_soon` queues the call and, when the queue was empty, wakes the Trio thread
  with one `TrioToken.run_sync_soon` (about 10 µs and a syscall each). A game master fanning one event out
  to eight seats and two views thus pays one wake-up, not ten; the calls run in the Trio thread in the
  order they were made, a batch per wake-up (calls made during a batch wait for the next one, so sockets
  get their turn in between). Never blocks, never raises: a callback's exception is logged, not raised
  into Trio (it would crash `trio.run`), and a finished Trio run is not an error.
- Trio -> actor: plain `ActorRef.tell`, which never blocks. Nothing here waits on a pykka future.

`TrioRecipient` is an actor whose mailbox is drained by the Trio thread instead of a thread of its own:
the game master `tell`s it messages like any seat or subscriber, and `receive` handles them one at a
time, in order, in the Trio thread. Every socket session is built on it, so a thousand spectators cost
no thread at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import trio

logger = logging.getLogger(__name__)


class Bridge:
    """Runs callables in the Trio thread, from any thread, in the order they were asked for."""

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        """`token` is the Trio run's token (`trio.lowlevel.current_trio_token()`)."""
        self._token = token
        self._lock = threading.Lock()
        self._pending: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._scheduled = False  # a `_run_pending` is queued in Trio and will see `_pending`

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` soon in the Trio thread. Never blocks, never raises (a gone Trio drops it)."""
        with self._lock:
            self._pending.append((fn, args))
            if self._scheduled:
                return
            self._scheduled = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._token.run_sync_soon(self._run_pending)
        except trio.RunFinishedError:
            with self._lock:
                dropped, self._pending, self._scheduled = self._pending, [], False
            logger.debug("trio is gone: %d calls dropped", len(dropped))

    def _run_pending(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        for fn, args in batch:
            try:
                fn(*args)
            except Exception:  # must not escape into trio.run (it would kill the whole server)
                logger.exception("callback %r failed in the trio thread", fn)
        with self._lock:
            again = self._scheduled = bool(self._pending)
        if again:
            self._wake()


class TrioRecipient:
    """An actor whose mailbox is drained by the Trio thread: `tell` from anywhere, `receive` in Trio."""

    def __init__(self, bridge: Bridge) -> None:
        """Messages told to this object are handled by `receive` in the Trio thread, in order."""
        self._bridge = bridge

    def tell(self, message: Any) -> None:
        """Queue `message` (any thread; never blocks)."""
        self._bridge.call_soon(self.receive, message)

    def receive(self, message: Any) -> None:
        """Handle one message (Trio thread)."""
        raise NotImplementedError
