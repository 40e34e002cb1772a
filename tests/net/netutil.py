"""Helpers for the socket-level network tests: a server per test, HTTP calls, WebSocket clients.

Every wait is bounded: sockets and simple-websocket receives carry timeouts, and loops run until a
deadline. Nothing here sleeps to wait for a condition.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import simple_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Event, RejectConnection, Request, TextMessage

from net.client import _FixedClient
from net.protocol import PROTOCOL_VERSION
from net.server import NetworkServer, ServerConfig

HOST = "127.0.0.1"
WAIT_S = 5.0  # seconds: the longest any single expected thing may take on a loaded 2-core machine


def start_server(config: ServerConfig) -> NetworkServer:
    """A started server on a free loopback port (the caller stops it)."""
    server = NetworkServer(config)
    server.start()
    return server


def http_request(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one plain HTTP request."""
    conn = http.client.HTTPConnection(HOST, port, timeout=WAIT_S)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, json.loads(body) if body else None
    finally:
        conn.close()


def stats(port: int, admin_token: str | None = None) -> dict[str, Any]:
    """`/stats`; with the admin token, the list of clients too."""
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else None
    status, _, body = http_request(port, "/stats", headers=headers)
    assert status == 200
    return body  # type: ignore[no-any-return]


def poll_stats(
    port: int, predicate: Callable[[dict[str, Any]], bool], admin_token: str | None = None
) -> dict[str, Any]:
    """Fetch /stats until `predicate` holds (each fetch is a round trip; bounded by WAIT_S). The server
    recomputes it at most once per `ServerConfig.stats_cache_s`: tests use 0."""
    deadline = time.monotonic() + WAIT_S
    while True:
        current = stats(port, admin_token)
        if predicate(current) or time.monotonic() > deadline:
            return current


def raw_exchange(port: int, data: bytes, timeout: float = WAIT_S) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def ws_url(
    port: int,
    client_id: str,
    client_type: str = "ui",
    token: str | None = None,
    resume_from: int | None = None,
    *,
    hello_first: bool = False,
) -> str:
    query = f"?client_type={client_type}" + (f"&token={token}" if token else "")
    if resume_from is not None:
        query += f"&resume_from={resume_from}"
    if hello_first:  # the client will say hello: the server waits for it (as the browser page does)
        query += "&hello=1"
    return f"ws://{HOST}:{port}/ws/{client_id}{query}"


def hello(token: str | None = None, resume_from: int = 0, version: int = PROTOCOL_VERSION) -> str:
    frame: dict[str, Any] = {"type": "hello", "protocol_version": version, "resume_from": resume_from}
    if token is not None:
        frame["token"] = token
    return json.dumps(frame)


class Clients:
    """Opens simple-websocket clients and closes them all at the end (see the `clients` fixtures)."""

    def __init__(self) -> None:
        self.opened: list[simple_websocket.Client] = []

    def connect(
        self,
        port: int,
        client_id: str,
        client_type: str = "ui",
        token: str | None = None,
        resume_from: int | None = None,
        *,
        hello_first: bool = False,
    ) -> simple_websocket.Client:
        url = ws_url(port, client_id, client_type, token, resume_from, hello_first=hello_first)
        ws = _FixedClient.connect(url)
        self.opened.append(ws)
        return ws

    def close_all(self) -> None:
        for ws in self.opened:
            with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
                ws.close()


@contextlib.contextmanager
def open_clients() -> Iterator[Clients]:
    clients = Clients()
    try:
        yield clients
    finally:
        clients.close_all()


def receive(ws: simple_websocket.Client, timeout: float = WAIT_S) -> dict[str, Any]:
    """The next frame (raises AssertionError if none comes in time, ConnectionClosed at the end)."""
    text = ws.receive(timeout=timeout)
    assert text is not None, f"no frame within {timeout} s"
    return json.loads(text)  # type: ignore[no-any-return]


def receive_until(ws: simple_websocket.Client, frame_type: str, **fields: Any) -> dict[str, Any]:
    """Skip frames until one of `frame_type` (with these fields) arrives; bounded by WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        frame = receive(ws, timeout=max(0.01, deadline - time.monotonic()))
        if frame["type"] == frame_type and all(frame.get(k) == v for k, v in fields.items()):
            return frame


def read_to_close(ws: simple_websocket.Client) -> tuple[list[dict[str, Any]], int]:
    """Every frame until the server closes, and its close code; bounded by WAIT_S."""
    frames = []
    deadline = time.monotonic() + WAIT_S
    try:
        while time.monotonic() < deadline:
            text = ws.receive(timeout=max(0.01, deadline - time.monotonic()))
            if text is not None:
                frames.append(json.loads(text))
    except simple_websocket.ConnectionClosed as closed:
        return frames, closed.reason
    raise AssertionError(f"the server did not close the connection within {WAIT_S} s: {frames}")


def open_raw(
    port: int, target: str, *, rcvbuf: int | None = None
) -> tuple[socket.socket, WSConnection, list[Event]]:
    """Connect a plain blocking socket and do the client handshake with wsproto; returns the socket,
    the wsproto connection and the events that arrived with the server's answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:  # before connect, so the advertised window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(WAIT_S)
        sock.connect((HOST, port))
        ws = WSConnection(ConnectionType.CLIENT)
        sock.sendall(ws.send(Request(host=HOST, target=target)))
        pending: list[Event] = []
        accepted = False
        while not accepted:
            data = sock.recv(4096)
            assert data, "the server closed during the handshake"
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    accepted = True
                elif isinstance(event, RejectConnection):
                    raise AssertionError(f"handshake rejected: {event.status_code}")
                else:
                    pending.append(event)
    except BaseException:
        sock.close()
        raise
    return sock, ws, pending


class RawWebSocket:
    """A hand-driven WebSocket client on a plain socket: it reads only when told to (or never)."""

    def __init__(self, port: int, target: str, *, rcvbuf: int | None = None) -> None:
        self.sock, self.ws, pending = open_raw(port, target, rcvbuf=rcvbuf)
        self.pending: list[Event] = list(pending)

    def send_text(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def receive_frame(self) -> dict[str, Any]:
        """The next text frame (JSON), reading as needed; bounded by the socket timeout."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, TextMessage):
                    assert event.message_finished  # the server never fragments
                    return json.loads(event.data)  # type: ignore[no-any-return]
                if isinstance(event, CloseConnection):
                    raise AssertionError(f"closed by the server: {event.code} {event.reason}")
            data = self.sock.recv(65536)
            assert data, "EOF"
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())

    def abort(self) -> None:
        """Vanish: close with a TCP reset, no close frame."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()
