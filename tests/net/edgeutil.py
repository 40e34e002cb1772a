"""Helpers for the edge tests (caps, origins, tokens, TLS): raw clients that choose their source address
and their headers, and read exactly what the server answers.

Linux routes all of 127.0.0.0/8 to loopback, so binding a client to 127.0.0.2, 127.0.0.3... gives the
server distinct peer addresses without leaving the machine. Every wait is bounded by a socket timeout
or a deadline.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, CloseConnection, Event, RejectConnection, Request, TextMessage

from net.protocol import PROTOCOL_VERSION
from tests.net.netutil import HOST, WAIT_S


def tcp(port: int, source: str = HOST, *, tls: ssl.SSLContext | None = None) -> socket.socket:
    """A connected TCP socket from `source` (a loopback address), wrapped in TLS if asked."""
    sock = socket.create_connection((HOST, port), timeout=WAIT_S, source_address=(source, 0))
    if tls is not None:
        return tls.wrap_socket(sock, server_hostname=HOST)
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    """Everything until EOF (a reset counts as the end too); bounded by the socket timeout."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse_http(data: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body (None if empty) of one HTTP response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(body) if body else None


def http_get(
    port: int,
    path: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    source: str = HOST,
    tls: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One GET with these headers (Host defaults to the address connected to)."""
    fields = dict(headers)
    fields.setdefault("Host", f"{HOST}:{port}")
    head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    with tcp(port, source, tls=tls) as sock:
        sock.sendall(head.encode())
        return parse_http(read_to_end(sock))


def hello_frame(token: str | None = None, **fields: Any) -> str:
    frame: dict[str, Any] = {"type": "hello", "protocol_version": PROTOCOL_VERSION} | fields
    if token is not None:
        frame["token"] = token
    return json.dumps(frame)


class Refused(Exception):
    """The server answered the upgrade with an HTTP error (or closed the TCP connection)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Peer:
    """A WebSocket client on a plain socket, from a chosen source address, with chosen headers."""

    def __init__(
        self,
        port: int,
        target: str,
        *,
        source: str = HOST,
        host: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sock = tcp(port, source, tls=tls)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[Event] = []
        self.closed: CloseConnection | None = None
        try:
            request = Request(host=host or f"{HOST}:{port}", target=target, extra_headers=list(headers))
            self.sock.sendall(self.ws.send(request))
            self._await_accept()
        except BaseException:
            self.sock.close()
            raise

    def _await_accept(self) -> None:
        received = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                if received:
                    status, _, body = parse_http(received)
                    raise Refused(status, body)
                raise Refused(0, "closed")
            received += data
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.pending.extend(self.ws.events())  # the server may speak first (a welcome)
                    return
                if isinstance(event, RejectConnection):
                    raise Refused(event.status_code, self._rejection_body(received))
                self.pending.append(event)

    def _rejection_body(self, received: bytes) -> Any:
        data = received
        with contextlib.suppress(OSError):
            data += read_to_end(self.sock)
        return parse_http(data)[2]

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def next(self) -> dict[str, Any] | None:
        """The next text frame, or None once the server has closed (see `closed`)."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, TextMessage):
                    return json.loads(event.data)  # type: ignore[no-any-return]
                if isinstance(event, CloseConnection):
                    self.closed = event
                    return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())

    def frames_to_close(self) -> list[dict[str, Any]]:
        frames = []
        while (frame := self.next()) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.sock.close()


def greet(
    port: int, target: str, token: str | None = None, *, source: str = HOST, **kw: Any
) -> tuple[Peer, dict[str, Any]]:
    """A peer that said hello; returns it and the server's first frame (`welcome` or an error)."""
    peer = Peer(port, target, source=source, **kw)
    # A token in the URL is checked at the upgrade: a refusal (and its close) may come with the 101,
    # and then there is nothing to say hello to.
    if peer.ws.state is ConnectionState.OPEN:
        peer.send(hello_frame(token))
    frame = peer.next()
    assert frame is not None, f"closed before any frame: {peer.closed}"
    return peer, frame


@contextlib.contextmanager
def closing_all() -> Iterator[list[Any]]:
    """A list to put peers and sockets in; all are closed at the end."""
    opened: list[Any] = []
    try:
        yield opened
    finally:
        for item in opened:
            with contextlib.suppress(OSError):
                item.close()


def eventually(attempt: Callable[[], Any], *, timeout: float = WAIT_S) -> Any:
    """Call `attempt` until it returns without raising AssertionError/Refused/OSError, or the deadline
    passes (the last failure is raised). Each attempt is a round trip to the server."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except (AssertionError, Refused, OSError):
            if time.monotonic() > deadline:
                raise
