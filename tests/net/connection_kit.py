"""A `net.connection.Connection` over an in-memory stream pair, with a hand-driven wsproto client as the
peer on the other end (`served`): the harness of test_connection.py and test_connection_limits.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, Request

from net.connection import Connection, ConnectionConfig
from net.inbox import ReceiveBudget

CONFIG = ConnectionConfig(
    max_message=100,
    outbox_bytes=1000,
    send_timeout=2.0,
    close_timeout=3.0,
    ping_interval=1.0,
    ping_timeout=0.5,
    rate=10.0,
    burst=20.0,
)


def handshake() -> tuple[WSConnection, WSConnection]:
    """A client and a server wsproto connection, both OPEN (the HTTP upgrade done in memory)."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="test", target="/ws/t")))
    assert isinstance(next(server.events()), Request)
    client.receive_data(server.send(AcceptConnection()))
    assert isinstance(next(client.events()), AcceptConnection)
    return client, server


class Peer:
    """The remote end: a wsproto client over the other half of the stream pair."""

    def __init__(self, stream: trio.abc.Stream, ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.eof = False

    async def send(self, *events: Event) -> None:
        await self.stream.send_all(b"".join(self.ws.send(e) for e in events))

    async def read(self) -> list[Event]:
        """Everything one read brings (EOF and a broken stream read as wsproto's 1006 close)."""
        try:
            data = await self.stream.receive_some(65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if not data:
            self.eof = True
        self.ws.receive_data(data or None)
        return list(self.ws.events())

    async def until(self, kind: type[Event]) -> Event:
        """Read until an event of `kind` arrives (the caller bounds the wait)."""
        while True:
            for event in await self.read():
                if isinstance(event, kind):
                    return event
            assert not self.eof, f"EOF before a {kind.__name__}"


@dataclass
class Harness:
    conn: Connection
    peer: Peer
    done: trio.Event
    messages: list[str] = field(default_factory=list)
    binaries: int = 0
    limited: int = 0
    arrived: trio.Event = field(default_factory=trio.Event)

    async def next_message(self) -> str:
        while not self.messages:
            self.arrived = trio.Event()
            await self.arrived.wait()
        return self.messages.pop(0)


@asynccontextmanager
async def served(
    config: ConnectionConfig = CONFIG,
    *,
    pair: Callable[[], tuple[trio.abc.Stream, trio.abc.Stream]] = trio.testing.memory_stream_pair,
    initial: Callable[[WSConnection], bytes] | None = None,
    budget: ReceiveBudget | None = None,
) -> AsyncIterator[Harness]:
    """Run a `Connection` on one end of `pair`; the body drives the peer on the other end."""
    client_stream, server_stream = pair()
    client_ws, server_ws = handshake()
    assert server_ws.connection is not None
    conn = Connection(
        server_stream,
        server_ws.connection,  # what the server keeps once upgraded (net/routes.py)
        config,
        name="t",
        initial=initial(client_ws) if initial else b"",
        budget=budget,
    )
    h = Harness(conn, Peer(client_stream, client_ws), trio.Event())

    def on_message(text: str) -> None:
        h.messages.append(text)
        h.arrived.set()

    def on_binary() -> None:
        h.binaries += 1

    def on_rate_limited() -> None:
        h.limited += 1

    conn.on_message, conn.on_binary, conn.on_rate_limited = on_message, on_binary, on_rate_limited

    async def run() -> None:
        await conn.run()  # must never raise: an exception here fails the test through the nursery
        h.done.set()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run)
            try:
                yield h
            finally:
                nursery.cancel_scope.cancel()  # no await here: a Cancelled would hide the test's error
    finally:
        await trio.aclose_forcefully(client_stream)
