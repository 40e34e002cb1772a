"""One WebSocket over a Trio stream, after the handshake: a reader (with the heartbeat), a writer on demand.

Theory of operation (trio-websocket's shape, split by concern):

- One reader task (net/receiving.py) feeds wsproto and dispatches its events through a table; complete
  text messages go to the owner's `on_message` callback (synchronous, in the Trio thread; it must not
  block). What the peer may make us hold, for how long and how often is the inbox's business
  (net/inbox.py): a message over the limit (lower until the owner calls `lift_message_limit`) is refused
  with 1009 as its parts arrive, unfinished messages of all connections share one budget (1013), a frame
  or message must be complete within `message_timeout` (1008), and messages over the rate limit are
  dropped.
- Everything to send (pre-built frames shared by many connections, and wsproto's control frames) is
  queued with `send_nowait` (a client's catch-up with `catch_up`: the history's own frames), which never
  blocks. Once per Trio tick, everything queued on every socket connection that got data in that tick
  is written with one non-blocking `writev` each (net/flusher.py: frame once, no copy, no task hop per
  recipient). What the kernel does not take, and everything on streams without a socket, goes to a
  writer task, started on demand and gone once the queue is empty, which sends it 64 KiB at a time
  with `send_all` under a timeout. The outbox is bounded in bytes: a peer that stops reading overflows
  it or times the writer out, and is dropped with 1008 without anyone else waiting for it.
- The heartbeat pings a connection that has been silent for `ping_interval` and drops it when no
  pong comes back within `ping_timeout`; its timers are part of the reader's wait (`_beat`), not a
  task of their own (each task is a few KB for as long as the connection lives).
- Closing sends our close frame after whatever is queued, waits up to `close_timeout` for the peer's
  reply (a peer that just closes TCP, as simple-websocket does, ends it too), and always closes TCP.
  Broken or vanished sockets end this connection only: nothing here raises into the server.
- When the connection ends, what it holds (message parts, queue, callbacks into its owner) is dropped
  at once: the owner and the connection refer to each other, and that cycle must not keep anything
  large alive until a full garbage collection.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import trio
from wsproto.connection import Connection as WsProtocol
from wsproto.events import CloseConnection, Ping, Pong
from wsproto.utilities import LocalProtocolError as WsLocalProtocolError

from net.errors import CLOSE_GOING_AWAY, CLOSE_POLICY
from net.flusher import flush_at_end_of_tick
from net.inbox import SMALL_READ, Inbox, ReceiveBudget
from net.receiving import Receiver

logger = logging.getLogger(__name__)

#: Buffers per `os.writev` call (Linux's IOV_MAX; POSIX guarantees at least 16).
IOV_MAX = max(16, os.sysconf("SC_IOV_MAX")) if hasattr(os, "sysconf") else 16
SEND_CHUNK = 64 * 1024  # bytes joined for one send by the writer task (a slow peer's path)
_DROPPED = bytearray(64 * 1024)  # where failed connections' last bytes are read and dropped (`_drop`)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionConfig:
    """Limits and timers of one connection (seconds, bytes)."""

    #: Bytes of one message (UTF-8 for text): the longest legal frame fits (net/protocol.py MAX_TEXT).
    max_message: int = 128 * 1024
    #: Bytes of one message until the owner calls `lift_message_limit` (a hello frame is < 1 KB).
    max_message_before_hello: int = 4 * 1024
    #: Seconds a frame or message may take from its first byte to its last.
    message_timeout: float = 10.0
    outbox_bytes: int = 4 * 1024 * 1024
    send_timeout: float = 10.0
    close_timeout: float = 3.0
    ping_interval: float = 20.0
    ping_timeout: float = 10.0
    rate: float = 50.0
    burst: float = 200.0


class Connection(Receiver):
    """A WebSocket after its handshake. All methods run in the Trio thread; only `run` awaits."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        ws: WsProtocol,
        config: ConnectionConfig,
        *,
        name: str = "?",
        initial: bytes = b"",
        budget: ReceiveBudget | None = None,
    ) -> None:
        """Wrap an accepted WebSocket; `name` names it in logs; `initial` is data read with the handshake;
        `budget` bounds the bytes of unfinished messages held by all connections sharing it."""
        self._stream = stream
        self._ws = ws
        self._initial = initial
        self.config = config
        self.name = name
        self._outbox: deque[bytes] = deque()
        self._outbox_size = 0  # bytes queued
        self._allowance = 0  # of which a catch-up's, not yet written (not held against the bound)
        self._fd = stream.socket.fileno() if isinstance(stream, trio.SocketStream) else None
        self._flush_scheduled = False
        self._closing = False
        self._nursery: trio.Nursery | None = None  # while running: where the writer task starts
        self._writing = False  # the writer task is running
        self._closing_started = trio.Event()  # either side began to close, or the connection is gone
        self._finished = trio.Event()  # nothing more to exchange: tear down now
        self._finish_when_flushed = False
        self._failed = False  # a protocol error: the stream cannot be parsed any more
        self._last_heard = trio.current_time()
        self._beat_at = self._last_heard + config.ping_interval  # the heartbeat's next look
        self._ping_sent: float | None = None  # when the unanswered ping went out
        self._inbox = Inbox(config, budget or ReceiveBudget(), self._last_heard)
        self._sending = False
        self._farewell = b""
        self.close_code: int | None = None
        self.close_reason = ""
        #: Called with each complete text message (Trio thread; must not block).
        self.on_message: Callable[[str], None] = _ignore_text
        #: Called when a binary message arrives (the protocol is text only) and `on_bytes` is not set.
        self.on_binary: Callable[[], None] = _nothing
        #: If set, gets each complete binary message instead (the echo route); else payloads are dropped.
        self.on_bytes: Callable[[bytes], None] | None = None
        #: Called when a message is dropped by the rate limiter.
        self.on_rate_limited: Callable[[], None] = _nothing

    def __str__(self) -> str:
        return f"Connection({self.name})"

    @property
    def is_open(self) -> bool:
        """True until a close is requested or the connection is gone."""
        return not self._closing

    def lift_message_limit(self) -> None:
        """From now on messages may be `max_message` bytes (the peer is known: its hello was accepted)."""
        self._inbox.lift_limit()

    # ------------------------------------------------------------------ sending (never blocks)

    def send_nowait(self, frame: bytes) -> None:
        """Queue raw frame bytes; on overflow the peer is too slow: drop it (1008)."""
        if self._closing or not frame:
            return
        if self._outbox_size - self._allowance + len(frame) > self.config.outbox_bytes:
            logger.info("%s: outbox over %d bytes: slow consumer dropped", self, self.config.outbox_bytes)
            self._abort(CLOSE_POLICY, "too slow: outbound queue full")
            return
        self._outbox.append(frame)
        self._outbox_size += len(frame)
        self._kick()

    def catch_up(self, frames: Sequence[bytes]) -> None:
        """Queue the backlog a client asked for when it (re)joined: the frames themselves, shared with
        the history and every other client, never a copy (1,000 spectators joining a game each held a
        copy of its history). It may exceed the outbox bound, which is about live data piling up while
        the peer does not read, not about history it asked for."""
        if self._closing or not frames:
            return
        self._outbox.extend(frames)
        size = sum(map(len, frames))
        self._outbox_size += size
        self._allowance += size
        self._kick()

    def close_nowait(self, code: int, reason: str = "") -> None:
        """Queue our close frame after what is already queued; the connection ends soon after."""
        if self._closing:
            return
        self._closing = True
        self.close_code, self.close_reason = code, reason
        self._closing_started.set()
        try:
            data = self._ws.send(CloseConnection(code=code, reason=reason))
        except WsLocalProtocolError:  # already closed on the wsproto side
            self._finished.set()
            return
        self._outbox.append(data)
        self._outbox_size += len(data)
        self._kick()

    def _kick(self) -> None:
        """Have the queue written: at the end of this tick if we can write the socket ourselves."""
        if self._fd is not None and not self._sending:
            if not self._flush_scheduled:
                self._flush_scheduled = True
                flush_at_end_of_tick(self)
        else:
            self._start_writer()

    def _start_writer(self) -> None:
        """Have the writer task send the queue. It is started on demand and ends once the queue is empty:
        most connections never need it (the end-of-tick write takes everything), and a task is a few
        KB for as long as it lives."""
        if not self._writing and self._nursery is not None:
            self._writing = True
            self._nursery.start_soon(self._writer)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        if self._sending or not self._outbox or self._fd is None or self._finished.is_set():
            return
        while self._outbox:
            batch = list(itertools.islice(self._outbox, IOV_MAX))
            try:
                sent = os.writev(self._fd, batch)  # the queued frames as they are: no joined copy
            except BlockingIOError:
                sent = 0
            except OSError:
                self._abort(1006, "connection lost")
                return
            half = self._written(sent)
            if sent < sum(map(len, batch)):  # the kernel is full: the writer task waits for room
                self._sending = half  # half a frame is on the wire: nothing may cut in
                self._start_writer()
                return
        if self._finish_when_flushed:
            self._finished.set()

    def _written(self, sent: int) -> bool:
        """Drop the `sent` bytes from the queue's head; whether they ended inside a frame."""
        self._outbox_size -= sent
        self._allowance = max(0, self._allowance - sent)
        while self._outbox:
            head = self._outbox[0]
            if sent < len(head):
                if not sent:
                    return False
                self._outbox[0] = head[sent:]
                return True
            sent -= len(head)
            self._outbox.popleft()  # an empty frame goes too: left at the head, the write loop would spin
        return False

    def _next_chunk(self) -> bytes:
        """Frames from the queue's head, joined up to about SEND_CHUNK bytes (at least one frame): a slow
        peer's backlog is copied a chunk at a time, not all at once."""
        frames = [self._outbox.popleft()]
        size = len(frames[0])
        while self._outbox and size + len(self._outbox[0]) <= SEND_CHUNK:
            frames.append(self._outbox.popleft())
            size += len(frames[-1])
        self._outbox_size -= size
        self._allowance = max(0, self._allowance - size)
        return frames[0] if len(frames) == 1 else b"".join(frames)

    def _abort(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        if not self._sending and not self._closing:  # the stream is between frames: say goodbye
            try:
                self._farewell = self._ws.send(CloseConnection(code=code, reason=reason))
            except WsLocalProtocolError:
                self._farewell = b""
        self._closing = True
        self._outbox.clear()
        self._outbox_size = self._allowance = 0
        self._closing_started.set()
        self._finished.set()

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Serve the connection until it ends; always closes the TCP stream. Never raises on I/O errors."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self._outbox:  # queued before we ran (a welcome)
                    self._kick()
                nursery.start_soon(self._reader)
                await self._closing_started.wait()
                with trio.move_on_after(self.config.close_timeout):
                    await self._finished.wait()
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            try:
                if self.close_code is None:
                    self.close_code = 1006
                if self._failed:
                    await self._linger()
                if self._farewell:  # best effort: a peer that still reads learns why (1001, 1008)
                    with trio.move_on_after(0.2):
                        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                            await self._stream.send_all(self._farewell)
                await trio.aclose_forcefully(self._stream)
            finally:
                self._release()

    def _release(self) -> None:
        """Drop what the connection holds. The owner's callbacks go too: they are its bound methods, and
        the owner holds this connection, so the cycle would keep both (and whatever half-received message
        they hold) alive until a full garbage collection, which an idle server rarely runs."""
        self._inbox.clear()
        self._outbox.clear()
        self._outbox_size = self._allowance = 0
        self._farewell = self._initial = b""
        self.on_message, self.on_binary, self.on_rate_limited = _ignore_text, _nothing, _nothing
        self.on_bytes = None

    async def _linger(self) -> None:
        """After failing the connection: our FIN follows our close frame, then what the peer still sends is
        read and dropped until its EOF, so closing does not reset the TCP under our close frame. Bounded
        in time and in bytes (`max_message`: a client that overshot a limit by one message still gets
        our close frame): a peer that keeps sending (1,000 spectators each sending 1 MB) would otherwise
        have the server read and drop all of it, and everyone else wait meanwhile; it gets a reset."""
        if not isinstance(self._stream, trio.abc.HalfCloseableStream) or self._sending:
            return
        left = self.config.max_message
        with trio.move_on_after(self.config.close_timeout):
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self._stream.send_eof()
                while left > 0:
                    dropped = await self._drop(left)
                    if not dropped:
                        return
                    left -= dropped

    async def _drop(self, most: int) -> int:
        """Read at most `most` bytes and drop them; how many (0: the peer is gone). A socket reads into
        one buffer that every connection shares, since nobody looks at what is in it: big reads (few
        system calls: 4 KiB reads were 32 a refused connection) that hold nothing per connection
        (Trio's `receive_some` keeps each read's own buffer across a checkpoint)."""
        if isinstance(self._stream, trio.SocketStream):
            try:
                return await self._stream.socket.recv_into(_DROPPED, min(most, len(_DROPPED)))
            except OSError:  # reset or closed under us: nothing more to read
                return 0
        return len(await self._stream.receive_some(min(SMALL_READ, most)))

    async def _writer(self) -> None:
        try:
            while self._outbox:
                data = self._next_chunk()
                self._sending = True  # a cancelled send_all may leave half a frame on the wire
                with trio.move_on_after(self.config.send_timeout) as scope:
                    await self._stream.send_all(data)
                self._sending = scope.cancelled_caught
                if scope.cancelled_caught:
                    logger.info("%s: send timed out: slow consumer dropped", self)
                    self._abort(CLOSE_POLICY, "too slow: send timed out")
                    return
            if self._finish_when_flushed:  # our answer to the peer's close is out
                self._finished.set()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._abort(1006, "connection lost")
        finally:
            self._writing = False

    def _beat(self) -> None:
        """The heartbeat, when the reader's wait reaches `_beat_at`: every `ping_interval`, a peer heard
        from less recently than that is pinged, and dropped if it says nothing within `ping_timeout`."""
        config, now = self.config, trio.current_time()
        if self._ping_sent is not None:
            if self._last_heard < self._ping_sent:  # heard nothing since the ping (an answer at once counts)
                logger.info("%s: no answer to ping within %.1f s: dropped", self, config.ping_timeout)
                self._abort(CLOSE_GOING_AWAY, "ping timeout")
                return
            self._ping_sent = None
        elif now - self._last_heard >= config.ping_interval:
            self._ping_sent = now
            self._send_control(Ping(payload=b"hb"))
            self._beat_at = now + config.ping_timeout
            return
        self._beat_at = now + config.ping_interval

    def _send_control(self, event: Ping | Pong | CloseConnection) -> None:
        try:
            data = self._ws.send(event)
        except WsLocalProtocolError:
            return
        self._outbox.append(data)
        self._outbox_size += len(data)
        self._kick()


def _ignore_text(text: str) -> None:
    """The `on_message` of a connection nobody owns (yet, or any more)."""


def _nothing() -> None:
    """The other callbacks of a connection nobody owns."""
