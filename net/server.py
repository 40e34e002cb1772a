"""The HTTP side of the server: routes, the WebSocket handshake, and the thread that runs Trio.

Routes: `GET /ws/{client_id}?client_type=agent|ui|observer[&token=...]` (WebSocket), `GET /stats`,
`GET /healthz`; with `ServerConfig(echo=True)` only, `client_type=echo` too (net/echo.py, for the
conformance tests). Anything else gets a real HTTP answer: 404 for unknown paths, 426 for a plain HTTP
request to `/ws/...`, 400 for a malformed handshake, 408 when the request head does not arrive in
time, 403 for an upgrade from a foreign web page or to a foreign `Host` (net/exposure.py), 429 for an
address blocked after bad tokens, 503 over a cap (net/admission.py). Each TCP connection is handled in
its own task and ends there whatever happens to it.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import h11
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from net.admission import REFUSALS, Admission, BadTokens, Limits, Ticket, fd_limit, raise_fd_limit, serve
from net.bridge import Bridge
from net.connection import Connection, ConnectionConfig
from net.echo import ECHO, EchoSession
from net.errors import CLOSE_GOING_AWAY
from net.exposure import check_host_and_origin, origin_parts, server_names, split_url
from net.inbox import ReceiveBudget
from net.lobby import ClientSession, Lobby, same_token, valid_token
from net.memory import MemoryPolicy, keep_memory
from net.protocol import ClientType

logger = logging.getLogger(__name__)

GC_OLDEST_THRESHOLD = 1000  # collections of generation 1 between two full ones (CPython's default: 10)
MAX_HEAD = 16 * 1024  # bytes of request line and headers
CLIENT_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Where to listen and the limits of every connection (seconds)."""

    host: str = "127.0.0.1"
    port: int = 8765
    handshake_timeout: float = 10.0
    hello_timeout: float = 10.0
    connection: ConnectionConfig = field(default_factory=ConnectionConfig)
    #: Bytes held in unfinished messages across all connections; the one that would go over is closed (1013).
    max_unfinished_bytes: int = 64 * 1024 * 1024
    admin_token: str | None = None
    #: Raise the garbage collector's oldest-generation threshold when the server starts: with thousands
    #: of connections, each full collection walks them all (100+ ms pauses, docs/benchmarks.md).
    tune_gc: bool = True
    #: When to give memory back to the system after a crowd of connections has gone (net/memory.py);
    #: None: never.
    memory: MemoryPolicy | None = field(default_factory=MemoryPolicy)
    #: Serve `client_type=echo` (net/echo.py): for WebSocket conformance testing only, never in a game.
    echo: bool = False
    #: Caps (net/admission.py); 0: derived from the open-file limit, which is raised at start first
    #: (`raise_fd_limit`).
    max_connections: int = 0
    max_per_address: int = 0
    max_handshakes: int = 0
    max_handshakes_per_address: int = 0
    seat_reserve: int = 0
    raise_fd_limit: bool = True
    #: After `bad_token_limit` bad tokens within `bad_token_window` s, an address's WebSocket handshakes
    #: are refused (429) for `bad_token_block` s (0: never).
    bad_token_limit: int = 10
    bad_token_window: float = 60.0
    bad_token_block: float = 60.0
    #: Origins (`http://host:port`) whose web pages may open WebSockets, besides the server's own.
    allow_origins: tuple[str, ...] = ()
    #: Names the server answers to (the `Host` header) besides loopback and `host`.
    public_names: tuple[str, ...] = ()
    #: Serve TLS (`wss://`, `https://`) with this context (net/exposure.py `tls_context`).
    ssl_context: ssl.SSLContext | None = None
    #: `/stats` bodies are computed at most once per this many seconds.
    stats_cache_s: float = 1.0

    def __post_init__(self) -> None:
        """Refuse an allowed origin that is not one (it would silently match nothing)."""
        for origin in self.allow_origins:
            parts = origin_parts(origin)
            if parts is None or parts[0] not in ("http", "https"):
                raise ValueError(f"{origin!r} is not an origin: give http(s)://HOST[:PORT]")


