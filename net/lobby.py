"""The server's state in the Trio thread: the games it hosts, their seats and hubs, and every client.

`ClientSession` is the session actor of one socket: it owns the connection, turns its text frames
into messages for its seat or hub (and the game master), and never blocks. `Lobby` keeps who is
connected (for `/stats`) and finds a game, a seat by its token, or a view hub.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio

from actors.messages import FULL_VIEW, PUBLIC_VIEW, View
from engine import PlayerId
from net.admission import BadTokens, Ticket
from net.codec import decode_client_frame, error_dict, json_bytes, text_frame
from net.connection import Connection
from net.errors import (
    CLOSE_BAD_TOKEN,
    CLOSE_POLICY,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SEAT_RELEASED,
    RemoteProtocolError,
)
from net.protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    TOKEN_PATTERN,
    TOKEN_RULE,
    Act,
    ClientType,
    ErrorCode,
    Hello,
    Ping,
)
from net.seats import SEAT_RELEASED, RemoteSeat, ViewHub

logger = logging.getLogger(__name__)

RATE_LIMIT_CLOSE_AFTER = 1000  # dropped messages in a row before a flooding client is closed (1008)
_TOKEN = re.compile(TOKEN_PATTERN)


def valid_token(token: str) -> bool:
    """Whether `token` is in the tokens' alphabet and length (protocol.TOKEN_PATTERN)."""
    return _TOKEN.fullmatch(token) is not None


def same_token(given: str, known: str) -> bool:
    """Constant-time comparison, on bytes: `compare_digest` refuses non-ASCII str."""
    return secrets.compare_digest(given.encode(), known.encode())


@dataclass
class GameEntry:
    """A hosted game as the network sees it: its seats by token and its spectators' hubs."""

    game_id: str
    seats: dict[str, RemoteSeat] = field(default_factory=dict)
    hubs: dict[View, ViewHub] = field(default_factory=dict)


