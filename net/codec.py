"""The sans-IO codec: text <-> wire models, engine values <-> wire frames, and raw server frames.

Only this module parses client input (`decode_client_frame`). A frame's shape is bounded before it is
parsed (keys per object, nesting, objects and arrays in all: client frames are small), so a frame full of
keys costs a count, not a parse and a hundred thousand errors; pydantic's errors are built once, without
echoing the input. Server frames are built from plain dicts
and serialised once (`json_bytes`); an event batch for a view is encoded once and the same bytes go to
every connection of that view (server-to-client frames are unmasked, so the frame bytes are shared too).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

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
_QUOTED = 3  # problems quoted in one `error` frame
#: Client frames are small: `act` has 4 keys and its action 2, nested 2 deep.
MAX_KEYS = 16  # keys in one JSON object
MAX_DEPTH = 3  # objects and arrays nested in one another
MAX_CONTAINERS = 16  # objects and arrays in one frame
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string (its brackets and colons are text)
_STRUCTURE = re.compile(r"[{}\[\]:]")


def decode_client_frame(text: str) -> Hello | Act | Ping:
    """Parse one client text frame; raises RemoteProtocolError naming the problem (connection kept)."""
    _check_shape(text)
    try:
        # Strict: the wire is JSON, so "3", 3.0 or true are not the integer 3 (lax mode would coerce them).
        return CLIENT_FRAME.validate_json(text, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)  # once: each call builds them all
        if any(e["loc"] == ("hello", "token") and e["type"] == "string_pattern_mismatch" for e in errors):
            raise RemoteProtocolError(TOKEN_RULE, code=ErrorCode.BAD_TOKEN) from None  # the session closes
        code = ErrorCode.INVALID_JSON if errors[0]["type"] == "json_invalid" else ErrorCode.INVALID_FRAME
        raise RemoteProtocolError(_explain(errors, text), code=code) from None


def _check_shape(text: str) -> None:
    """Refuse a frame with too many keys, objects or arrays, or nested too deep, before parsing it.

    Strings are taken out first (C speed), then the structure is counted (C speed); only a frame within
    those counts is walked, bracket by bracket, which is then a few dozen steps. Invalid JSON passes
    unless its counts are over a limit: the parser names its problem.
    """
    if text.count(":") <= MAX_KEYS and text.count("{") + text.count("[") <= MAX_DEPTH:
        return  # the usual frame: within every limit even if all of these were structure
    skeleton = _STRING.sub("", text)
    if skeleton.count("{") + skeleton.count("[") > MAX_CONTAINERS:
        raise _shape_error(f"a frame may hold at most {MAX_CONTAINERS} objects and arrays")
    if skeleton.count(":") > MAX_KEYS * MAX_CONTAINERS:
        raise _shape_error(f"an object may have at most {MAX_KEYS} keys")
    keys: list[int] = []  # per open container (arrays too: their count stays 0)
    for match in _STRUCTURE.finditer(skeleton):
        char = match.group()
        if char in "{[":
            keys.append(0)
            if len(keys) > MAX_DEPTH:
                raise _shape_error(f"objects and arrays may be nested at most {MAX_DEPTH} deep")
        elif char == ":":
            if keys:
                keys[-1] += 1
                if keys[-1] > MAX_KEYS:
                    raise _shape_error(f"an object may have at most {MAX_KEYS} keys")
        elif keys:
            keys.pop()


def _shape_error(detail: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"frame too complex: {detail}", code=ErrorCode.INVALID_FRAME)


def _explain(errors: list[ErrorDetails], text: str) -> str:
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON: {first['ctx'].get('error', 'parse error')}"
    if not first["loc"]:  # the frame itself, not one of its fields (e.g. an action's `kind`)
        if kind in ("dict_type", "model_attributes_type"):
            return "a frame must be a JSON object"
        if kind == "union_tag_not_found":
            return f"the frame has no 'type' field (expected one of: {_CLIENT_TYPES})"
        if kind == "union_tag_invalid":  # the shape check bounded the frame: parse it again for its tag
            tag = json.dumps(json.loads(text).get("type"), ensure_ascii=False)[:MAX_ID]
            return f"unknown frame type {tag} (expected one of: {_CLIENT_TYPES})"
    problems = []
    for error in errors[:_QUOTED]:
        where = ".".join(str(part) for part in error["loc"])
        problem = f"{where}: {error['msg']}"  # field names and tags come from the client: cap them
        problems.append(problem if len(problem) <= _MAX_PROBLEM else problem[: _MAX_PROBLEM - 3] + "...")
    more = f" (and {len(errors) - _QUOTED} more)" if len(errors) > _QUOTED else ""
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
        "message_type": "request",
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
        "message_type": "game_over",
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
    return {
        "type": "error",
        "message_type": "error",
        "code": code.value,
        "message": message,
        "closing": closing,
    }


def event_dicts(first_seq: int, events: Iterable[Event]) -> list[dict[str, Any]]:
    """`event` frames for consecutive events of one view."""
    return [
        {"type": "event", "message_type": "event", "seq": seq, "event": event_to_dict(e)}
        for seq, e in enumerate(events, first_seq)
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
