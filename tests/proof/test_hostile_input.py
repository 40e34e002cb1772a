"""A catalogue of hostile input over the socket, each case against a live hosted game on loopback.

Every case plays its own game: preset `aiwolf-5` with a fixed deal (Alice the seer, Bruno the werewolf,
Chloe possessed, Damien and Elise villagers). Alice is Mallory, the attacker: her seat is driven by hand
on a raw socket (`WireClient`), and she plays legally when she is not attacking. The other four seats are
SDK agents in threads; a public and a full-view spectator watch. When the case's trigger fires, Mallory
attacks, on her own connection or from another one, and the case checks the exact reaction (error code
and message, `rejected` reason, close code and reason, HTTP status). Then the game must still be correct:
it ends with a valid outcome, Mallory's faults are those the case expects and everyone else's are zero,
and every connection got its full, gap-free stream (Mallory's across her reconnections: after an attack
that gets her connection closed she comes back with her token and resumes, as a real agent would), and
nothing but the reaction came back to her.

While an attack runs, the other agents hold their answers in one phase (`Case.hold`: the night-1
inspection for the attacks at Mallory's first request, the day-1 discussion for those aimed at another
speaker's turn), so the game is live but frozen: the reactions that depend on its state ("already
answered", "phase N is over", the request sent again after a reconnection) are deterministic. One server
is shared by the cases that need no special limits; the flood, the half-open connection and the client
that never reads each get one with limits that make them exact and fast.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import random
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from actors.messages import GameFinished
from engine import GameConfig, PlayerId, Role, Team, Termination, preset
from engine.config import MAX_SPEECH_CHARS
from net.connection import ConnectionConfig
from net.game_network import GameNetwork
from net.hosting import Host
from net.protocol import TOKEN_RULE
from net.server import NetworkServer, ServerConfig
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.netutil import HOST, WAIT_S, poll_stats, start_server
from tests.proof.wire import (
    Watcher,
    WireClient,
    assert_reaction,
    audience_events,
    cleanup,
    collapse,
    event_stream,
    public_events,
    render,
    ws_frame,
)

CONFIG = preset("aiwolf-5")
LONG_SPEECHES = dataclasses.replace(
    CONFIG, rules=dataclasses.replace(CONFIG.rules, max_speech_chars=MAX_SPEECH_CHARS)
)
MALLORY = PlayerId("Alice")
ROLES = {
    PlayerId("Alice"): Role.SEER,
    PlayerId("Bruno"): Role.WEREWOLF,
    PlayerId("Chloe"): Role.POSSESSED,
    PlayerId("Damien"): Role.VILLAGER,
    PlayerId("Elise"): Role.VILLAGER,
}
GAME_WAIT_S = 60.0
SECRET = bytes(range(32))  # fixed host secret: each case is the same game on every run
GATE_S = 20.0  # the longest the other agents hold their answers while an attack runs
LIMIT = "message too big (limit 131072 bytes)"
EARLY_LIMIT = "message too big (limit 4096 bytes before hello)"
_TIMERS: dict[str, Any] = {"port": 0, "handshake_timeout": 1.0, "hello_timeout": 1.5, "stats_cache_s": 0}
SERVERS = {
    "default": ServerConfig(**_TIMERS),
    # No refill to speak of: the burst, then every message dropped, so a flood's reaction is exact.
    "no_refill": ServerConfig(**_TIMERS, connection=ConnectionConfig(rate=1e-3)),
    "fast_ping": ServerConfig(**_TIMERS, connection=ConnectionConfig(ping_interval=0.4, ping_timeout=1.0)),
    "short_message_timeout": ServerConfig(**_TIMERS, connection=ConnectionConfig(message_timeout=0.5)),
    "small_outbox": ServerConfig(
        **_TIMERS, connection=ConnectionConfig(outbox_bytes=64 * 1024, send_timeout=1.0)
    ),
}
_GAME_NUMBERS = itertools.count()


# ---------------------------------------------------------------------------------------- Mallory


class Mallory:
    """Alice's seat on a raw socket: plays legally, attacks when told, reconnects after a close."""

    def __init__(self, port: int, token: str, rng: random.Random, *, long_speeches: bool) -> None:
        self.port = port
        self.token = token
        self.rng = rng
        self.long_speeches = long_speeches
        self._conn: WireClient | None = None
        self.events: list[dict[str, Any]] = []  # this seat's view, index = seq
        self.connections: list[list[int]] = []  # the seqs each connection delivered, in order
        self.welcomes: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.reactions: list[str] = []  # every error, rejected and pong frame, and every unasked-for end
        self.answered: set[int] = set()
        self.over: dict[str, Any] | None = None
        self.final: str | None = None  # how the connection ended after game_over
        self.dead = False

    @property
    def conn(self) -> WireClient:
        assert self._conn is not None
        return self._conn

    @property
    def request(self) -> dict[str, Any]:
        assert self.requests, "no request yet"
        return self.requests[-1]

    def connect(self) -> None:
        """A new connection with her token, resuming after the events she holds."""
        self._conn = WireClient(self.port, f"/ws/mallory-{len(self.connections)}?client_type=agent")
        self.connections.append([])
        self.conn.hello(self.token, resume_from=len(self.events))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def pump(self) -> dict[str, Any] | None:
        """The next frame on the current connection (absorbed), or None once it has ended."""
        conn = self.conn
        if conn.ended is not None:
            return None
        pings = conn.pings
        frame = conn.next()
        if conn.silent:  # unanswered pings are part of a reaction
            self.reactions += ["ping"] * (conn.pings - pings)
        if frame is None:
            if self.over is None:
                self.reactions.append(ending(conn))
            else:
                self.final = ending(conn)
            return None
        match frame["type"]:
            case "event":
                seq = frame["seq"]
                self.connections[-1].append(seq)
                if seq == len(self.events):
                    event = frame["event"]
                    self.events.append(event)
                    if event["type"] == "player_died" and event["player"] == MALLORY:
                        self.dead = True
            case "request":
                self.requests.append(frame)
            case "welcome":
                self.welcomes.append(frame)
            case "game_over":
                self.over = frame
            case _:
                self.reactions.append(render(frame))
        return frame

    def collect(self, count: int) -> None:
        """Read until `count` reactions are in, or the connection ends (bounded by the socket timeout)."""
        while len(self.reactions) < count and self.conn.ended is None:
            self.pump()

    def act(self, phase_id: Any, action: Any, **fields: Any) -> None:
        self.conn.send_json({"type": "act", "phase_id": phase_id, "action": action} | fields)

    def legal(self, request: dict[str, Any]) -> dict[str, Any]:
        choices = [c for c in request["choices"] if c["kind"] != "abstain"] or request["choices"]
        choice = self.rng.choice(choices)
        match choice["kind"]:
            case "speak":
                text = "x" * choice["max_chars"] if self.long_speeches else "Alice: nothing to report."
                return {"kind": "speak", "text": text}
            case "bid":
                return {"kind": "bid", "amount": self.rng.randint(0, choice.get("max_bid", 0))}
            case "abstain":
                return {"kind": "abstain"}
            case kind:
                return {"kind": kind, "target": self.rng.choice(choice["targets"])}

    def answer(self, request: dict[str, Any], action: dict[str, Any] | None = None) -> None:
        """Answer `request` (legally unless told otherwise), once."""
        self.answered.add(request["phase_id"])
        self.act(request["phase_id"], action or self.legal(request))

    def answer_open_request(self) -> None:
        if self.requests and self.request["phase_id"] not in self.answered and self.conn.ended is None:
            self.answer(self.request)


