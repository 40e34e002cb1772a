"""The HTTP side of the server: one TCP connection's request head, its route, and the WebSocket handshake.

Routes: `GET /ws/{client_id}?client_type=agent|ui|observer[&token=...][&resume_from=N][&hello=1]`
(WebSocket), `GET /ws` (an AIWolf NLP agent, net/aiwolf/), `GET /stats`, `GET /healthz`, the browser
page (`GET /` and its fixed set of assets, net/web.py); with `ServerConfig(echo=True)` only,
`client_type=echo` too (net/echo.py, for the
conformance tests). Anything else gets a real HTTP answer: 404 for unknown paths, 426 for a plain HTTP
request to `/ws/...`, 400 for a malformed handshake, 408 when the request head does not arrive in
time, 403 for an upgrade from a foreign web page or to a foreign `Host` (net/exposure.py), 429 for an
address blocked after bad tokens, 503 over a cap (net/admission.py). Each TCP connection is handled in
its own task and ends there whatever happens to it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import h11
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from net.admission import REFUSALS, Ticket
from net.aiwolf.session import AIWolfSession, bearer_token
from net.connection import Connection
from net.echo import ECHO, EchoSession
from net.exposure import check_host_and_origin, split_url
from net.inbox import ReceiveBudget
from net.lobby import ClientSession, Lobby, same_token, valid_token
from net.protocol import ClientType
from net.web import answer as page_answer

if TYPE_CHECKING:
    from net.server import ServerConfig

logger = logging.getLogger(__name__)

MAX_RESUME_DIGITS = 9  # a URL's resume_from: far more events than any view has
MAX_HEAD = 16 * 1024  # bytes of request line and headers
CLIENT_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

Session = AIWolfSession | EchoSession | ClientSession  # what a WebSocket connection runs


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
    session = await _route(site, stream, ticket, head, local=tcp.socket.getsockname()[0])
    # A WebSocket's session runs here, once the request and the handshake's state machines are out of
    # reach: kept for the connection's life they were 2.5 KB of every idle spectator.
    del head
    if session is not None:
        await session.run()


async def _route(
    site: Site,
    stream: trio.abc.Stream,
    ticket: Ticket,
    head: tuple[h11.Request, h11.Connection],
    *,
    local: str,
) -> Session | None:
    """Answer a plain HTTP request; for a WebSocket upgrade, the session to run (None if refused)."""
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
    elif path == "/ws" or path.startswith("/ws/"):
        blocked = site.lobby.bad_tokens.blocked_for(ticket.address)
        if blocked:
            message = f"too many bad tokens from your address: try again in {blocked:.0f} s"
            await _respond(stream, conn, 429, {"error": message}, retry_after=str(max(1, round(blocked))))
            return None
        return await _websocket(
            stream,
            conn=conn,
            request=request,
            client_id=path[4:] if path != "/ws" else None,
            query=query,
            site=site,
            ticket=ticket,
            local=local,
        )
    elif (page := page_answer(path, _header(request, b"if-none-match"))) is not None:
        await _send_page(stream, conn, *page)
    else:
        await _respond(stream, conn, 404, {"error": f"no route {path}"})
    return None


def _header(request: h11.Request, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in request.headers if k.lower() == name), None)


async def _send_page(
    stream: trio.abc.Stream, conn: h11.Connection, status: int, body: bytes, headers: list[tuple[str, str]]
) -> None:
    """One file of the page (a 304 has no body, RFC 9110 section 15.4.5)."""
    fields = [*headers, ("connection", "close")]
    if status != HTTPStatus.NOT_MODIFIED:
        fields.append(("content-length", str(len(body))))
    data = conn.send(h11.Response(status_code=status, headers=fields, reason=HTTPStatus(status).phrase))
    if body:
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)


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
    client_id: str | None,
    query: dict[str, list[str]],
    site: Site,
    ticket: Ticket,
    local: str,
) -> Session | None:
    """The WebSocket handshake of `/ws/{client_id}` (our protocol) or, with no client id, `/ws` (AIWolf's)."""
    config, lobby = site.config, site.lobby
    headers = {name.lower(): value.lower() for name, value in request.headers}
    if b"websocket" not in headers.get(b"upgrade", b""):
        await _respond(
            stream, conn, 426, {"error": "this path needs a WebSocket upgrade"}, upgrade="websocket"
        )
        return None
    if client_id is not None and not CLIENT_ID.fullmatch(client_id):
        await _respond(
            stream, conn, 400, {"error": "client id must be 1-64 letters, digits, '_', '.' or '-'"}
        )
        return None
    kind = query.get("client_type", ["ui"])[0] if client_id is not None else ClientType.AGENT.value
    echo = config.echo and kind == ECHO
    if not echo and kind not in {k.value for k in ClientType}:
        await _respond(
            stream, conn, 400, {"error": f"client_type must be agent, ui or observer, not {kind!r}"}
        )
        return None
    says_hello = query.get("hello", ["0"])[0]
    if says_hello not in ("0", "1"):
        await _respond(stream, conn, 400, {"error": "hello must be 0 or 1"})
        return None
    resume_text = query.get("resume_from", [None])[0]
    if resume_text is not None and not (
        resume_text.isascii() and resume_text.isdigit() and len(resume_text) <= MAX_RESUME_DIGITS
    ):
        await _respond(stream, conn, 400, {"error": "resume_from must be a whole number >= 0"})
        return None
    ws = WSConnection(ConnectionType.SERVER)
    try:
        ws.initiate_upgrade_connection(list(request.headers), request.target)
        events = list(ws.events())
    except WsRemoteProtocolError as exc:
        await _respond(stream, conn, 400, {"error": f"bad WebSocket handshake: {exc}"})
        return None
    if not events or not isinstance(events[0], Request):
        await stream.send_all(ws.send(RejectConnection(status_code=400)))
        return None
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
        return None
    if kind != ClientType.AGENT and not ticket.to_spectator():
        await _respond(stream, conn, 503, {"error": REFUSALS["spectators"]}, retry_after="5")
        return None
    await stream.send_all(ws.send(AcceptConnection()))
    leftover, _ = conn.trailing_data  # frames that arrived with the handshake
    token = query.get("token", [None])[0]
    assert ws.connection is not None  # the upgrade was just accepted
    connection = Connection(
        stream,
        ws.connection,
        config.connection,
        name=client_id or "aiwolf",
        initial=bytes(leftover),
        budget=site.budget,
    )
    session: Session
    if client_id is None:  # AIWolf's fixed path: its token may also come as `Authorization: Bearer`
        token = bearer_token(list(request.headers)) or token
        session = AIWolfSession(lobby, connection, token, ticket=ticket)
    elif echo:
        session = EchoSession(lobby, connection)
    else:
        session = ClientSession(
            lobby,
            connection,
            client_id,
            ClientType(kind),
            token,
            ticket=ticket,
            resume_from=int(resume_text) if resume_text is not None else None,
            await_hello=says_hello == "1",
        )
    return session
