"""Hostile input, WebSocket framing and transport abuse on Mallory's own connection (RFC 6455): invalid
UTF-8, unmasked frames, reserved bits and opcodes, broken fragmentation, oversized control frames and
messages (the 128 KiB limit, counted in bytes), a frame that never completes, a flood, a half-open and a
half-closed connection, and her seat token taken over by a second connection. The connection is closed
with the exact code and reason, and she comes back with her token and resumes.

How a case is played and checked: `tests.proof.hostile_kit`.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from tests.proof.hostile_kit import (
    Attack,
    Case,
    Ctx,
    Observed,
    assert_game_correct,
    each_case,
    play_case,
    text,
)
from tests.proof.mallory import Mallory, ending
from tests.proof.wire import assert_reaction, render, ws_frame

LIMIT = "message too big (limit 131072 bytes)"


def raw(data: bytes) -> Attack:
    return lambda m, ctx, frame: m.conn.send_raw(data)


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


CASES = [
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
]


@each_case(CASES)
def test_hostile_input(case, servers, baseline):
    played = play_case(servers[case.server], case, baseline)
    assert_reaction(tuple(line.format_map(played.ids) for line in case.expect), played.observed)
    assert_game_correct(played, mallory_faults=case.faults)