def ending(conn: WireClient) -> str:
    """How a connection ended, as a reaction line: `close CODE: reason`, `eof` or `reset`."""
    assert conn.ended is not None
    return f"{conn.ended}: {conn.close_reason}" if conn.close_reason else conn.ended


# ---------------------------------------------------------------------------------------- cases

Observed = list[str]
Later = Callable[[GameFinished], Observed]  # a reaction that can only be read once the game is over
Attack = Callable[["Mallory", "Ctx", dict[str, Any]], "Observed | Later | None"]
Trigger = Callable[[Mallory, dict[str, Any]], bool]


@dataclass
class Ctx:
    """What an attack may use besides Mallory."""

    server: NetworkServer
    net: GameNetwork
    baseline: Played | None
    logs: list[logging.LogRecord] = field(default_factory=list)


def at_first_request(m: Mallory, frame: dict[str, Any]) -> bool:
    return bool(frame["type"] == "request")


def at_request(phase: str) -> Trigger:
    return lambda m, frame: frame["type"] == "request" and frame["phase"] == phase


def at_event(kind: str, test: Callable[[Mallory, dict[str, Any]], bool] = lambda m, e: True) -> Trigger:
    def trigger(m: Mallory, frame: dict[str, Any]) -> bool:
        return frame["type"] == "event" and frame["event"]["type"] == kind and test(m, frame["event"])

    return trigger


at_others_turn = at_event(
    "phase_started", lambda m, e: e["phase"] == "discussion" and e["speaker"] != MALLORY
)
#: Another player's speaking turn while the night-1 request is still Mallory's latest.
at_others_turn_first = at_event(
    "phase_started",
    lambda m, e: e["phase"] == "discussion" and e["speaker"] != MALLORY and len(m.requests) == 1,
)
after_her_death = at_event("phase_started", lambda m, e: m.dead)


@dataclass(frozen=True)
class Case:
    """One hostile input: what Mallory sends (`send`), and the reaction (`expect`).

    `send` returns None when the reaction comes on Mallory's own connection (it is then read until
    `expect` has as many lines, or the connection ends), else the reaction it observed itself (or a
    function that observes it after the game). `expect` lines are patterns (`tests.proof.wire.matches`)
    formatted with the phase ids known when the trigger fired: `{request}` (Mallory's latest request),
    `{first}` (her first one), `{phase}` (the phase of the triggering event).
    """

    name: str
    send: Attack
    expect: tuple[str, ...]
    when: Trigger = at_first_request
    #: The phase in which the other agents hold their answers until the attack is over (None: never),
    #: so that the game waits, frozen, while Mallory attacks.
    hold: str | None = "night"
    faults: int = 0
    server: str = "default"
    hunt: bool = False  # the others target Mallory (else they spare her, so she lives to vote)
    long_speeches: bool = False
    bug: str | None = None  # a known server bug: the case is expected to fail (strict xfail)


