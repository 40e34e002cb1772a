"""The sans-IO codec: text <-> wire models, engine values <-> wire frames, and raw server frames.

Only this module parses client input (`decode_client_frame`). Server frames are built from plain dicts
and serialised once (`json_bytes`); an event batch for a view is encoded once and the same bytes go to
every connection of that view (server-to-client frames are unmasked, so the frame bytes are shared too).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from actors.messages import RequestAction
from engine import Action, Choice, Event, Outcome, action_from_dict, event_to_dict
from net.errors import RemoteProtocolError
from net.protocol import (
    CLIENT_FRAME,
    MAX_ID,
    TOKEN_RULE,
    AbstainAction,
    Act,
    BidAction,
    ErrorCode,
    Frame,
    Hello,
    Ping,
    SpeakAction,
    TargetAction,
)

_CLIENT_TYPES = "hello, act, ping"
_MAX_PROBLEM = 300  # characters of one problem quoted back in an `error` frame


def decode_client_frame(text: str) -> Hello | Act | Ping:
    """Parse one client text frame; raises RemoteProtocolError naming the problem (connection kept)."""
    try:
        # Strict: the wire is JSON, so "3", 3.0 or true are not the integer 3 (lax mode would coerce them).
        return CLIENT_FRAME.validate_json(text, strict=True)
    except ValidationError as exc:
        if any(
            e["loc"] == ("hello", "token") and e["type"] == "string_pattern_mismatch" for e in exc.errors()
        ):
            raise RemoteProtocolError(TOKEN_RULE, code=ErrorCode.BAD_TOKEN) from None  # the session closes
        raise RemoteProtocolError(_explain(exc), code=_error_code(exc)) from None


def _error_code(exc: ValidationError) -> ErrorCode:
    return ErrorCode.INVALID_JSON if exc.errors()[0]["type"] == "json_invalid" else ErrorCode.INVALID_FRAME


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON: {first['ctx'].get('error', 'parse error')}"
    if not first["loc"]:  # the frame itself, not one of its fields (e.g. an action's `kind`)
        if kind in ("dict_type", "model_attributes_type"):
            return "a frame must be a JSON object"
        if kind == "union_tag_not_found":
            return f"the frame has no 'type' field (expected one of: {_CLIENT_TYPES})"
        if kind == "union_tag_invalid":
            tag = json.dumps(first["input"].get("type"), ensure_ascii=False)[:MAX_ID]
            return f"unknown frame type {tag} (expected one of: {_CLIENT_TYPES})"
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error["loc"])
        problem = f"{where}: {error['msg']}"  # field names and tags come from the client: cap them
        problems.append(problem if len(problem) <= _MAX_PROBLEM else problem[: _MAX_PROBLEM - 3] + "...")
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""  # noqa: PLR2004
    return "invalid frame: " + "; ".join(problems) + more


def to_engine_action(model: SpeakAction | BidAction | TargetAction | AbstainAction) -> Action:
    """The engine action a wire action stands for (validated by the engine later, not here)."""
    return action_from_dict(model.model_dump())


def choice_dict(choice: Choice) -> dict[str, Any]:
    """One menu line on the wire."""
    out: dict[str, Any] = {"kind": choice.kind.value}
    if choice.targets:
        out["targets"] = list(choice.targets)
    if choice.max_chars:
        out["max_chars"] = choice.max_chars
    if choice.max_bid:
        out["max_bid"] = choice.max_bid
    return out


def request_dict(request: RequestAction, *, seen: int, now: float) -> dict[str, Any]:
    """The `request` frame for a `RequestAction` (the observation's events travel as `event` frames)."""
    obs = request.observation
    return {
        "type": "request",
        "game_id": request.game_id,
        "phase_id": request.phase_id,
        "phase": obs.phase.value,
        "day": obs.day,
        "seconds_left": round(max(0.0, request.deadline - now), 3),
        "you": {
            "player": obs.player,
            "role": obs.role.value,
            "team": obs.team.value,
            "alive": obs.alive,
            "wolves": list(obs.wolves),
            "heal_left": obs.heal_left,
            "poison_left": obs.poison_left,
        },
        "alive_players": list(obs.alive_players),
        "choices": [choice_dict(c) for c in request.choices],
        "seen": seen,
    }


def game_over_dict(
    game_id: str, outcome: Outcome | None, roles: dict[str, str], faults: dict[str, int]
) -> dict[str, Any]:
    """The `game_over` frame."""
    return {
        "type": "game_over",
        "game_id": game_id,
        "winner": outcome.winner.value if outcome and outcome.winner else None,
        "termination": outcome.termination.value if outcome else None,
        "reason": outcome.reason if outcome else "the game was aborted",
        "day": outcome.day if outcome else 0,
        "roles": roles,
        "faults": faults,
    }


def error_dict(code: ErrorCode, message: str, *, closing: bool = False) -> dict[str, Any]:
    """The `error` frame."""
    return {"type": "error", "code": code.value, "message": message, "closing": closing}


def event_dicts(first_seq: int, events: Iterable[Event]) -> list[dict[str, Any]]:
    """`event` frames for consecutive events of one view."""
    return [
        {"type": "event", "seq": seq, "event": event_to_dict(e)} for seq, e in enumerate(events, first_seq)
    ]


def json_bytes(frame: dict[str, Any] | Frame) -> bytes:
    """Serialise a server frame once (compact UTF-8 JSON)."""
    if isinstance(frame, Frame):
        return frame.model_dump_json().encode()
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked, unfragmented WebSocket text frame (RFC 6455 5.2) carrying `payload`.

    Built by hand so one broadcast is framed once for every recipient; we never negotiate extensions,
    so no RSV bit or per-connection state is involved.
    """
    return _frame(0x81, payload)


def binary_frame(payload: bytes) -> bytes:
    """`text_frame`'s twin for binary payloads (opcode 2); only the echo route sends these."""
    return _frame(0x82, payload)


def _frame(first_byte: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:  # noqa: PLR2004 - RFC 6455 length encodings
        header = bytes((first_byte, n))
    elif n < 65536:  # noqa: PLR2004
        header = struct.pack("!BBH", first_byte, 126, n)
    else:
        header = struct.pack("!BBQ", first_byte, 127, n)
    return header + payload