async def _read_head(stream: trio.abc.Stream) -> tuple[h11.Request, h11.Connection] | None:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    received = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(MAX_HEAD)
            received += len(data)
            conn.receive_data(bytes(data))
            if not data:
                return None
            continue
        if isinstance(event, h11.Request):
            # h11 only bounds a head still incomplete: one that arrives whole is parsed at any size.
            # What follows it (WebSocket frames sent with the handshake) is not part of the head.
            if received - len(conn.trailing_data[0]) > MAX_HEAD:
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
            return event, conn
        return None


async def _respond(
    stream: trio.abc.Stream, conn: h11.Connection | None, status: int, body: Any, **headers: str
) -> None:
    payload = body if isinstance(body, bytes) else (json.dumps(body) + "\n").encode()
    conn = conn or h11.Connection(h11.SERVER)
    fields = [
        ("content-type", "application/json"),
        ("content-length", str(len(payload))),
        ("connection", "close"),
        *((k.replace("_", "-"), v) for k, v in headers.items()),
    ]
    try:
        data = conn.send(h11.Response(status_code=status, headers=fields, reason=HTTPStatus(status).phrase))
    except h11.LocalProtocolError:  # the request was unreadable: answer with a fresh state machine
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        conn.next_event()
        data = conn.send(h11.Response(status_code=status, headers=fields, reason=HTTPStatus(status).phrase))
    data += conn.send(h11.Data(data=payload)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)


@dataclass(slots=True)
class Site:
    """What every connection's handler needs: the lobby, the config, the names and port it answers to."""

    lobby: Lobby
    config: ServerConfig
    names: frozenset[str]
    #: The server's bound on bytes held in unfinished messages, shared by all its connections.
    budget: ReceiveBudget
    port: int = 0


async def handle_tcp(site: Site, stream: trio.SocketStream, ticket: Ticket) -> None:
    """Serve one TCP connection to its end; nothing it does can take the server down."""
    try:
        await _serve(site, stream, ticket)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        logger.debug("a client vanished")
    except Exception:  # the per-connection boundary: log, drop this connection, keep serving the rest
        logger.exception("connection handler failed")
    finally:
        ticket.release()
        await trio.aclose_forcefully(stream)


async def _serve(site: Site, tcp: trio.SocketStream, ticket: Ticket) -> None:
    config = site.config
    stream: trio.abc.Stream = tcp
    head = None
    ready = config.ssl_context is None  # a TLS session to answer in
    with trio.move_on_after(config.handshake_timeout) as scope:
        if config.ssl_context is not None:
            stream = trio.SSLStream(tcp, config.ssl_context, server_side=True)
            try:
                await stream.do_handshake()
            except trio.BrokenResourceError:  # not TLS, or a failed handshake: nothing to answer in
                logger.debug("TLS handshake failed", exc_info=True)
                return
            ready = True
        try:
            head = await _read_head(stream)
        except h11.RemoteProtocolError as exc:
            await _respond(stream, None, exc.error_status_hint, {"error": f"bad request: {exc}"})
            return
    if scope.cancelled_caught:
        if ready:
            await _respond(stream, None, 408, {"error": "request head not received in time"})
        return
    if head is None:
        return
    await _route(site, stream, ticket, head, local=tcp.socket.getsockname()[0])