def text(payload: str) -> Attack:
    return lambda m, ctx, frame: m.conn.send_text(payload)


def raw(data: bytes) -> Attack:
    return lambda m, ctx, frame: m.conn.send_raw(data)


def act(action: Any = None, **fields: Any) -> Attack:
    """An `act` for the open request; `fields` replace or add top-level fields (`phase_id` too)."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
        body = {"type": "act", "phase_id": m.request["phase_id"], "action": action or {"kind": "abstain"}}
        m.conn.send_json(body | fields)

    return send


def act_text(template: str) -> Attack:
    """An `act` written by hand; `PHASE` stands for the open request's phase id."""
    return lambda m, ctx, frame: m.conn.send_text(template.replace("PHASE", str(m.request["phase_id"])))


def vote_for(pick: Callable[[Mallory], str]) -> Attack:
    return lambda m, ctx, frame: m.act(m.request["phase_id"], {"kind": "vote", "target": pick(m)})


def first_dead(m: Mallory) -> str:
    return str(next(e["player"] for e in m.events if e["type"] == "player_died"))


def duplicate_answer(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    inspect = {"kind": "inspect", "target": "Bruno"}
    m.answer(m.request, inspect)  # legal, and the night stays open: Bruno is held
    m.act(m.request["phase_id"], inspect)


def dead_player_acts(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    start = len(m.reactions)
    m.act(m.requests[0]["phase_id"], {"kind": "inspect", "target": "Bruno"})  # her last request: over
    m.collect(start + 1)
    m.act(frame["event"]["phase_id"], {"kind": "abstain"})  # the phase open now, not hers


def late_answer(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.act(m.requests[0]["phase_id"], {"kind": "inspect", "target": "Chloe"})


def then_reconnect(first: Attack) -> Attack:
    """`first`, its reaction, then Mallory drops her connection and comes back; the new connection's
    frames up to a pong (events and requests for other phases left out)."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
        start = len(m.reactions)
        first(m, ctx, frame)
        m.collect(start + 1)
        lines = m.reactions[start:]
        m.close()
        m.connect()
        m.conn.send_json({"type": "ping", "nonce": "back"})
        while (got := m.pump()) is not None:
            if got["type"] == "request" and got["phase_id"] == m.requests[0]["phase_id"]:
                lines.append(f"request {got['phase_id']} again")
            elif got["type"] in ("welcome", "pong"):
                lines.append(got["type"])
            if got["type"] == "pong":
                break
        return lines

    return send


def flood(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.conn.send_raw(ws_frame(0x1, b'{"type":"ping"}') * 10_000)


def huge_declared_length(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.conn.send_raw(bytes((0x81, 0x80 | 127)) + (1 << 40).to_bytes(8, "big") + b"\0\0\0\0")
    for _ in range(3):  # 192 KiB of the terabyte announced: past the limit, then stop
        m.conn.send_raw(b"a" * 65536)


def endless_fragments(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.conn.send_raw(ws_frame(0x1, b'{"type":"ping","nonce":"', fin=False))
    for _ in range(3):  # continuation frames, none of them final
        m.conn.send_raw(ws_frame(0x0, b"a" * 65536, fin=False))


def go_silent(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    """Half-open: Mallory still reads but never answers anything, pings included."""
    m.conn.silent = True


def half_close(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.conn.sock.shutdown(socket.SHUT_WR)  # TCP FIN: she could still read, the server hears EOF


def takeover(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
    """A second connection with Mallory's token takes the seat; the first one is told and closed."""
    old = m.conn
    m.connect()
    frames = old.frames_to_end()
    return [render(f) for f in frames] + [ending(old)]


# ------------------------------------------------------------------ attacks from another connection


def http(data: bytes) -> Attack:
    """Raw bytes on a new TCP connection; the HTTP answer (status and error) and how it ended."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
        chunks = []
        end = "eof"
        with socket.create_connection((HOST, ctx.server.port), timeout=WAIT_S) as sock:
            try:
                sock.sendall(data)
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                end = "reset"
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        return [f"http {status}: {json.loads(body)['error']}", end]

    return send


def upgrade(path: str, *, key: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: x", "Upgrade: websocket", "Connection: Upgrade"]
    if key:
        lines += ["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def side(
    client_type: str,
    *,
    hello: dict[str, Any] | None = None,
    then: Sequence[str | dict[str, Any]] = (),
    until: str | None = None,
    url_token: Callable[[Ctx], str] | None = None,
    query: str = "",
) -> Attack:
    """A new WebSocket connection (`url_token` and `query` added to its URL): an optional hello (values
    may be functions of the context), then frames; what it gets until the connection ends or a frame of
    type `until`, runs of events collapsed."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
        token = f"&token={url_token(ctx)}" if url_token is not None else ""
        conn = WireClient(ctx.server.port, f"/ws/intruder?client_type={client_type}{token}{query}")
        try:
            if hello is not None:
                conn.hello(**{k: v(ctx) if callable(v) else v for k, v in hello.items()})
            for item in then:
                conn.send_text(item if isinstance(item, str) else json.dumps(item))
            lines = []
            while (got := conn.next()) is not None:
                lines.append(render(got))
                if got["type"] == until:
                    break
            else:
                lines.append(ending(conn))
            return collapse(lines)
        finally:
            conn.close()

    return send


def seat_token(ctx: Ctx) -> str:
    return ctx.net.seats[PlayerId("Bruno")].token


def admin_token(ctx: Ctx) -> str:
    return ctx.server.lobby.admin_token


def finished_game_token(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
    """The seat token of a game that is over still opens that seat, of that game: its story, the end."""
    old = ctx.baseline
    assert old is not None
    conn = WireClient(ctx.server.port, "/ws/returning?client_type=agent")
    try:
        conn.hello(old.mallory_token)
        frames = conn.frames_to_end()
    finally:
        conn.close()
    assert (frames[0]["game_id"], frames[0]["seat"]) == (old.finished.game_id, MALLORY)
    events = [f["event"] for f in frames if f["type"] == "event"]
    assert events == audience_events(old.finished.record["events"], MALLORY, Role.SEER)
    assert frames[-1] == old.mallory.over
    return [*collapse([render(f) for f in frames]), ending(conn)]


def never_reads(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Later:
    """A full-view spectator with a tiny receive window that reads its welcome, then nothing at all."""
    token = ctx.server.lobby.admin_token
    conn = WireClient(ctx.server.port, f"/ws/never-reader?client_type=observer&token={token}", rcvbuf=4096)
    conn.hello(token)
    welcome = conn.next()
    assert welcome is not None

    def after_the_game(finished: GameFinished) -> Observed:
        try:
            gone = poll_stats(
                ctx.server.port,
                lambda s: "never-reader" not in str(s["clients"]),
                ctx.server.lobby.admin_token,
            )
            assert "never-reader" not in str(gone["clients"]), "the client that never reads is still there"
            frames = conn.frames_to_end()  # what the kernel buffers held, then the end
        finally:
            conn.close()
        events = [f for f in frames if f["type"] == "event"]
        assert [f["seq"] for f in events] == list(range(len(events)))  # a gap-free prefix of the view
        assert [f["event"] for f in events] == finished.record["events"][: len(events)]
        assert len(events) < len(finished.record["events"])
        dropped = [
            "log: " + r.getMessage().split(": ", 1)[1] for r in ctx.logs if "never-reader" in r.getMessage()
        ]
        return collapse([render(welcome), *(render(f) for f in frames), ending(conn)]) + dropped

    return after_the_game


ACT = {"type": "act", "phase_id": 1, "action": {"kind": "abstain"}}
INSPECT_BRUNO = {"kind": "inspect", "target": "Bruno"}
INTEGER = "invalid_frame: invalid frame: act.phase_id: Input should be a valid integer"
NOT_AN_OBJECT = "invalid_frame: a frame must be a JSON object"
BAD_TOKEN = ("bad_token!: no seat has this token", "close 4003: no seat has this token")
ANSWERED = "rejected: no answer is expected from you in this phase (already answered?)"

CASES = [
    # -- malformed JSON, wrong shapes, on Mallory's connection: an error, the connection stays
    Case("malformed_json", text('{"type":"act",'), ("invalid_json: not valid JSON: EOF while parsing",)),
    Case("empty_message", text(""), ("invalid_json: not valid JSON: EOF while parsing a value",)),
    Case(
        "trailing_garbage",
        text('{"type":"ping"} ok?'),
        ("invalid_json: not valid JSON: trailing characters",),
    ),
    Case(
        "deeply_nested_json",
        text("[" * 50_000 + "]" * 50_000),
        ("invalid_frame: frame too complex: a frame may hold at most 16 objects and arrays",),
    ),
    Case("json_array", text("[1,2]"), (NOT_AN_OBJECT,)),
    Case("json_null", text("null"), (NOT_AN_OBJECT,)),
    Case(
        "binary_frame",
        lambda m, ctx, frame: m.conn.send_bytes(b'{"type":"ping"}'),
        ("binary_not_supported: binary frames are not part of this protocol: send JSON text",),
    ),
    Case(
        "unknown_frame_type",
        text('{"type":"vote","target":"Bruno"}'),
        ('invalid_frame: unknown frame type "vote" (expected one of: hello, act, ping)',),
    ),
    Case(
        "frame_without_type",
        text('{"phase_id":1,"action":{"kind":"abstain"}}'),
        ("invalid_frame: the frame has no 'type' field (expected one of: hello, act, ping)",),
    ),
    Case("type_not_a_string", text('{"type":5}'), ("invalid_frame: unknown frame type 5",)),
    # -- wrong field types: never coerced
    Case(
        "phase_id_as_string",
        act_text('{"type":"act","phase_id":"PHASE","action":{"kind":"abstain"}}'),
        (INTEGER,),
    ),
    Case(
        "phase_id_as_float",
        act_text('{"type":"act","phase_id":PHASE.0,"action":{"kind":"abstain"}}'),
        (INTEGER,),
    ),
    Case("phase_id_as_bool", act(phase_id=True), (INTEGER,)),
    Case(
        "phase_id_of_4301_digits",
        text('{"type":"act","phase_id":' + "9" * 4301 + ',"action":{"kind":"abstain"}}'),
        ("invalid_json: not valid JSON: number out of range",),
    ),
    Case(
        "unknown_field",
        act(as_player="Bruno"),
        ("invalid_frame: invalid frame: act.as_player: Extra inputs are not permitted",),
    ),
    Case(
        "unknown_action_kind",
        act({"kind": "eat", "target": "Bruno"}),
        ("invalid_frame: invalid frame: act.action: Input tag 'eat' found using 'kind' does not match",),
    ),
    Case(
        "action_without_target",
        act({"kind": "inspect"}),
        ("invalid_frame: invalid frame: act.action.inspect.target: Field required",),
    ),
    Case(
        "action_as_a_string",
        act("inspect"),
        ("invalid_frame: invalid frame: act.action: Input should be an object",),
    ),
    Case(
        "target_over_64_characters",
        act({"kind": "inspect", "target": "B" * 65}),
        ("invalid_frame: act.action.inspect.target: String should have at most 64 characters",),
    ),
    Case(
        "speech_over_the_wire_limit",
        act({"kind": "speak", "text": "x" * (MAX_SPEECH_CHARS + 1)}),
        ("invalid_frame: act.action.speak.text: String should have at most 10000 characters",),
    ),
    Case(
        "second_hello",
        lambda m, ctx, frame: m.conn.hello(m.token),
        ("invalid_frame: hello was already received",),
    ),
    # -- answers this seat may not give: refused by the seat (error) or by the game (rejected)
    Case(
        "act_for_another_seat",
        act(INSPECT_BRUNO, player="Bruno"),
        ("not_your_seat: this connection plays Alice; it cannot act for Bruno",),
    ),
    Case(
        "wrong_phase_id",
        act(INSPECT_BRUNO, phase_id=7),
        ("stale_phase: phase 7 is not open (the open request is for phase {request})",),
    ),
    Case(
        "acting_out_of_turn",
        lambda m, ctx, frame: m.act(frame["event"]["phase_id"], {"kind": "speak", "text": "me first!"}),
        ("stale_phase: phase {phase} is not open (the open request is for phase {request})",),
        when=at_others_turn,
        hold="discussion",
    ),
    Case(
        "illegal_target",
        act({"kind": "inspect", "target": "Alice"}),
        ("rejected: inspect target 'Alice' is not allowed now (allowed: Bruno, Chloe, Damien, Elise)",),
        faults=1,
    ),
    Case(
        "kind_not_on_the_menu",
        act({"kind": "kill", "target": "Bruno"}),
        ("rejected: kill is not allowed in the night phase (allowed: inspect, abstain)",),
        faults=1,
    ),
    Case("duplicate_answer", duplicate_answer, (ANSWERED,)),
    Case(
        "answer_after_the_phase_closed",
        late_answer,
        ("rejected: phase {first} is over",),
        when=at_others_turn_first,
        hold="discussion",
    ),
    Case(
        "empty_speech",
        act({"kind": "speak", "text": "   "}),
        ("rejected: speech must be non-empty text (abstain to pass the turn)",),
        when=at_request("discussion"),
        hold=None,
        faults=1,
    ),
    Case(
        "speech_over_the_game_limit",
        act({"kind": "speak", "text": "x" * 1001}),
        ("rejected: speech is 1001 characters, the limit is 1000",),
        when=at_request("discussion"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_a_dead_player",
        vote_for(first_dead),
        ("rejected: is not allowed now (allowed:",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_an_unknown_player",
        vote_for(lambda m: "Zorro"),
        ("rejected: vote target 'Zorro' is not allowed now",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_herself",
        vote_for(lambda m: MALLORY),
        ("rejected: vote target 'Alice' is not allowed now",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "dead_player_acts",
        dead_player_acts,
        (
            "rejected: phase {first} is over",
            "stale_phase: phase {phase} is not open (the open request is for phase {first})",
        ),
        when=after_her_death,
        hold=None,
        hunt=True,
    ),
    Case(
        "reconnect_after_a_refused_duplicate",
        then_reconnect(duplicate_answer),
        (ANSWERED, "welcome", "pong"),
    ),
    Case(
        "reconnect_after_a_late_answer",
        then_reconnect(late_answer),
        ("rejected: phase {first} is over", "welcome", "pong"),
        when=at_others_turn_first,
        hold="discussion",
    ),
    # -- WebSocket framing, on Mallory's connection: closed, then she comes back
    Case("invalid_utf8", raw(ws_frame(0x1, b'{"type":"ping","nonce":"\xff\xfe"}')), ("close 1007",)),
    Case(
        "invalid_utf8_split_over_fragments",
        raw(ws_frame(0x1, b'{"type":"ping","nonce":"\xe2\x82', fin=False) + ws_frame(0x0, b'("}')),
        ("close 1007",),
    ),
    Case(
        "unmasked_frame",
        raw(ws_frame(0x1, b'{"type":"ping"}', mask=False)),
        ("close 1002: server received unexpected unmasked frame",),
    ),
    Case("reserved_bit_set", raw(ws_frame(0x1, b'{"type":"ping"}', rsv=0x40)), ("close 1002",)),
    Case("unknown_opcode", raw(ws_frame(0x3, b'{"type":"ping"}')), ("close 1002: Invalid opcode 0x3",)),
    Case("continuation_without_a_start", raw(ws_frame(0x0, b'{"type":"ping"}')), ("close 1002",)),
    Case(
        "new_message_inside_a_fragmented_one",
        raw(ws_frame(0x1, b'{"type":', fin=False) + ws_frame(0x1, b'{"type":"ping"}')),
        ("close 1002",),
    ),
    Case("control_frame_over_125_bytes", raw(ws_frame(0x9, b"p" * 126)), ("close 1002",)),
    Case("close_frame_with_a_reserved_code", raw(ws_frame(0x8, (999).to_bytes(2, "big"))), ("close 1002",)),
    Case(
        "message_over_128_kib",
        text('{"type":"ping","nonce":"' + "n" * (1 << 17) + '"}'),
        (f"close 1009: {LIMIT}",),
    ),
    Case(
        "message_over_128_kib_in_utf8_bytes",
        text('{"type":"ping","nonce":"' + "\N{GRINNING FACE}" * (1 << 15) + '"}'),  # 32,768 characters
        (f"close 1009: {LIMIT}",),
    ),
    Case(
        "frame_of_100000_keys",
        text(json.dumps({"type": "ping", **{str(i): 0 for i in range(100_000)}})),
        (f"close 1009: {LIMIT}",),
    ),
    Case(
        "object_with_17_keys",
        text(json.dumps({"type": "ping", **{str(i): 0 for i in range(16)}})),
        ("invalid_frame: frame too complex: an object may have at most 16 keys",),
    ),
    Case(
        "frame_that_never_completes",
        raw(bytes((0x81, 0xFE))),  # two bytes of a frame header, then nothing
        ("close 1008: message not completed within 0.5 s",),
        server="short_message_timeout",
    ),
    Case("huge_declared_length", huge_declared_length, (f"close 1009: {LIMIT}",)),
    Case("fragments_that_never_finish", endless_fragments, (f"close 1009: {LIMIT}",)),
    Case(
        "burst_of_10000_messages",
        flood,
        (
            *["pong"] * 199,  # the burst (200) less the hello
            "rate_limited: too many messages: this one and the next are dropped",
            "rate_limited!: flooding: connection closed",
            "close 1008: flooding: connection closed",
        ),
        server="no_refill",
    ),
    Case("half_open_connection", go_silent, ("ping", "close 1001: ping timeout"), server="fast_ping"),
    Case("half_closed_connection", half_close, ("eof",)),
    Case(
        "seat_token_reused_by_a_second_connection",
        takeover,
        ("replaced!: a newer connection took this seat", "close 4001: a newer connection took this seat"),
    ),
    # -- other connections, while the game waits for Mallory
    Case(
        "handshake_that_never_completes",
        http(b"GET /ws/slowpoke?client_type=agent HTTP/1.1\r\nHost: x\r\n"),
        ("http 408: request head not received in time", "eof"),
    ),
    Case("not_http", http(b"\x16\x03\x01\x00\xa5 hello\r\n\r\n"), ("http 400: bad request", "eof")),
    Case(
        "request_head_over_16_kib",
        http(b"GET /ws/big HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000),
        ("http 431: bad request", "eof | reset"),
    ),
    Case(
        "bad_client_id",
        http(upgrade("/ws/bad$id?client_type=agent")),
        ("http 400: client id must be 1-64 letters, digits, '_', '.' or '-'", "eof"),
    ),
    Case(
        "upgrade_without_websocket_key",
        http(upgrade("/ws/nokey?client_type=agent", key=False)),
        ("http 400: bad WebSocket handshake", "eof"),
    ),
    Case(
        "no_hello_in_time",
        side("agent"),
        ("hello_required!: no hello within the time allowed", "close 1008: no hello within the time allowed"),
    ),
    Case("act_before_hello", side("agent", then=[ACT], until="error"), ("hello_required: say hello first",)),
    Case(
        "message_over_4_kib_before_hello",
        side("agent", then=['{"type": "ping"' + " " * 5000 + "}"]),
        (f"close 1009: {EARLY_LIMIT}",),
    ),
    Case(
        "wrong_protocol_version",
        side("agent", hello={"protocol_version": 3}),
        ("protocol_version!: this server speaks protocol 1 and 2, not 3", "close 1002"),
    ),
    Case("wrong_seat_token", side("agent", hello={"token": "not-a-seat-token"}), BAD_TOKEN),
    Case("agent_without_a_token", side("agent", hello={}), BAD_TOKEN),
    Case(
        "non_ascii_seat_token",  # secrets.compare_digest raised TypeError on it: 1011 and a traceback
        side("agent", hello={"token": "é" * 16}),
        (f"bad_token!: {TOKEN_RULE}", f"close 4003: {TOKEN_RULE}"),
    ),
    Case("admin_token_as_a_seat_token", side("agent", hello={"token": admin_token}), BAD_TOKEN),
    Case(
        "seat_token_as_the_admin_token",
        side("observer", url_token=seat_token),
        ("bad_token!: wrong admin token", "close 4003: wrong admin token"),
    ),
    Case(
        "public_spectator_acts",
        side("ui", hello={}, then=[ACT], until="error"),
        ("welcome", "events", "not_an_agent: a spectator (ui) cannot act"),
    ),
    Case(
        "full_view_spectator_acts",
        side("observer", url_token=admin_token, hello={"token": admin_token}, then=[ACT], until="error"),
        ("welcome", "events", "not_an_agent: a spectator (observer) cannot act"),
    ),
    Case(
        "negative_resume_from",
        side("agent", then=['{"type":"hello","protocol_version":1,"resume_from":-1}'], until="error"),
        ("invalid_frame: hello.resume_from: Input should be greater than or equal to 0",),
    ),
    Case(
        "resume_from_past_the_end",
        side("ui", query=f"&resume_from={10**6}", until="welcome"),
        ("invalid_frame: resume_from 1000000 is past the", "welcome"),
    ),
    Case(
        "seat_token_of_a_finished_game",
        finished_game_token,
        ("welcome", "events", "game_over", "close 4000: game over"),
    ),
    Case(
        "client_that_never_reads",
        never_reads,
        (
            "welcome",
            "events",
            "eof | close 1008: too slow",
            "log: send timed out: slow consumer dropped"
            " | log: outbox over 65536 bytes: slow consumer dropped",
        ),
        server="small_outbox",
        long_speeches=True,
    ),
]


# ---------------------------------------------------------------------------------------- playing a case


@dataclass
class Played:
    case: Case
    finished: GameFinished
    mallory: Mallory
    mallory_token: str
    cast: dict[str, AgentThread]
    public: Watcher
    full: Watcher
    observed: Observed
    window: tuple[int, int]  # Mallory's reactions during the attack: reactions[start:end]
    ids: dict[str, Any]
    held_too_long: list[str]


def cast_policy(player: str, rng: random.Random, gate: threading.Event, case: Case, held: list[str]) -> Any:
    """Legal random answers, once the gate is open; targets Mallory (hunt) or spares her."""

    def policy(request: Any, events: Any) -> dict[str, Any]:
        if request.phase == case.hold and not gate.is_set() and not gate.wait(GATE_S):
            held.append(player)
        choice = rng.choice([c for c in request.choices if c.kind != "abstain"] or request.choices)
        match choice.kind:
            case "speak":
                return {
                    "kind": "speak",
                    "text": "y" * choice.max_chars if case.long_speeches else f"{player}: hm.",
                }
            case "bid":
                return {"kind": "bid", "amount": rng.randint(0, choice.max_bid)}
            case "abstain":
                return {"kind": "abstain"}
            case kind:
                targets = list(choice.targets)
                if case.hunt and MALLORY in targets:
                    targets = [MALLORY]
                elif not case.hunt:
                    targets = [t for t in targets if t != MALLORY] or targets
                return {"kind": kind, "target": rng.choice(targets)}

    return policy


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def play_case(server: NetworkServer, case: Case, baseline: Played | None = None) -> Played:
    """Host one game for `case` on `server`, play it to the end; stops everything it started."""
    config: GameConfig = LONG_SPEECHES if case.long_speeches else CONFIG
    seed = zlib.crc32(case.name.encode())
    game_id = f"{case.name}-{next(_GAME_NUMBERS)}"
    host = Host(SECRET, server=server)
    game = host.open_game(config, dict.fromkeys(config.players), seed=seed, game_id=game_id)
    assert game.network is not None
    net = game.network
    ctx = Ctx(server, net, baseline)
    gate = threading.Event()
    if case.hold is None:
        gate.set()
    held: list[str] = []
    with cleanup() as later:
        later.append(host.close)
        net_logger = logging.getLogger("net.connection")
        handler, level = _ListHandler(ctx.logs), net_logger.level
        net_logger.addHandler(handler)
        net_logger.setLevel(logging.INFO)
        later.append(lambda: net_logger.removeHandler(handler))
        later.append(lambda: net_logger.setLevel(level))
        cast: dict[str, AgentThread] = {}
        for i, player in enumerate(config.players):
            if player == MALLORY:
                continue
            client = RecordingAgent(
                net.url(HOST, f"agent-{player}", "agent"),
                token=net.seats[player].token,
                reconnect_delay=0.05,
                receive_timeout=0.2,
            )
            policy = cast_policy(player, random.Random(seed + i), gate, case, held)
            cast[player] = AgentThread(player, client, answer=policy).start()
            later.append(cast[player].stop)
        public = Watcher(net.url(HOST, "public-watcher", "ui"))
        later.append(public.close)
        full = Watcher(net.url(HOST, "full-watcher", "observer"), token=server.lobby.admin_token)
        later.append(full.close)
        assert public.welcome()["game_id"] == full.welcome()["game_id"] == game_id
        mallory = Mallory(
            server.port, net.seats[MALLORY].token, random.Random(seed), long_speeches=case.long_speeches
        )
        mallory.connect()
        later.append(mallory.close)
        assert net.wait_for_agents(WAIT_S) == []
        game.start(roles=ROLES)
        later.append(game.stop)
        result, window, ids = _play_mallory(mallory, case, ctx, gate)
        finished = game.wait(GAME_WAIT_S)
        for agent in cast.values():
            agent.join()
        public.join()
        full.join()
        observed = result(finished) if callable(result) else result
    token = net.seats[MALLORY].token
    return Played(case, finished, mallory, token, cast, public, full, observed, window, ids, held)


def _play_mallory(
    m: Mallory, case: Case, ctx: Ctx, gate: threading.Event
) -> tuple[Observed | Later, tuple[int, int], dict[str, Any]]:
    """Mallory's game: legal answers, the attack when its trigger fires, a comeback after a close."""
    result: Observed | Later = []
    window = (0, 0)
    ids: dict[str, Any] = {}
    fired = False
    while True:
        if m.conn.ended is not None:
            if m.over is not None:
                assert fired, "the attack's trigger never fired"
                return result, window, ids
            assert fired, f"Mallory's connection ended before any attack: {m.reactions}"
            m.connect()  # back with her token, resuming where she was
        frame = m.pump()
        if frame is None:
            continue
        if not fired and case.when(m, frame):
            fired = True
            ids = {
                "request": m.requests[-1]["phase_id"] if m.requests else None,
                "first": m.requests[0]["phase_id"] if m.requests else None,
                "phase": frame.get("event", {}).get("phase_id"),
            }
            start = len(m.reactions)
            sent = case.send(m, ctx, frame)
            if sent is None:  # the reaction comes on Mallory's connection
                m.collect(start + len(case.expect))
                result = m.reactions[start:]
            else:
                result = sent
            window = (start, len(m.reactions))
            gate.set()
        m.answer_open_request()


# ---------------------------------------------------------------------------------------- checks


def assert_game_correct(played: Played, mallory_faults: int) -> None:
    """A valid outcome, the faults expected, and every connection's full, gap-free stream."""
    finished = played.finished
    record = finished.record["events"]
    outcome = finished.outcome
    assert outcome is not None, "the game was aborted"
    assert outcome.termination in set(Termination)
    assert (outcome.winner is None) == (outcome.termination is Termination.MAX_DAYS)
    assert outcome.winner in (None, Team.VILLAGE, Team.WOLVES)
    assert record[-1]["type"] == "game_ended"
    assert dict(record[-1]["roles"]) == {p: r.value for p, r in ROLES.items()}
    assert dict(finished.faults) == {p: (mallory_faults if p == MALLORY else 0) for p in CONFIG.players}
    assert played.held_too_long == [], "the attack held the game for too long"

    over = next(iter(played.cast.values())).over
    assert over is not None
    assert (over.winner, over.faults) == (outcome.winner, dict(finished.faults))
    for player, agent in played.cast.items():
        expected = audience_events(record, player, ROLES[PlayerId(player)])
        payloads: list[dict[str, Any]] = []
        seqs: list[int] = []
        for texts in agent.client.raw:  # every connection, in order: each event exactly once
            got, got_seqs = event_stream(texts)
            payloads += got
            seqs += got_seqs
        assert seqs == list(range(len(expected))), player
        assert payloads == expected, player
        assert agent.client.errors == [], player
        assert agent.client.rejections == [], player
        assert agent.over == over, player

    for watcher, view, expected in (
        (played.public, "public", public_events(record)),
        (played.full, "full", record),
    ):
        frames = [json.loads(t) for t in watcher.texts]
        assert (frames[0]["type"], frames[0]["view"]) == ("welcome", view)
        assert frames[-1] == over.model_dump(mode="json"), view
        assert [f["type"] for f in frames[1:-1]] == ["event"] * len(expected), view
        assert [f["event"] for f in frames[1:-1]] == expected, view
        assert [f["seq"] for f in frames[1:-1]] == list(range(len(expected))), view

    m = played.mallory
    assert m.events == audience_events(record, MALLORY, ROLES[MALLORY])
    assert len(m.welcomes) == len(m.connections)
    for welcome, seqs in zip(m.welcomes, m.connections, strict=True):
        start = welcome["resume_from"]
        assert (welcome["seat"], welcome["view"]) == (MALLORY, f"player:{MALLORY}")
        assert seqs == list(range(start, start + len(seqs))), (
            "a gap or a repeat on one of Mallory's connections"
        )
    assert m.over == over.model_dump(mode="json")
    assert m.final == "close 4000: game over"
    # Nothing came back to Mallory, over the whole game, but the reaction to her attack.
    start, end = played.window
    assert m.reactions[:start] == [], m.reactions
    assert m.reactions[end:] == [], m.reactions


# ---------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, NetworkServer]]:
    started: dict[str, NetworkServer] = {}

    class Lazy(dict[str, NetworkServer]):
        def __missing__(self, name: str) -> NetworkServer:
            self[name] = started[name] = start_server(SERVERS[name])
            return started[name]

    try:
        yield Lazy()
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def baseline(servers: dict[str, NetworkServer]) -> Played:
    """A game on the default server with no attack at all (its seat tokens are reused by a case)."""
    return play_case(servers["default"], Case("baseline", lambda m, ctx, frame: [], ()))


def test_the_catalogue_is_complete():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 30


def test_a_game_without_attack_is_clean(baseline):
    assert baseline.observed == []
    assert len(baseline.mallory.connections) == 1
    assert_game_correct(baseline, mallory_faults=0)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case, id=case.name, marks=[pytest.mark.xfail(strict=True, reason=f"server bug: {case.bug}")]
        )
        if case.bug
        else pytest.param(case, id=case.name)
        for case in CASES
    ],
)
def test_hostile_input(case, servers, baseline):
    played = play_case(servers[case.server], case, baseline)
    assert_reaction(tuple(line.format_map(played.ids) for line in case.expect), played.observed)
    assert_game_correct(played, mallory_faults=case.faults)
