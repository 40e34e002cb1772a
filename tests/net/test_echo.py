"""The echo route (`ServerConfig(echo=True)`, `client_type=echo`) over loopback, without Autobahn.

The same checks the conformance run (conformance/, docs/conformance.md) depends on, in miniature: text and
binary come back unchanged whatever their size, fragments are joined, pings are answered in the middle of
a fragmented message, the close handshake completes, and a protocol error fails the connection (close
frame, then TCP) without waiting for a reply. A hand-driven wsproto client on a plain socket, bounded by
socket timeouts.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Iterator

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

from net.codec import binary_frame, text_frame
from net.connection import ConnectionConfig
from net.errors import CLOSE_GOING_AWAY, CLOSE_INVALID_DATA, CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR
from net.server import NetworkServer, ServerConfig

HOST = "127.0.0.1"
WAIT_S = 5.0  # seconds: the longest any single expected thing may take on a loaded machine
# A close timeout far beyond WAIT_S (a server that waited for our close reply would fail the tests), and
# the rate limit out of the way, as in the conformance run; messages up to 1 MiB (the game's limit is lower).
ECHO = ServerConfig(
    port=0,
    echo=True,
    connection=ConnectionConfig(max_message=1024 * 1024, close_timeout=60.0, rate=1e6, burst=1e6),
    tune_gc=False,
)
TARGET = "/ws/echo-test?client_type=echo"


class Client:
    """A WebSocket client driven by hand: it sends what it is told and reads only when asked."""

    def __init__(self, port: int, target: str = TARGET) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=WAIT_S)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: deque[Event] = deque()
        self.eof = False
        self.sock.sendall(self.ws.send(Request(host=HOST, target=target)))
        self.handshake = self.next_event()

    def send(self, *events: Event) -> None:
        self.sock.sendall(b"".join(self.ws.send(e) for e in events))

    def next_event(self) -> Event:
        """The next event, reading as needed (EOF reads as wsproto's 1006 close; then AssertionError)."""
        while not self.pending:
            assert not self.eof, "EOF: no more events"
            data = self.sock.recv(65536)
            self.eof = not data
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())
        return self.pending.popleft()

    def message(self) -> str | bytes:
        """The next whole message (text or binary), its fragments joined; fails on anything else."""
        parts: list[str | bytes] = []
        while True:
            event = self.next_event()
            assert isinstance(event, TextMessage | BytesMessage), f"expected a message, got {event}"
            parts.append(event.data)
            if event.message_finished:
                return "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)  # type: ignore[arg-type]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def echo_server() -> Iterator[NetworkServer]:
    server = NetworkServer(ECHO)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(echo_server: NetworkServer) -> Iterator[Client]:
    c = Client(echo_server.port)
    try:
        assert isinstance(c.handshake, AcceptConnection)
        yield c
    finally:
        c.close()


def test_echo_is_off_by_default():
    server = NetworkServer(ServerConfig(port=0, tune_gc=False))
    server.start()
    try:
        c = Client(server.port)
        try:
            assert isinstance(c.handshake, RejectConnection)
            assert c.handshake.status_code == 400
        finally:
            c.close()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        "Loup-Garou 🐺 à la lune",
        "x" * 125,
        "x" * 126,
        "y" * 70_000,  # 64-bit length field
        b"",
        bytes(range(256)),
        b"\x00" * 65_535,
        b"\xff" * 300_000,  # more than one read on each side
    ],
    ids=lambda p: f"{type(p).__name__}-{len(p)}",
)
def test_messages_come_back_unchanged(client: Client, payload: str | bytes):
    client.send(TextMessage(data=payload) if isinstance(payload, str) else BytesMessage(data=payload))
    assert client.message() == payload


def test_many_messages_come_back_in_order(client: Client):
    sent = [f"message {i}" if i % 2 else f"binary {i}".encode() for i in range(500)]
    client.send(*(TextMessage(data=m) if isinstance(m, str) else BytesMessage(data=m) for m in sent))
    assert [client.message() for _ in sent] == sent


def test_fragments_are_joined_and_pings_answered_in_between(client: Client):
    client.send(
        TextMessage(data="Loup", message_finished=False),
        Ping(payload=b"mid-message"),
        TextMessage(data="-Ga", message_finished=False),
        TextMessage(data="rou", message_finished=True),
        BytesMessage(data=b"\x00\x01", message_finished=False),
        BytesMessage(data=b"", message_finished=False),
        BytesMessage(data=b"\x02", message_finished=True),
    )
    pong = client.next_event()
    assert isinstance(pong, Pong)
    assert pong.payload == b"mid-message"
    assert client.message() == "Loup-Garou"
    assert client.message() == b"\x00\x01\x02"


def test_close_handshake_completes_and_the_server_closes_tcp(client: Client):
    client.send(TextMessage(data="last"), CloseConnection(code=CLOSE_NORMAL, reason="bye"))
    assert client.message() == "last"
    close = client.next_event()
    assert isinstance(close, CloseConnection)
    assert (close.code, close.reason) == (CLOSE_NORMAL, "bye")
    assert client.ws.state is ConnectionState.CLOSED
    assert client.sock.recv(1) == b""  # the server closes TCP first (RFC 6455 7.1.1)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\x81\x82\x00\x00\x00\x00\xff\xfe", CLOSE_INVALID_DATA),  # masked text frame, invalid UTF-8
        (b"\x89\xfe\x00\x7e" + b"\x00" * 4 + b"p" * 126, CLOSE_PROTOCOL_ERROR),  # ping payload > 125 bytes
        (b"\x81\x02hi", CLOSE_PROTOCOL_ERROR),  # unmasked client frame
    ],
    ids=["invalid-utf8", "long-ping", "unmasked"],
)
def test_protocol_error_fails_the_connection_at_once(client: Client, raw: bytes, code: int):
    client.sock.sendall(raw)
    start = time.monotonic()
    close = client.next_event()
    assert isinstance(close, CloseConnection)
    assert close.code == code
    # No reply from us: the server closes TCP anyway, long before its close timeout (60 s).
    assert client.sock.recv(1) == b""
    assert time.monotonic() - start < WAIT_S


def test_server_stop_closes_echo_connections_with_1001(echo_server: NetworkServer, client: Client):
    client.send(TextMessage(data="still here"))
    assert client.message() == "still here"
    echo_server.stop()
    close = client.next_event()
    assert isinstance(close, CloseConnection)
    assert close.code == CLOSE_GOING_AWAY


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])
def test_codec_frames_parse_as_one_whole_message(size: int):
    """`text_frame` and `binary_frame` at each RFC 6455 length-encoding boundary, read by wsproto."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="test", target="/ws/t")))
    list(server.events())
    client.receive_data(server.send(AcceptConnection()))
    list(client.events())
    client.receive_data(text_frame(b"t" * size) + binary_frame(b"\x80" * size))
    events = list(client.events())
    assert [(type(e), e.data, e.message_finished) for e in events] == [  # type: ignore[attr-defined]
        (TextMessage, "t" * size, True),
        (BytesMessage, b"\x80" * size, True),
    ]
