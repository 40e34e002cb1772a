"""The attackers' side of the wire: a bare WebSocket client on a Trio stream, and the tally of what
became of every connection it tried.

No library client is used on purpose: an attacker sends what it likes (a text frame it never
finishes, a message far over any limit), stops at nothing a polite client would, and must survive
the server refusing or closing it at any point. Frames are built by hand (RFC 6455 section 5.2),
masked as a client's must be; the server's frames are parsed just enough to learn why it closed us.

Every connection attempt ends in exactly one of these (the tally's `ends`):
- `refused`: no TCP connection (connect failed or timed out); `attacker out of fds`: this process's
  own limit, not the server's doing;
- `http NNN`: the server answered the upgrade (or a raw connection) with an HTTP status other than 101;
- `close NNNN`: a WebSocket close frame from the server, with its code;
- `eof` / `reset`: the server ended the TCP connection without a close frame;
- `held`: still open when the attack stopped (we closed it).
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio

OP_CONT, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA
HEAD_LIMIT = 16 * 1024  # bytes of HTTP response head we read before giving up
CONNECT_TIMEOUT = 10.0
SEND_CHUNK = 64 * 1024  # bytes per send: what was sent is counted as it goes
SMALL_FRAME = 4096  # server text frames up to this size are read for their error code


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte masking key, as one big-integer operation (fast for megabytes)."""
    if not payload:
        return payload
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, key: bytes | None = None) -> bytes:
    """One masked client frame (RFC 6455 section 5.2)."""
    key = key if key is not None else os.urandom(4)
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:  # noqa: PLR2004
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    return head + key + mask(payload, key)