async def _route(
    site: Site,
    stream: trio.abc.Stream,
    ticket: Ticket,
    head: tuple[h11.Request, h11.Connection],
    *,
    local: str,
) -> None:
    request, conn = head
    target = request.target.decode("latin-1")
    parts = split_url(target)
    path, query = parts.path, parse_qs(parts.query)
    if request.method != b"GET":
        await _respond(stream, conn, 405, {"error": "only GET is served"}, allow="GET")
    elif path == "/healthz":
        await _respond(stream, conn, 200, {"ok": True})
    elif path == "/stats":
        await _stats(site, stream, ticket, head, query)
    elif path.startswith("/ws/"):
        blocked = site.lobby.bad_tokens.blocked_for(ticket.address)
        if blocked:
            message = f"too many bad tokens from your address: try again in {blocked:.0f} s"
            await _respond(stream, conn, 429, {"error": message}, retry_after=str(max(1, round(blocked))))
            return
        await _websocket(
            stream,
            conn=conn,
            request=request,
            client_id=path[4:],
            query=query,
            site=site,
            ticket=ticket,
            local=local,
        )
    else:
        await _respond(stream, conn, 404, {"error": f"no route {path}"})


async def _stats(
    site: Site,
    stream: trio.abc.Stream,
    ticket: Ticket,
    head: tuple[h11.Request, h11.Connection],
    query: dict[str, list[str]],
) -> None:
    """Counts for anyone; the list of clients with the admin token (`Authorization: Bearer` or `?token=`)."""
    request, conn = head
    token = query.get("token", [None])[0]
    for name, value in request.headers:
        if name.lower() == b"authorization" and value[:7].lower() == b"bearer ":
            token = value[7:].decode("latin-1").strip()
    if token is not None and not (valid_token(token) and same_token(token, site.lobby.admin_token)):
        site.lobby.bad_tokens.strike(ticket.address)
        await _respond(stream, conn, 403, {"error": "wrong admin token"})
        return
    body = site.lobby.stats_body(full=token is not None, max_age=site.config.stats_cache_s)
    await _respond(stream, conn, 200, body)


async def _websocket(
    stream: trio.abc.Stream,
    *,
    conn: h11.Connection,
    request: h11.Request,
    client_id: str,
    query: dict[str, list[str]],
    site: Site,
    ticket: Ticket,
    local: str,
) -> None:
    config, lobby = site.config, site.lobby
    headers = {name.lower(): value.lower() for name, value in request.headers}
    if b"websocket" not in headers.get(b"upgrade", b""):
        await _respond(
            stream, conn, 426, {"error": "this path needs a WebSocket upgrade"}, upgrade="websocket"
        )
        return
    if not CLIENT_ID.fullmatch(client_id):
        await _respond(
            stream, conn, 400, {"error": "client id must be 1-64 letters, digits, '_', '.' or '-'"}
        )
        return
    kind = query.get("client_type", ["ui"])[0]
    echo = config.echo and kind == ECHO
    if not echo and kind not in {k.value for k in ClientType}:
        await _respond(
            stream, conn, 400, {"error": f"client_type must be agent, ui or observer, not {kind!r}"}
        )
        return
    ws = WSConnection(ConnectionType.SERVER)
    try:
        ws.initiate_upgrade_connection(list(request.headers), request.target)
        events = list(ws.events())
    except WsRemoteProtocolError as exc:
        await _respond(stream, conn, 400, {"error": f"bad WebSocket handshake: {exc}"})
        return
    if not events or not isinstance(events[0], Request):
        await stream.send_all(ws.send(RejectConnection(status_code=400)))
        return
    origin = next((v for k, v in request.headers if k.lower() == b"origin"), None)
    refusal = check_host_and_origin(
        next((v for k, v in request.headers if k.lower() == b"host"), b"").decode("latin-1"),
        origin.decode("latin-1") if origin is not None else None,
        names=site.names,
        local_address=local,
        port=site.port,
        allow_origins=config.allow_origins,
    )
    if refusal is not None:
        await _respond(stream, conn, 403, {"error": refusal})
        return
    if kind != ClientType.AGENT and not ticket.to_spectator():
        await _respond(stream, conn, 503, {"error": REFUSALS["spectators"]}, retry_after="5")
        return
    await stream.send_all(ws.send(AcceptConnection()))
    leftover, _ = conn.trailing_data  # frames that arrived with the handshake
    token = query.get("token", [None])[0]
    connection = Connection(
        stream, ws, config.connection, name=client_id, initial=bytes(leftover), budget=site.budget
    )
    session = (
        EchoSession(lobby, connection)
        if echo
        else ClientSession(lobby, connection, client_id, ClientType(kind), token, ticket=ticket)
    )
    await session.run()