class ClientSession:
    """One connected socket: plays a seat or watches a view, from its `hello` or, when its URL says
    everything (a spectator, or an agent with its token in the query), from the start.

    The server speaks first for such a URL, as the seed's listeners expect: `welcome` at once, then the
    view's events from the URL's `resume_from` (default 0). A client that will say `hello` (to give a
    token kept out of the URL) says so with `hello=1` in the URL and is answered as before. A `hello`
    after a welcome from the URL (every version-1 client sends one) is a no-op if it names the same
    token or none; a spectator's `hello` with the admin token moves it to the full view (a second
    `welcome` starts that stream). The outcome does not depend on timing: the first `welcome` is queued
    before any frame of the client is read.
    """

    def __init__(
        self,
        lobby: Lobby,
        connection: Connection,
        client_id: str,
        client_type: ClientType,
        token: str | None,
        *,
        ticket: Ticket | None = None,
        resume_from: int | None = None,
        await_hello: bool = False,
    ):
        """Wire the connection's callbacks to this session (Trio thread). `ticket`: the connection's
        place in the server's counts (settled when an agent gets its seat; its address is blamed for
        bad tokens). `token`, `resume_from` and `await_hello` (`hello=1`: this client will say `hello`,
        wait for it) come from the URL's query, if there."""
        self.lobby = lobby
        self.ticket = ticket
        self.connection = connection
        self.client_id = client_id
        self.client_type = client_type
        self._url_token = token
        self._url_resume_from = resume_from or 0
        self._await_hello = await_hello
        self._bound_by_url = False  # greeted from the URL: a later hello is checked against it
        self.seat: RemoteSeat | None = None
        self.hub: ViewHub | None = None
        self._greeted = False
        self._dropped = 0
        connection.on_message = self._on_text
        connection.on_binary = self._on_binary
        connection.on_rate_limited = self._on_rate_limited

    def __str__(self) -> str:
        return f"ClientSession({self.client_id}, {self.client_type})"

    async def run(self) -> None:
        """Serve the socket until it closes; the hello must come within the lobby's hello timeout."""
        self.lobby.sessions.add(self)
        try:
            if not self._await_hello and (self.client_type is not ClientType.AGENT or self._url_token):
                self._greet_from_url()
            if self._greeted:
                await self.connection.run()
                return
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._hello_deadline)
                await self.connection.run()
                nursery.cancel_scope.cancel()
        finally:
            self.lobby.sessions.discard(self)
            if self.seat is not None:
                self.seat.detach(self)
            if self.hub is not None:
                self.hub.detach(self)

    async def _hello_deadline(self) -> None:
        await trio.sleep(self.lobby.hello_timeout)
        if not self._greeted:
            self.send_error(
                ErrorCode.HELLO_REQUIRED, "no hello within the time allowed", close_code=CLOSE_POLICY
            )

    def send_error(self, code: ErrorCode, message: str, *, close_code: int | None = None) -> None:
        """Send an `error` frame; with `close_code`, close the connection after it."""
        self.connection.send_nowait(
            text_frame(json_bytes(error_dict(code, message, closing=close_code is not None)))
        )
        if close_code is not None:
            self.connection.close_nowait(close_code, message[:120])

    def _on_text(self, text: str) -> None:
        self._dropped = 0
        try:
            frame = decode_client_frame(text)
        except RemoteProtocolError as exc:
            if exc.code is ErrorCode.BAD_TOKEN:  # a token outside its alphabet
                self._bad_token(exc.detail)
                return
            self.send_error(exc.code, exc.detail, close_code=exc.close_code)
            return
        match frame:
            case Hello():
                self._on_hello(frame)
            case Act():
                if not self._greeted:
                    self.send_error(ErrorCode.HELLO_REQUIRED, "say hello first")
                elif self.seat is None:
                    self.send_error(ErrorCode.NOT_AN_AGENT, f"a spectator ({self.client_type}) cannot act")
                else:
                    self.seat.act(self, frame)
            case Ping(nonce=nonce):
                self.connection.send_nowait(
                    text_frame(json_bytes({"type": "pong", "message_type": "pong", "nonce": nonce}))
                )

    def _on_binary(self) -> None:
        self.send_error(
            ErrorCode.BINARY_NOT_SUPPORTED, "binary frames are not part of this protocol: send JSON text"
        )

    def _on_rate_limited(self) -> None:
        self._dropped += 1
        if self._dropped == 1:
            self.send_error(ErrorCode.RATE_LIMITED, "too many messages: this one and the next are dropped")
        elif self._dropped >= RATE_LIMIT_CLOSE_AFTER:
            self.send_error(ErrorCode.RATE_LIMITED, "flooding: connection closed", close_code=CLOSE_POLICY)

    def _greet_from_url(self) -> None:
        """The URL says everything: bind now and send `welcome` before reading anything."""
        self._greeted = self._bound_by_url = True
        if self.client_type is ClientType.AGENT:
            self.connection.lift_message_limit()  # its token is checked: an agent's answers may be long
            self._bind_seat(self._url_token, self._url_resume_from)
        else:  # a spectator keeps the small limit of an unknown client until it says hello
            self._bind_view(self._url_token, self._url_resume_from)

    def _on_hello(self, hello: Hello) -> None:
        if self._greeted and not self._bound_by_url:
            self.send_error(ErrorCode.INVALID_FRAME, "hello was already received")
            return
        if hello.protocol_version not in SUPPORTED_VERSIONS:
            versions = " and ".join(str(v) for v in SUPPORTED_VERSIONS)
            self.send_error(
                ErrorCode.PROTOCOL_VERSION,
                f"this server speaks protocol {versions}, not {hello.protocol_version}",
                close_code=CLOSE_PROTOCOL_ERROR,
            )
            return
        if self._bound_by_url:
            self._bound_by_url = False  # one hello at most after the URL's welcome
            self._hello_after_url(hello)
            return
        self._greeted = True
        self.connection.lift_message_limit()
        token = hello.token or self._url_token
        if self.client_type is ClientType.AGENT:
            self._bind_seat(token, hello.resume_from)
        else:
            self._bind_view(token, hello.resume_from)

    def _hello_after_url(self, hello: Hello) -> None:
        """A `hello` on a connection already welcomed from its URL: the same token (or none) changes
        nothing; a spectator's admin token moves it to the full view; another seat token is refused."""
        if hello.token is None or hello.token == self._url_token:
            self.connection.lift_message_limit()
            return
        if self.client_type is ClientType.AGENT:
            self.send_error(
                ErrorCode.INVALID_FRAME, "this connection already plays the seat of its URL's token"
            )
            return
        if self.hub is not None:
            self.hub.detach(self)
            self.hub = None
        self.connection.lift_message_limit()
        self._bind_view(hello.token, hello.resume_from)

    def _strike(self) -> None:
        self.lobby.bad_tokens.strike(self.ticket.address if self.ticket is not None else None)

    def _bad_token(self, message: str) -> None:
        self._strike()
        self.send_error(ErrorCode.BAD_TOKEN, message, close_code=CLOSE_BAD_TOKEN)

    def _open_seat(self, token: str | None) -> RemoteSeat | None:
        """The seat `token` opens, or None once the refusal is sent (bad token, released seat)."""
        if token is not None and not valid_token(token):
            self._bad_token(TOKEN_RULE)
            return None
        seat = self.lobby.seat_for(token)
        if seat is None:
            self._bad_token("no seat has this token")
            return None
        if seat.released:
            self.send_error(ErrorCode.SEAT_RELEASED, SEAT_RELEASED, close_code=CLOSE_SEAT_RELEASED)
            return None
        return seat

    def _bind_seat(self, token: str | None, resume_from: int) -> None:
        seat = self._open_seat(token)
        if seat is None:
            return
        if self.ticket is not None:
            self.ticket.settle()
        self.seat = seat
        resume_from = self._check_resume(resume_from, len(seat.history))
        self._welcome(seat.game_id, f"player:{seat.player}", seat.player, resume_from)
        seat.attach(self, resume_from)

    def _bind_view(self, token: str | None, resume_from: int) -> None:
        if token is not None and not valid_token(token):
            self._bad_token(TOKEN_RULE)
            return
        if token is not None and not same_token(token, self.lobby.admin_token):
            self._bad_token("wrong admin token")
            return
        view = FULL_VIEW if token is not None else PUBLIC_VIEW
        hub = self.lobby.hub_for(view)
        if hub is None:
            self.send_error(ErrorCode.NO_GAME, "no game is hosted here yet", close_code=CLOSE_POLICY)
            return
        self.hub = hub
        resume_from = self._check_resume(resume_from, len(hub.history))
        self._welcome(hub.game_id, str(view), None, resume_from)
        hub.attach(self, resume_from)

    def _check_resume(self, resume_from: int, available: int) -> int:
        if resume_from <= available:
            return resume_from
        self.send_error(
            ErrorCode.INVALID_FRAME,
            f"resume_from {resume_from} is past the {available} events of this view; resuming there",
        )
        return available

    def _welcome(self, game_id: str, view: str, seat: PlayerId | None, resume_from: int) -> None:
        frame = {
            "type": "welcome",
            "message_type": "welcome",
            "protocol_version": PROTOCOL_VERSION,
            "client_id": self.client_id,
            "client_type": self.client_type.value,
            "view": view,
            "game_id": game_id,
            "seat": seat,
            "resume_from": resume_from,
            "heartbeat_s": self.connection.config.ping_interval,
        }
        self.connection.send_nowait(text_frame(json_bytes(frame)))


