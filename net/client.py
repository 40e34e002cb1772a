"""A small synchronous client for the wire protocol, on simple-websocket (for agents and spectators).

An external agent is a function from a `request` frame (plus the events seen so far) to an action:

    from net.client import AgentClient

    def decide(request, events):
        for choice in request.choices:
            if choice.kind == "vote":
                return {"kind": "vote", "target": choice.targets[0]}
        return {"kind": "abstain"}

    AgentClient("ws://127.0.0.1:8765/ws/me?client_type=agent", token="SEAT-TOKEN").run(decide)

The client answers WebSocket pings, reconnects after a lost connection and resumes from the last
event it holds (the server resends what it missed, in order), and closes cleanly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import simple_websocket
from pydantic import ValidationError

from net.protocol import (
    PROTOCOL_VERSION,
    SERVER_FRAME,
    ErrorFrame,
    EventFrame,
    GameOver,
    Pong,
    Rejected,
    RequestFrame,
    Welcome,
)

logger = logging.getLogger(__name__)

ServerFrameModel = Welcome | EventFrame | RequestFrame | Rejected | GameOver | ErrorFrame | Pong
Policy = Callable[[RequestFrame, list[EventFrame]], dict[str, Any]]


class _FixedClient(simple_websocket.Client):  # type: ignore[misc]  # simple-websocket has no types
    """simple-websocket 1.1.0 leaves frames that arrive with the 101 response unread until the next
    packet: `Client.handshake()` takes only wsproto's `AcceptConnection` event, so a greeting sent in the
    same TCP read waits in wsproto's buffer (we saw it delayed until the next frame came, seconds later).
    Reading the pending events right after the handshake fixes it. Our server speaks first (`welcome`)
    when the URL says everything, so this matters on every such connection."""

    def handshake(self) -> None:
        super().handshake()
        # The server may also have said everything and closed already (a finished game, no game
        # hosted): keep the connection "up" while frames are buffered, so that `receive()` hands
        # them out before it raises ConnectionClosed, rather than `connect()` failing without them.
        self.connected = self._handle_events() or bool(self.input_buffer)


class ConnectionLost(Exception):
    """The connection ended before the game did, and reconnecting did not work."""


def with_query(url: str, **params: str | None) -> str:
    """`url` with these query parameters set (None: removed)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class _Link:
    """One WebSocket connection that speaks our frames (not thread-safe: use from one thread).

    The resume point travels in the URL; when the token does not (kept out of URLs), `hello=1` tells
    the server to wait for our `hello` rather than welcome us from the URL at once.
    """

    def __init__(self, url: str, token: str | None, resume_from: int, timeout: float) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if token is not None and "token" not in query:
            url = with_query(url, hello="1")
        self.ws = _FixedClient.connect(with_query(url, resume_from=str(resume_from) if resume_from else None))
        self._closed = False
        hello: dict[str, Any] = {
            "type": "hello",
            "protocol_version": PROTOCOL_VERSION,
            "resume_from": resume_from,
        }
        if token is not None:
            hello["token"] = token
        self.send(hello)
        self.timeout = timeout

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def frames(self) -> Iterator[ServerFrameModel]:
        """Parsed server frames until the connection closes (raises simple_websocket.ConnectionClosed)."""
        while True:
            text = self.ws.receive(timeout=self.timeout)
            if text is None:
                continue
            try:
                frame = SERVER_FRAME.validate_json(text)
            except ValidationError as exc:
                logger.error("server sent a frame this client does not understand: %s", exc)
                continue
            yield frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            # A socket already closed under us (see `AgentClient.disconnect`) raises OSError here.
            with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
                self.ws.close()


class AgentClient:
    """Plays one seat: `run(policy)` until the game is over; returns the `game_over` frame."""

    def __init__(
        self,
        url: str,
        *,
        token: str,
        reconnect_attempts: int = 5,
        reconnect_delay: float = 0.5,
        receive_timeout: float = 1.0,
    ) -> None:
        """`url` is the seat's WebSocket URL (`client_type=agent`); `token` its secret seat token."""
        self.url = url
        self.token = token
        self.reconnect_attempts = reconnect_attempts
        self.reconnect_delay = reconnect_delay
        self.receive_timeout = receive_timeout
        #: Every event of this seat's view, in order (index = sequence number).
        self.events: list[EventFrame] = []
        self.welcome: Welcome | None = None
        self.rejections: list[Rejected] = []
        self.errors: list[ErrorFrame] = []
        self._link: _Link | None = None

    def run(self, policy: Policy) -> GameOver:
        """Play until `game_over`; reconnects (resuming) after a lost connection. Raises ConnectionLost."""
        failures = 0
        while True:
            try:
                self._link = _Link(self.url, self.token, len(self.events), self.receive_timeout)
                failures = 0
                over = self._play(self._link, policy)
                if over is not None:
                    return over
            except (simple_websocket.ConnectionClosed, simple_websocket.ConnectionError, OSError) as exc:
                failures += 1
                logger.info("connection lost (%s); attempt %d to reconnect", exc, failures)
                if failures > self.reconnect_attempts:
                    raise ConnectionLost(
                        f"gave up after {failures - 1} reconnection attempts: {exc}"
                    ) from None
                time.sleep(self.reconnect_delay * failures)  # back-off between reconnection attempts
            finally:
                if self._link is not None:
                    self._link.close()

    def disconnect(self) -> None:
        """Drop the connection abruptly (tests use it to simulate a network failure)."""
        if self._link is not None:
            sock = self._link.ws.sock
            # close() alone neither wakes simple-websocket's reader thread (blocked in recv on this
            # socket) nor ends the TCP connection while that recv holds it; shutdown() does both.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _play(self, link: _Link, policy: Policy) -> GameOver | None:
        for frame in link.frames():
            match frame:
                case Welcome():
                    self.welcome = frame
                case EventFrame(seq=seq):
                    if seq == len(self.events):
                        self.events.append(frame)
                    elif seq > len(self.events):
                        raise simple_websocket.ConnectionClosed(
                            None, f"gap: event {seq} after {len(self.events)}"
                        )
                case RequestFrame():
                    link.send(
                        {"type": "act", "phase_id": frame.phase_id, "action": policy(frame, self.events)}
                    )
                case Rejected():
                    self.rejections.append(frame)
                case ErrorFrame():
                    self.errors.append(frame)
                    if frame.closing:
                        raise ConnectionLost(f"server closed the connection: {frame.code}: {frame.message}")
                case GameOver():
                    return frame
                case Pong():
                    pass
        return None


class SpectatorClient:
    """Watches a game: `frames()` yields every server frame until the connection closes."""

    def __init__(
        self, url: str, *, token: str | None = None, resume_from: int = 0, receive_timeout: float = 1.0
    ):
        """`url` uses `client_type=ui` or `observer`; `token` is the admin token for the full view."""
        self._link = _Link(url, token, resume_from, receive_timeout)

    def frames(self) -> Iterator[ServerFrameModel]:
        """Server frames, parsed, until the server closes the connection."""
        try:
            yield from self._link.frames()
        except simple_websocket.ConnectionClosed:
            return

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._link.close()
