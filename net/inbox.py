"""The receiving side of a connection, as messages: what a peer can make us hold, for how long, how often.

- `Inbox` is one connection's: it follows the byte stream (`feed`), sets the deadline of the frame or
  message in progress (`message_timeout` from its first byte, however slowly the rest trickles in),
  assembles messages under the size limit (`max_message_before_hello` until `lift_limit`, then
  `max_message`), and rate-limits complete messages (a token bucket: `rate` a second, bursts of `burst`).
- `FrameTracker` follows the frame boundaries of the incoming byte stream (headers only, RFC 6455 5.2),
  so the connection knows when a frame or a fragmented message is in progress, however it is trickled:
  a frame header sent one byte at a time, a control frame, or the fragments of a message that never ends.
  wsproto does the real parsing (and rejects what is malformed); this only counts.
- `Assembler` keeps the parts of one connection's unfinished message as UTF-8 bytes (a Python `str`
  can take 4 bytes a character) and counts them in bytes against the connection's limit and against
  a `ReceiveBudget` shared by every connection of a server, so that many peers each holding back the
  end of a large message cannot together make the server hold more than the budget.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from net.errors import CLOSE_TOO_BIG, CLOSE_TRY_AGAIN_LATER

if TYPE_CHECKING:
    from net.connection import ConnectionConfig

RECEIVE_SIZE = 65536  # bytes per read, once a connection may send big messages
SMALL_READ = 4096  # bytes per read before that, and when dropping what a failed connection still sends

_CONTROL = 0x8  # opcodes 8-15 are control frames, which may come between the fragments of a message
_MASKED = 0x80
_LENGTH_16, _LENGTH_64 = 126, 127


def _header_size(head: bytearray) -> int:
    """The length of a frame header whose first bytes are `head` (2 until its second byte is known)."""
    if len(head) < 2:  # noqa: PLR2004
        return 2
    length = head[1] & 0x7F
    extra = 2 if length == _LENGTH_16 else 8 if length == _LENGTH_64 else 0
    return 2 + extra + (4 if head[1] & _MASKED else 0)


class FrameTracker:
    """Where the incoming byte stream stands: between messages, or inside a frame or a message."""

    __slots__ = ("_head", "_left", "_open")

    def __init__(self) -> None:
        """Start between messages."""
        self._head = bytearray()  # a frame header not complete yet
        self._left = 0  # payload bytes of the current frame still to come
        self._open = False  # a data message whose final frame has not come yet

    @property
    def idle(self) -> bool:
        """True between messages: no frame and no fragmented message in progress."""
        return not self._head and not self._left and not self._open

    def feed(self, data: bytes | bytearray) -> bool:
        """Account for the next bytes of the stream; True if it was between messages at some point
        within them (before the first byte or after any frame): what is in progress now started here."""
        passed = self.idle
        i, n = 0, len(data)
        while i < n:
            if self._left:
                step = min(self._left, n - i)
                self._left -= step
                i += step
            else:
                step = min(_header_size(self._head) - len(self._head), n - i)
                self._head += data[i : i + step]
                i += step
                if len(self._head) == _header_size(self._head):
                    self._start_frame()
            passed = passed or self.idle
        return passed

    def _start_frame(self) -> None:
        head = self._head
        length = head[1] & 0x7F
        if length == _LENGTH_16:
            length = int.from_bytes(head[2:4], "big")
        elif length == _LENGTH_64:
            length = int.from_bytes(head[2:10], "big")
        if not head[0] & 0x0F & _CONTROL:  # a data frame: its FIN bit opens or closes a message
            self._open = not head[0] & 0x80
        self._left = length
        self._head = bytearray()


class ReceiveBudget:
    """Bytes held in unfinished messages by every connection that shares this budget (one server)."""

    def __init__(self, limit: int | None = None) -> None:
        """`limit` in bytes; None: no shared bound (each connection still has its own)."""
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        """Reserve `size` bytes; False (nothing reserved) if that would go over the limit."""
        if self.limit is not None and self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        """Return bytes reserved with `take`."""
        self.used -= size


class Refused(Exception):
    """The message cannot be kept: close the connection with `code` and `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Assembler:
    """One connection's message in progress, counted in bytes against its limit and the shared budget."""

    def __init__(self, limit: int, budget: ReceiveBudget, *, limit_note: str = "") -> None:
        """`limit`: bytes a message may have; `limit_note` is added to the close reason (e.g. why so low)."""
        self.limit = limit
        self.limit_note = limit_note
        self.budget = budget
        self._parts: list[bytes] = []
        self._size = 0  # bytes of the message so far (kept or not)
        self._held = 0  # bytes of it kept in `_parts`, reserved in the budget

    def text(self, data: str, finished: bool) -> str | None:
        """Add a part of a text message; the whole text once `finished`. Raises Refused."""
        raw = data.encode()
        self._count(len(raw))
        if finished and not self._parts:  # the usual case: the whole message in one piece
            self._size = 0
            return data
        self._keep(raw)
        if not finished:
            return None
        return self._take().decode()

    def binary(self, data: bytes | bytearray, finished: bool, *, keep: bool) -> bytes | None:
        """Add a part of a binary message (kept only if `keep`); the whole once `finished`. Raises Refused."""
        self._count(len(data))
        if keep:
            self._keep(bytes(data))
        if not finished:
            return None
        return self._take()

    def clear(self) -> None:
        """Drop the message in progress and give its bytes back to the budget."""
        self._parts = []
        self._size = 0
        self.budget.give(self._held)
        self._held = 0

    def _count(self, size: int) -> None:
        self._size += size
        if self._size > self.limit:
            self.clear()
            raise Refused(CLOSE_TOO_BIG, f"message too big (limit {self.limit} bytes{self.limit_note})")

    def _keep(self, raw: bytes) -> None:
        if not self.budget.take(len(raw)):
            self.clear()
            raise Refused(
                CLOSE_TRY_AGAIN_LATER,
                f"server busy: unfinished messages over {self.budget.limit} bytes in all",
            )
        self._parts.append(raw)
        self._held += len(raw)

    def _take(self) -> bytes:
        whole = b"".join(self._parts)
        self.clear()
        return whole


class Inbox:
    """One connection's incoming messages: frame tracking, deadline, assembly under limits, rate limit."""

    def __init__(self, config: ConnectionConfig, budget: ReceiveBudget, now: float) -> None:
        """Limits from `config`; unfinished messages count against `budget`; `now` starts the rate limit."""
        self.config = config
        first = min(config.max_message, config.max_message_before_hello)
        self._assembler = Assembler(
            first, budget, limit_note=" before hello" if first < config.max_message else ""
        )
        self._frames = FrameTracker()
        self._binary = False  # a binary message is in progress
        #: When the frame or message in progress must be complete (inf: between messages).
        self.deadline = math.inf
        self._tokens = config.burst
        self._refilled = now

    @property
    def read_size(self) -> int:
        """Bytes to ask for in one read: big reads only for a connection that may send big messages.

        Trio hands a read's bytes over only after a checkpoint, so every connection whose data is ready
        holds its read's buffer while the others take theirs: 1,000 strangers each sending a megabyte,
        read 64 KiB at a time, made the server hold 48 MiB at once (tracemalloc), and the heap kept that
        peak as holes long after they left. Before hello a message is at most a few KiB."""
        return RECEIVE_SIZE if self._assembler.limit > SMALL_READ else SMALL_READ

    def lift_limit(self) -> None:
        """From now on messages may be `max_message` bytes."""
        self._assembler.limit = self.config.max_message
        self._assembler.limit_note = ""

    def feed(self, data: bytes | bytearray, now: float) -> None:
        """Account for bytes read from the peer (before wsproto parses them); sets `deadline`."""
        fresh = self._frames.feed(data)
        if self._frames.idle:
            self.deadline = math.inf
        elif fresh:  # what is in progress started in these bytes; older trickles do not restart it
            self.deadline = now + self.config.message_timeout

    def text(self, data: str, finished: bool) -> str | None:
        """A part of a text message; the whole text once `finished`. Raises Refused."""
        if self._binary:  # a text frame cannot continue a binary message (wsproto rejects it anyway)
            return None
        return self._assembler.text(data, finished)

    def binary(self, data: bytes | bytearray, finished: bool, *, keep: bool) -> bytes | None:
        """A part of a binary message (kept if `keep`); the whole once `finished`. Raises Refused."""
        self._binary = not finished
        return self._assembler.binary(data, finished, keep=keep)

    def allow(self, now: float) -> bool:
        """Whether a complete message may be handled now (else it is dropped: over the rate limit)."""
        self._tokens = min(self.config.burst, self._tokens + (now - self._refilled) * self.config.rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def clear(self) -> None:
        """Drop the message in progress (its bytes go back to the budget) and its deadline."""
        self._assembler.clear()
        self.deadline = math.inf
