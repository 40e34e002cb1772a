"""Hostile input from other connections, while the game waits for Mallory: broken HTTP (a head that never
completes, not HTTP, a head over 16 KiB, a bad client id, an upgrade without a key), the hello (none in
time, an act before it, a message over 4 KiB before it, a wrong protocol version), tokens (wrong, missing,
non-ASCII, the admin token as a seat token and the reverse, the seat token of a finished
game), spectators that try to act, a bad `resume_from`, and a client that never reads. Each gets the exact
HTTP status, error or close, and the game goes on untouched.

How a case is played and checked: `tests.proof.hostile_kit`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Sequence
from typing import Any

from actors.messages import GameFinished
from engine import PlayerId, Role
from net.protocol import TOKEN_RULE
from tests.net.netutil import HOST, WAIT_S, poll_stats
from tests.proof.hostile_kit import (
    Attack,
    Case,
    Ctx,
    Later,
    Observed,
    assert_game_correct,
    each_case,
    play_case,
)
from tests.proof.mallory import MALLORY, Mallory, ending
from tests.proof.wire import WireClient, assert_reaction, audience_events, collapse, render

EARLY_LIMIT = "message too big (limit 4096 bytes before hello)"


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
BAD_TOKEN = ("bad_token!: no seat has this token", "close 4003: no seat has this token")

CASES = [
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


@each_case(CASES)
def test_hostile_input(case, servers, baseline):
    played = play_case(servers[case.server], case, baseline)
    assert_reaction(tuple(line.format_map(played.ids) for line in case.expect), played.observed)
    assert_game_correct(played, mallory_faults=case.faults)
