"""The viewer's network thread: a spectator connection whose frames go onto a queue for the UI.

Theory of operation: `ViewerClient.start()` runs one daemon thread that connects with
`net.client.SpectatorClient` (simple-websocket, with the fix in `net.client` for frames that arrive with
the 101 response), sends `hello` with `resume_from` = the events held so far, and puts every parsed frame on a
`queue.SimpleQueue` as a `Received(at, item)`, together with `Status` items saying how the connection
is doing. The UI drains the queue with `get_nowait()`; nothing here ever waits on the UI, and the UI
never waits on this thread.

A lost connection is retried with a growing back-off, resuming where the held events end (the model
ignores the duplicates a resume may bring); a gap in `seq` also triggers a resume. After `game_over`
the server closes the connection: that is the normal end (`Link.ENDED`). A refused handshake or a
closing `error` the server will repeat (bad token, wrong protocol) ends the thread (`Link.FAILED`);
so does running out of attempts (`Link.CLOSED`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import simple_websocket

from net.client import SpectatorClient
from net.protocol import ErrorCode, ErrorFrame, EventFrame, GameOver
from viewer.model import Item, Link, Status

#: How `viewer.app.launch` hands the admin token to the viewer: not on a command line that `ps` shows.
TOKEN_ENV = "LOUPGAROU_TOKEN"

logger = logging.getLogger(__name__)

RECEIVE_TIMEOUT_S = 0.25  # seconds: how often the reader notices a stop request
FIRST_DELAY_S = 0.5  # seconds: back-off before the first reconnection; doubles up to MAX_DELAY_S
MAX_DELAY_S = 5.0  # seconds
MAX_ATTEMPTS = 8  # reconnection attempts in a row before giving up ("server closed")
_FATAL_CODES = frozenset({ErrorCode.BAD_TOKEN, ErrorCode.PROTOCOL_VERSION, ErrorCode.INVALID_FRAME})


@dataclass(frozen=True, slots=True)
class Received:
    """One queue entry: an item and when it arrived (`time.monotonic()` unless a clock was given)."""

    at: float
    item: Item


class _Fatal(Exception):
    """The server refused us in a way retrying cannot fix."""


class ViewerClient:
    """Watches one server in a background thread; see the module docstring."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        out: queue.SimpleQueue[Received] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        first_delay: float = FIRST_DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`url` is a spectator URL (`client_type=ui`); `token` the admin token for the full view."""
        self.url = url
        self.token = token
        self.out: queue.SimpleQueue[Received] = out if out is not None else queue.SimpleQueue()
        self.max_attempts = max_attempts
        self.first_delay = first_delay
        self.clock = clock
        #: Events held in order (the next `seq` wanted): the resume point.
        self.held = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._why = "connection lost"  # why the last connection ended, for the status line
        self._current: SpectatorClient | None = None
        self._thread = threading.Thread(target=self._run, name="viewer-net", daemon=True)

    def __str__(self) -> str:
        return f"ViewerClient({self.url.split('?')[0]})"

    def start(self) -> None:
        """Start the network thread (returns at once)."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop, close the connection, and wait up to `timeout` seconds for it."""
        self._stopping.set()
        with self._lock:
            current = self._current
        if current is not None:
            current.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the network thread runs."""
        return self._thread.is_alive()

    def drop_connection(self) -> None:
        """Cut the current connection abruptly, as a network failure would (for tests and demos)."""
        with self._lock:
            current = self._current
        if current is not None:
            sock = current._link.ws.sock
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------------------------------ the thread

    def _put(self, item: Item) -> None:
        self.out.put(Received(self.clock(), item))

    def _run(self) -> None:
        failures = 0
        self._put(Status(Link.CONNECTING, self.url.split("?")[0]))
        while not self._stopping.is_set():
            try:
                ended, progressed = self._session()
            except _Fatal as exc:
                self._put(Status(Link.FAILED, str(exc)))
                return
            if ended:
                self._put(Status(Link.ENDED, "game over; the server closed the connection"))
                return
            if self._stopping.is_set():
                return
            failures = 0 if progressed else failures + 1
            if failures > self.max_attempts:
                self._put(
                    Status(Link.CLOSED, f"server unreachable; gave up after {self.max_attempts} attempts")
                )
                return
            delay = min(MAX_DELAY_S, self.first_delay * 2 ** max(0, failures - 1))
            logger.info("%s: %s; attempt %d in %g s", self, self._why, failures + 1, delay)
            self._put(Status(Link.RECONNECTING, f"{self._why}; retrying in {delay:g} s", failures + 1))
            self._stopping.wait(delay)  # an interruptible back-off, not a sleep

    def _session(self) -> tuple[bool, bool]:
        """One connection: (game over, got any frame). Raises _Fatal when retrying cannot help."""
        self._why = "connection lost"
        try:
            spectator = SpectatorClient(
                self.url, token=self.token, resume_from=self.held, receive_timeout=RECEIVE_TIMEOUT_S
            )
        except simple_websocket.ConnectionError as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500:  # noqa: PLR2004 - HTTP 4xx
                raise _Fatal(f"the server refused the connection (HTTP {exc.status_code})") from None
            self._why = f"handshake failed ({exc.status_code})"
            return False, False
        except (OSError, simple_websocket.ConnectionClosed) as exc:
            self._why = f"cannot connect: {getattr(exc, 'strerror', None) or exc}"
            return False, False
        with self._lock:
            self._current = spectator
        if self._stopping.is_set():  # stop() came while connecting: it could not close this one
            spectator.close()
        try:
            return self._read(spectator)
        finally:
            with self._lock:
                self._current = None
            spectator.close()

    def _read(self, spectator: SpectatorClient) -> tuple[bool, bool]:
        over, progressed = False, False
        for frame in spectator.frames():
            progressed = True
            self._put(frame)
            match frame:
                case EventFrame(seq=seq) if seq == self.held:
                    self.held += 1
                case EventFrame(seq=seq) if seq > self.held:
                    logger.warning("%s: event %d after %d: resuming to fill the gap", self, seq, self.held)
                    self._why = f"missed events {self.held}-{seq - 1}"
                    return False, True
                case GameOver():
                    over = True
                case ErrorFrame(closing=True, code=code) if code in _FATAL_CODES:
                    raise _Fatal(f"{code.value}: {frame.message}")
                case ErrorFrame(closing=True):
                    self._why = f"server closed the connection ({frame.code.value}: {frame.message})"
        if not over and self._why == "connection lost":
            self._why = "the server closed the connection"
        return over, progressed
