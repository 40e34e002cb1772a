"""The seam between pykka's threads and the Trio thread (STACK_NOTES §3: the rules here are verified).

- Actor -> Trio: `Bridge.call_soon` uses `TrioToken.run_sync_soon` (about 10 µs, never blocks, FIFO);
  the callback runs in the Trio thread and can never raise into Trio (an exception escaping a
  `run_sync_soon` callback would crash `trio.run`), and a finished Trio run is not an error.
- Trio -> actor: plain `ActorRef.tell`, which never blocks. Nothing here waits on a pykka future.

`TrioRecipient` is an actor whose mailbox is drained by the Trio thread instead of a thread of its own:
the game master `tell`s it messages like any seat or subscriber, and `receive` handles them one at a
time, in order, in the Trio thread. Every socket session is built on it, so a thousand spectators cost
no thread at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import trio

logger = logging.getLogger(__name__)


class Bridge:
    """Runs callables in the Trio thread, from any thread."""

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        """`token` is the Trio run's token (`trio.lowlevel.current_trio_token()`)."""
        self._token = token

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` soon in the Trio thread. Never blocks, never raises (a gone Trio drops it)."""
        try:
            self._token.run_sync_soon(_guarded, fn, args)
        except trio.RunFinishedError:
            logger.debug("trio is gone: %r dropped", fn)


def _guarded(fn: Callable[..., None], args: tuple[Any, ...]) -> None:
    try:
        fn(*args)
    except Exception:  # must not escape into trio.run (it would kill the whole server)
        logger.exception("callback %r failed in the trio thread", fn)


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
