"""The receiving half of a `Connection` (net/connection.py): the reader task and what each wsproto event does.

Complete text messages go to the owner's `on_message` (synchronous, in the Trio thread; it must not
block); what the peer may make us hold, for how long and how often is the inbox's business (net/inbox.py).
A message the inbox refuses, a frame or message that takes too long, or a protocol error fails the
connection (RFC 6455 7.1.7): our close frame goes out and what the peer still sends is read and dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio
from wsproto.connection import Connection as WsProtocol
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, Pong, TextMessage
from wsproto.utilities import LocalProtocolError as WsLocalProtocolError

from net.errors import CLOSE_INTERNAL, CLOSE_POLICY
from net.inbox import Inbox, Refused

if TYPE_CHECKING:
    from net.connection import ConnectionConfig

logger = logging.getLogger(__name__)


class Receiver:
    """The reading side of `Connection`, which sets every attribute below in its `__init__`."""

    config: ConnectionConfig
    _stream: trio.abc.Stream
    _ws: WsProtocol
    _initial: bytes
    _inbox: Inbox
    _last_heard: float
    _beat_at: float
    _closing: bool
    _closing_started: trio.Event
    _finished: trio.Event
    _finish_when_flushed: bool
    _failed: bool
    close_code: int | None
    close_reason: str
    on_message: Callable[[str], None]
    on_binary: Callable[[], None]
    on_bytes: Callable[[bytes], None] | None
    on_rate_limited: Callable[[], None]

    if TYPE_CHECKING:  # the sending side, in `Connection`

        def close_nowait(self, code: int, reason: str = "") -> None: ...

        def _beat(self) -> None: ...

        def _send_control(self, event: Ping | Pong | CloseConnection) -> None: ...

    async def _reader(self) -> None:
        try:
            if self._initial:
                self._receive(self._initial)
            while not self._finished.is_set():
                # Let go of the last read before waiting for the next: a crowd of idle connections
                # would otherwise each hold up to a read's size for as long as they stay silent.
                data: bytes | bytearray = b""
                # The heartbeat's timers are this wait's too: a task of its own per connection cost a
                # few KB of Trio's bookkeeping for as long as the connection lived.
                wake = math.inf if self._closing else min(self._inbox.deadline, self._beat_at)
                with trio.move_on_at(wake) as waited:
                    try:
                        data = await self._stream.receive_some(self._inbox.read_size)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        data = b""
                if waited.cancelled_caught:
                    if trio.current_time() >= self._inbox.deadline:
                        self._message_timed_out()
                    else:
                        self._beat()
                    continue
                if not data:  # EOF: normal after our close, abrupt otherwise
                    if self.close_code is None:
                        self.close_code, self.close_reason = 1006, "connection lost"
                    self._closing = True
                    self._closing_started.set()
                    self._finished.set()
                    return
                self._last_heard = trio.current_time()
                if self._failed:  # unparseable now: the peer's close reply cannot be found in it
                    continue
                self._receive(data)
        except WsLocalProtocolError:  # data after CLOSED
            self._finished.set()

    def _receive(self, data: bytes | bytearray) -> None:
        self._inbox.feed(data, trio.current_time())
        self._ws.receive_data(data)  # type: ignore[arg-type]  # bytearray works as bytes here
        for event in self._ws.events():
            if self._failed:  # what follows a refused message is dropped, not parsed
                break
            self._handle(event)

    def _message_timed_out(self) -> None:
        timeout = self.config.message_timeout
        logger.info("%s: frame or message not completed within %.1f s: closed (1008)", self, timeout)
        self._inbox.clear()
        self.close_nowait(CLOSE_POLICY, f"message not completed within {timeout:g} s")
        self._failed = self._finish_when_flushed = True  # a trickler would hide its close reply: don't wait

    def _handle(self, event: Event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _handle_message(self, event: TextMessage | BytesMessage) -> None:
        if self._closing:
            return
        try:
            if isinstance(event, TextMessage):
                message: str | bytes | None = self._inbox.text(event.data, event.message_finished)
            else:
                keep = self.on_bytes is not None
                message = self._inbox.binary(event.data, event.message_finished, keep=keep)
        except Refused as refused:
            logger.info("%s: %s: closed (%d)", self, refused.reason, refused.code)
            self.close_nowait(refused.code, refused.reason)
            # Fail the connection (RFC 6455 7.1.7) rather than parse (unmask, decode) the rest of a message
            # we refused while looking for the peer's close reply: what follows is read and dropped.
            self._failed = self._finish_when_flushed = True
            return
        if message is None:
            return
        if not self._inbox.allow(trio.current_time()):
            self._dispatch(self.on_rate_limited)
        elif isinstance(message, str):
            self._dispatch(self.on_message, message)
        elif self.on_bytes is not None:
            self._dispatch(self.on_bytes, message)
        else:
            self._dispatch(self.on_binary)

    def _dispatch(self, callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:  # a bug in a session must end this connection only, never the server
            logger.exception("%s: message handler failed", self)
            self.close_nowait(CLOSE_INTERNAL, "internal error")

    def _handle_ping(self, event: Ping) -> None:
        # Each ping costs a pong: pings share the messages' rate limit, so a flood of them is dropped
        # (and reported) like a flood of messages instead of costing a write each.
        if not self._inbox.allow(trio.current_time()):
            self._dispatch(self.on_rate_limited)
            return
        self._send_control(event.response())

    def _handle_pong(self, event: Pong) -> None:
        """Nothing to do: any data from the peer (a pong included) refreshes `_last_heard`."""

    def _handle_close(self, event: CloseConnection) -> None:
        state = self._ws.state
        if state is ConnectionState.REMOTE_CLOSING:  # the peer starts the close: answer, then end
            if self.close_code is None:
                self.close_code, self.close_reason = event.code, event.reason or ""
            self._closing = True
            self._send_control(event.response())
            self._finish_when_flushed = True
            self._closing_started.set()
        elif state is ConnectionState.OPEN:  # wsproto's verdict on a protocol error (1002/1007)
            # Fail the connection (RFC 6455 7.1.7): close frame, then TCP; no waiting for a reply that
            # the broken stream would hide from us (the peer would wait for our TCP close in vain).
            self.close_nowait(event.code, event.reason or "protocol error")
            self._failed = self._finish_when_flushed = True
        else:  # CLOSED: the peer answered our close
            self._finished.set()


_HANDLERS: dict[type[Event], Callable[[Receiver, Event], None]] = {
    TextMessage: Receiver._handle_message,  # type: ignore[dict-item]
    BytesMessage: Receiver._handle_message,  # type: ignore[dict-item]
    Ping: Receiver._handle_ping,  # type: ignore[dict-item]
    Pong: Receiver._handle_pong,  # type: ignore[dict-item]
    CloseConnection: Receiver._handle_close,  # type: ignore[dict-item]
}