class Lobby:
    """Everything the server knows, used only in the Trio thread."""

    def __init__(
        self,
        *,
        admin_token: str | None = None,
        hello_timeout: float = 10.0,
        bad_tokens: BadTokens | None = None,
    ) -> None:
        """`admin_token` unlocks the full view (a random one is made if not given); `bad_tokens` counts
        bad tokens per address."""
        self.admin_token = admin_token or secrets.token_urlsafe(16)
        if not valid_token(self.admin_token):
            raise ValueError(f"admin token: {TOKEN_RULE}")
        self.hello_timeout = hello_timeout
        self.bad_tokens = bad_tokens or BadTokens()
        self._stats: dict[bool, tuple[float, bytes]] = {}  # full? -> (when computed, body)
        self.games: dict[str, GameEntry] = {}
        self.current: str | None = None
        self.sessions: set[ClientSession] = set()
        self.echoes: set[Connection] = set()  # echo route connections (net/echo.py; not in /stats)
        self._tokens: dict[str, RemoteSeat] = {}

    def add_game(self, entry: GameEntry) -> None:
        """Host a game; spectators who name no game watch the latest one."""
        self.games[entry.game_id] = entry
        self.current = entry.game_id
        self._tokens.update(entry.seats)

    def remove_game(self, game_id: str) -> None:
        """Forget a finished game: its seats' tokens stop working and its history is freed."""
        entry = self.games.pop(game_id, None)
        if entry is None:
            return
        for token in entry.seats:
            self._tokens.pop(token, None)
        if self.current == game_id:
            self.current = next(reversed(self.games), None)

    def release_seat(self, token: str) -> None:
        """The seat went to a built-in agent before the game started: close the agent holding it, if any.

        The token stays known until its game is removed, so an agent that comes late is told why
        (`seat_released`) instead of getting `bad_token` and a strike against its address.
        """
        seat = self._tokens.get(token)
        if seat is not None:
            seat.release()

    def seat_for(self, token: str | None) -> RemoteSeat | None:
        """The seat a token opens, if any (compared in constant time)."""
        if token is None or not valid_token(token):
            return None
        found = None
        for known, seat in self._tokens.items():  # every token compared: the time does not tell which
            if same_token(token, known):
                found = seat
        return found

    def hub_for(self, view: View) -> ViewHub | None:
        """The current game's hub for `view`."""
        entry = self.games.get(self.current) if self.current else None
        return entry.hubs.get(view) if entry else None

    def stats(self, *, full: bool = True) -> dict[str, Any]:
        """`/stats`: as in the seed (total, counts by type and, if `full`, every client), plus the games
        hosted."""
        counts = Counter(s.client_type.value for s in self.sessions)
        body: dict[str, Any] = {
            "total_clients": len(self.sessions),
            "by_type": {kind.value: counts.get(kind.value, 0) for kind in ClientType},
        }
        if full:
            clients = sorted((s.client_id, s.client_type.value) for s in self.sessions)
            body["clients"] = [{"client_id": cid, "type": kind} for cid, kind in clients]
        body["games"] = sorted(self.games)
        return body

    def stats_body(self, *, full: bool, max_age: float) -> bytes:
        """`stats()` as JSON bytes, recomputed at most once per `max_age` seconds (each variant)."""
        now = trio.current_time()
        cached = self._stats.get(full)
        if cached is None or now - cached[0] >= max_age:
            cached = (now, (json.dumps(self.stats(full=full)) + "\n").encode())
            self._stats[full] = cached
        return cached[1]

    def close_all(self, code: int, reason: str) -> None:
        """Ask every connection to close (server shutdown)."""
        for session in list(self.sessions):
            session.connection.close_nowait(code, reason)
        for connection in list(self.echoes):
            connection.close_nowait(code, reason)
