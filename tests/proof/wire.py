"""Helpers for the proof tests: a hand-driven WebSocket client, recording SDK agents and spectators, and
what each audience may see.

Every wait is bounded: sockets carry timeouts and loops run until a deadline. Nothing here sleeps to wait
for a condition.
"""

from __future__ import annotations

import contextlib
import json
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import simple_websocket
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    TextMessage,
)

from engine import ROLE_SPECS, Role
from net.client import _FixedClient
from net.protocol import PROTOCOL_VERSION
from tests.net.netutil import WAIT_S, open_raw

# ---------------------------------------------------------------------------------------- raw client


class WireClient:
    """A WebSocket client on a plain blocking socket, driven by hand with wsproto.

    It sends whatever it is told (valid frames, or raw bytes), reads only when asked, and answers the
    server's pings while reading unless `silent`. `ended` says how the connection ended: `close CODE`
    (the server's close frame), `eof` (TCP closed without a close frame) or `reset`.
    """

    def __init__(self, port: int, target: str, *, rcvbuf: int | None = None) -> None:
        self.sock, self.ws, pending = open_raw(port, target, rcvbuf=rcvbuf)
        self.pending: deque[Event] = deque(pending)
        self.ended: str | None = None
        self.close_reason = ""
        self.silent = False
        self.pings = 0
        self._parts: list[str] = []

    # ------------------------------------------------------------------ sending

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_text(self, text: str) -> None:
        self.send_raw(self.ws.send(TextMessage(data=text)))

    def send_json(self, frame: dict[str, Any]) -> None:
        self.send_text(json.dumps(frame))

    def send_bytes(self, data: bytes) -> None:
        self.send_raw(self.ws.send(BytesMessage(data=data)))

    def hello(self, token: str | None = None, resume_from: int = 0, **fields: Any) -> None:
        frame: dict[str, Any] = {
            "type": "hello",
            "protocol_version": PROTOCOL_VERSION,
            "resume_from": resume_from,
        }
        if token is not None:
            frame["token"] = token
        self.send_json(frame | fields)

    # ------------------------------------------------------------------ receiving

    def next(self, timeout: float = WAIT_S) -> dict[str, Any] | None:
        """The next text frame (JSON), or None once the connection has ended (see `ended`)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                frame = self._consume(self.pending.popleft())
                if frame is not None:
                    return frame
            if self.ended is not None:
                return None
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"nothing from the server within {timeout} s") from None
            except ConnectionResetError:
                self._end("reset")
                return None
            if not data:
                self._end("eof")
                return None
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())

    def _consume(self, event: Event) -> dict[str, Any] | None:
        if isinstance(event, TextMessage):
            self._parts.append(event.data)
            if event.message_finished:
                text, self._parts = "".join(self._parts), []
                return json.loads(text)  # type: ignore[no-any-return]
        elif isinstance(event, Ping):
            self.pings += 1
            if not self.silent:
                with contextlib.suppress(OSError):
                    self.send_raw(self.ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            self.close_reason = event.reason or ""
            with contextlib.suppress(Exception):  # best effort: our reply, then TCP closes
                self.send_raw(self.ws.send(event.response()))
            self._end(f"close {event.code}")
        return None

    def _end(self, how: str) -> None:
        self.ended = how
        self.pending.clear()
        self.sock.close()

    def frames_to_end(self, timeout: float = WAIT_S) -> list[dict[str, Any]]:
        """Every frame until the connection ends; bounded by `timeout` overall."""
        deadline = time.monotonic() + timeout
        frames = []
        while (frame := self.next(max(0.01, deadline - time.monotonic()))) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.sock.close()


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bool = True) -> bytes:
    """One WebSocket frame built by hand (RFC 6455 5.2), for the frames no library will send.

    The mask is all zeros, so the payload goes out as is (a server cannot tell a zero mask apart).
    """
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    masked = 0x80 if mask else 0
    if n < 126:
        header = bytes((first, masked | n))
    elif n < 65536:
        header = struct.pack("!BBH", first, masked | 126, n)
    else:
        header = struct.pack("!BBQ", first, masked | 127, n)
    return header + (b"\0\0\0\0" if mask else b"") + payload


def render(frame: dict[str, Any]) -> str:
    """A server frame as a line of a reaction: `code: message` (`code!` when closing), `rejected: reason`,
    or the frame type."""
    match frame["type"]:
        case "error":
            return f"{frame['code']}{'!' if frame['closing'] else ''}: {frame['message']}"
        case "rejected":
            return f"rejected: {frame['reason']}"
        case kind:
            return str(kind)


def collapse(lines: list[str]) -> list[str]:
    """Runs of `event` lines become one `events` line."""
    out: list[str] = []
    for line in lines:
        if line != "event":
            out.append(line)
        elif not out or out[-1] != "events":
            out.append("events")
    return out


def matches(pattern: str, line: str) -> bool:
    """Whether a reaction line fits a pattern.

    Alternatives are separated by ` | `. `head: fragment` matches a line with that head whose rest
    contains the fragment; a pattern without `: ` matches the line, or the line's head (`close 1002`
    matches `close 1002: any reason`).
    """
    for alternative in pattern.split(" | "):
        if ": " not in alternative:
            if line == alternative or line.startswith(alternative + ": "):
                return True
            continue
        head, fragment = alternative.split(": ", 1)
        if line.startswith(head + ": ") and fragment in line[len(head) + 2 :]:
            return True
    return False


def assert_reaction(expected: tuple[str, ...], observed: list[str]) -> None:
    ok = len(expected) == len(observed) and all(map(matches, expected, observed))
    assert ok, "reaction differs:\n  expected " + repr(list(expected)) + "\n  observed " + repr(observed)


# ---------------------------------------------------------------------------------------- SDK clients


class Watcher:
    """A spectator on simple-websocket, reading raw text frames in a thread until `game_over`."""

    def __init__(self, url: str, token: str | None = None) -> None:
        # The token goes in the URL too, so the server's first frame (sent before it reads the hello)
        # is already this view's welcome; the hello that repeats it changes nothing.
        self.ws = _FixedClient.connect(url if token is None else f"{url}&token={token}")
        frame: dict[str, Any] = {"type": "hello", "protocol_version": PROTOCOL_VERSION}
        if token is not None:
            frame["token"] = token
        self.ws.send(json.dumps(frame))
        self.texts: list[str] = []
        self.welcomed = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            while True:
                text = self.ws.receive(timeout=0.2)
                if text is None:
                    continue
                self.texts.append(text)
                head = text[:24]
                if '"welcome"' in head:
                    self.welcomed.set()
                elif '"game_over"' in head:
                    return

    def welcome(self) -> dict[str, Any]:
        assert self.welcomed.wait(WAIT_S), "no welcome"
        return json.loads(self.texts[0])  # type: ignore[no-any-return]

    def join(self) -> None:
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive(), "a spectator did not get game_over"

    def close(self) -> None:
        with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
            self.ws.close()
        self.thread.join(WAIT_S)


@contextlib.contextmanager
def cleanup() -> Iterator[list[Callable[[], None]]]:
    """Run the registered callbacks at the end, last first, whatever happens."""
    callbacks: list[Callable[[], None]] = []
    try:
        yield callbacks
    finally:
        for callback in reversed(callbacks):
            with contextlib.suppress(Exception):
                callback()


# ---------------------------------------------------------------------------------------- audiences


def is_wolf(role: str | Role) -> bool:
    return ROLE_SPECS[Role(role)].is_wolf


def audiences_of(player: str, role: str | Role) -> set[str]:
    """The audiences a player may see: public, his own, and the wolves' if he is a werewolf."""
    return {"public", f"player:{player}"} | ({"wolves"} if is_wolf(role) else set())


def audience_events(record: list[dict[str, Any]], player: str, role: str | Role) -> list[dict[str, Any]]:
    """The recorded events `player` may see, in order."""
    allowed = audiences_of(player, role)
    return [e for e in record if e["audience"] in allowed]


def public_events(record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in record if e["audience"] == "public"]


def roles_of(record: list[dict[str, Any]]) -> dict[str, str]:
    ended = next(e for e in reversed(record) if e["type"] == "game_ended")
    return dict(ended["roles"])


def event_stream(texts: list[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """The event payloads and their seqs among raw frames of one connection."""
    frames = [json.loads(t) for t in texts]
    events = [f for f in frames if f["type"] == "event"]
    return [f["event"] for f in events], [f["seq"] for f in events]