def upgrade_request(port: int, path: str) -> bytes:
    """The HTTP/1.1 upgrade request of a WebSocket handshake."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


@dataclass
class Tally:
    """What became of an attack's connections (counts, JSON-able through `as_dict`)."""

    attempts: int = 0
    connected: int = 0  # TCP connections made
    accepted: int = 0  # WebSocket handshakes answered with 101
    messages: int = 0  # attack messages written in full to the socket
    bytes_sent: int = 0
    open: int = 0
    peak_open: int = 0
    ends: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # `error` frames' codes from the server
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict for the report."""
        return {
            "attempts": self.attempts,
            "connected": self.connected,
            "accepted": self.accepted,
            "messages": self.messages,
            "bytes_sent": self.bytes_sent,
            "peak_open": self.peak_open,
            "ends": dict(sorted(self.ends.items())),
            "errors": dict(sorted(self.errors.items())),
            **self.extra,
        }


class Link:
    """One attacker connection: TCP, optionally a WebSocket handshake, then whatever it is told to send.

    A reader task (`watch`) keeps reading what the server sends: its close frame, its error frames,
    its pings, or the end of TCP. `ended` is set once the connection
    is over for any reason; `end` says which (see the module docstring).
    """

    def __init__(self, tally: Tally) -> None:
        """A link not yet connected; `open` connects it."""
        self.tally = tally
        self.stream: trio.SocketStream | None = None
        self.end: str | None = None
        self.ended = trio.Event()
        self._buffer = bytearray()
        self._pong = False

    async def open(self, port: int, source: str, path: str | None) -> bool:
        """Connect from `source` (a loopback address), and hand-shake on `path` unless it is None.
        Returns False (the end recorded) if that fails."""
        self.tally.attempts += 1
        try:
            with trio.fail_after(CONNECT_TIMEOUT):
                self.stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=source)
        except OSError as exc:
            self._finish("attacker out of fds" if exc.errno in (errno.EMFILE, errno.ENFILE) else "refused")
            return False
        except trio.TooSlowError:
            self._finish("refused")
            return False
        self.tally.connected += 1
        self.tally.open += 1
        self.tally.peak_open = max(self.tally.peak_open, self.tally.open)
        if path is None:
            return True
        try:
            await self.stream.send_all(upgrade_request(port, path))
            with trio.fail_after(CONNECT_TIMEOUT):
                status = await self._read_head()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self._finish("reset")
            return False
        except trio.TooSlowError:
            self._finish("http none")
            return False
        if status != 101:  # noqa: PLR2004
            self._finish(f"http {status}" if status else "eof")
            return False
        self.tally.accepted += 1
        return True

    async def _read_head(self) -> int:
        """The HTTP status of the server's answer (0 if it closed first); what follows stays buffered."""
        assert self.stream is not None
        while b"\r\n\r\n" not in self._buffer:
            data = await self.stream.receive_some(HEAD_LIMIT)
            if not data or len(self._buffer) > HEAD_LIMIT:
                return 0
            self._buffer += data
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        try:
            return int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return 0

    async def send(self, data: bytes) -> bool:
        """Write `data` in chunks, counting what went out; False if the connection is over."""
        for start in range(0, len(data), SEND_CHUNK):
            if self.ended.is_set() or self.stream is None:
                return False
            chunk = data[start : start + SEND_CHUNK]
            try:
                await self.stream.send_all(chunk)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                await self._wait_for_reason()
                return False
            self.tally.bytes_sent += len(chunk)
        return True

    async def _wait_for_reason(self) -> None:
        """A send failed: let the reader record why (its close frame), briefly; else call it a reset."""
        with trio.move_on_after(1.0):
            await self.ended.wait()
        self._finish("reset")

    async def watch(self, *, websocket: bool, pong: bool = False) -> None:
        """Read until the connection ends; record how. Raw connections only look for an HTTP answer.

        With `pong`, the server's pings are answered (only on a link nothing else sends on: two tasks
        writing one stream could cut into each other's frames)."""
        assert self.stream is not None
        self._pong = pong
        try:
            if not websocket:
                status = await self._read_head()
                self._finish(f"http {status}" if status else "eof")
                return
            while not self.ended.is_set():
                if await self._parse_frames():
                    return
                data = await self.stream.receive_some(65536)
                if not data:
                    self._finish("eof")
                    return
                self._buffer += data
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self._finish("reset")

    async def _parse_frames(self) -> bool:
        """Handle the complete server frames buffered; True once a close frame came."""
        buf = self._buffer
        while len(buf) >= 2:  # noqa: PLR2004
            first, second = buf[0], buf[1]
            n, offset = second & 0x7F, 2
            if n == 126:  # noqa: PLR2004
                if len(buf) < 4:  # noqa: PLR2004
                    return False
                n, offset = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:  # noqa: PLR2004
                if len(buf) < 10:  # noqa: PLR2004
                    return False
                n, offset = struct.unpack_from("!Q", buf, 2)[0], 10
            if second & 0x80:
                offset += 4  # a server must not mask, but skip the key if it did
            if len(buf) < offset + n:
                return False
            payload = bytes(buf[offset : offset + n])
            del buf[: offset + n]
            opcode = first & 0x0F
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005  # noqa: PLR2004
                self._finish(f"close {code}")
                return True
            if opcode == OP_PING and self._pong:
                assert self.stream is not None
                await self.stream.send_all(client_frame(OP_PONG, payload))
            elif opcode == OP_TEXT and n <= SMALL_FRAME:
                with contextlib.suppress(ValueError, AttributeError):
                    frame = json.loads(payload)
                    if frame.get("type") == "error":
                        self.tally.errors[str(frame.get("code"))] += 1
        return False

    def _finish(self, end: str) -> None:
        if self.end is None:
            self.end = end
            self.tally.ends[end] += 1
            if self.stream is not None:
                self.tally.open -= 1
        self.ended.set()

    def close(self) -> None:
        """End it now with a TCP reset (no close handshake, no TIME_WAIT); `held` if it was still open."""
        self._finish("held")
        if self.stream is not None:
            sock = self.stream.socket
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.close()