class NetworkServer:
    """Runs the Trio server in its own thread; everything else talks to it through `call_soon`."""

    def __init__(self, config: ServerConfig) -> None:
        """Nothing starts until `start()`."""
        self.config = config
        self.port = 0
        bad_tokens = BadTokens(config.bad_token_limit, config.bad_token_window, config.bad_token_block)
        self.lobby = Lobby(
            admin_token=config.admin_token, hello_timeout=config.hello_timeout, bad_tokens=bad_tokens
        )
        #: The caps and counts of connections (net/admission.py); set when the server starts.
        self.admission: Admission | None = None
        self.bridge: Bridge | None = None
        #: Bytes of unfinished messages held by all connections now (Trio thread).
        self.budget = ReceiveBudget(config.max_unfinished_bytes)
        self._nursery: trio.Nursery | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="network", daemon=True)

    def start(self, timeout: float = 10.0) -> int:
        """Start listening; returns the bound port. Raises OSError if the address cannot be bound."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the network thread did not start")
        if self._error is not None:
            raise self._error
        return self.port

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` in the Trio thread (any thread; never blocks)."""
        assert self.bridge is not None  # start() first
        self.bridge.call_soon(fn, *args)

    def spawn(self, fn: Callable[[], Any]) -> None:
        """Start `await fn()` as a background task of the server (Trio thread only)."""
        assert self._nursery is not None
        self._nursery.start_soon(fn)

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection (1001), stop serving and join the thread."""
        if self.bridge is not None and self._thread.is_alive():
            self.bridge.call_soon(self._shutdown)
            self._thread.join(timeout)

    def _shutdown(self) -> None:
        self.lobby.close_all(CLOSE_GOING_AWAY, "server shutting down")
        assert self._nursery is not None
        self._nursery.start_soon(self._cancel_after_close)

    async def _cancel_after_close(self) -> None:
        with trio.move_on_after(1.0):
            while self.lobby.sessions or self.lobby.echoes:
                await trio.sleep(0.01)
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # reported to start(); the thread must end quietly
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        try:
            listeners = await trio.open_tcp_listeners(self.config.port, host=self.config.host)
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = listeners[0].socket.getsockname()[1]
        config = self.config
        fds = raise_fd_limit() if config.raise_fd_limit else fd_limit()
        try:
            limits = Limits.derive(
                fds,
                max_connections=config.max_connections,
                max_per_address=config.max_per_address,
                max_handshakes=config.max_handshakes,
                max_handshakes_per_address=config.max_handshakes_per_address,
                seat_reserve=config.seat_reserve,
            )
        except ValueError as exc:
            for listener in listeners:
                await listener.aclose()
            self._error = exc
            self._ready.set()
            return
        self.admission = Admission(limits)
        logger.info("open-file limit %d: %s", fds, limits)
        if self.config.tune_gc:
            gen0, gen1, _ = gc.get_threshold()
            gc.set_threshold(gen0, gen1, GC_OLDEST_THRESHOLD)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.bridge = Bridge(trio.lowlevel.current_trio_token())
            self._ready.set()
            if config.memory is not None:
                nursery.start_soon(keep_memory, self.admission, config.memory)
            site = Site(
                self.lobby, config, server_names(config.host, config.public_names), self.budget, self.port
            )
            handler = functools.partial(handle_tcp, site)
            plain = config.ssl_context is None
            await serve(listeners, handler, self.admission, nursery, plain=plain)
