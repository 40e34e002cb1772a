"""Reading a model's JSON reply: leniently where its meaning is unambiguous, strictly where it is not.

Accepted, each with a repair said in words (the agent's report carries them to the game log):
- raw control characters (a newline, a tab) inside a JSON string: JSON (RFC 8259 §7) forbids them and
  Python's strict `json.loads` refuses them, but a grammar-constrained server (llama.cpp's JSON-schema
  grammar) lets them through and the meaning is plain;
- exactly one top-level JSON object wrapped in prose or a Markdown code fence, or followed by junk;
- the same object repeated.

Refused (`ReplyError`): no object, an object that never closes (a reply cut off), text that looks like
an object but is not JSON, two different objects (which one did the model mean?), an array.

The scan for objects tracks strings and escapes only inside braces: prose around the object may hold
quotes or apostrophes of its own. Its cost is linear in the reply's length.
"""

from __future__ import annotations

import json
from typing import Any


class ReplyError(ValueError):
    """The model's reply is unusable; the message says why, in words a model can act on."""


_FENCE = "```"


def decode_object(text: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The one JSON object `text` means, and the repairs made to read it; ReplyError if none or ambiguous."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        if not isinstance(data, dict):
            raise ReplyError("the reply must be a JSON object")
        return data, ()
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    else:
        if not isinstance(data, dict):
            raise ReplyError("the reply must be a JSON object")
        return data, ("control characters inside a JSON string accepted",)
    return _scan(text)


def _scan(text: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    spans, unclosed = _object_spans(text)
    objects: list[tuple[int, int, dict[str, Any]]] = []
    first_error: json.JSONDecodeError | None = None
    for start, end in spans:
        try:
            data = json.loads(text[start:end], strict=False)
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
            continue
        objects.append((start, end, data))
    if unclosed is not None and not objects:
        raise ReplyError(
            f"the reply was cut off: the JSON object opened at character {unclosed} never closes"
        )
    if not objects:
        if first_error is not None:
            raise ReplyError(
                f"the reply is not valid JSON ({first_error.msg} at character {first_error.pos})"
            )
        raise ReplyError("the reply holds no JSON object")
    distinct = {json.dumps(data, sort_keys=True) for _, _, data in objects}
    if len(distinct) > 1:
        raise ReplyError(f"the reply holds {len(distinct)} different JSON objects; send exactly one")
    if unclosed is not None:
        raise ReplyError(
            f"the reply holds a JSON object and another one, opened at character {unclosed}, "
            "that never closes; send exactly one"
        )
    start, end, data = objects[0]
    return data, _repairs(text, start, objects[-1][1], len(objects), text[start:end])


def _repairs(text: str, start: int, end: int, count: int, body: str) -> tuple[str, ...]:
    repairs: list[str] = []
    before, after = text[:start].strip(), text[end:].strip()
    if before.endswith(_FENCE) or before.lower().endswith(_FENCE + "json") or after.startswith(_FENCE):
        repairs.append("a Markdown code fence around the JSON object removed")
        before = before.removesuffix(_FENCE + "json").removesuffix(_FENCE + "JSON").removesuffix(_FENCE)
        after = after.removeprefix(_FENCE)
        before, after = before.strip(), after.strip()
    if before:
        repairs.append(
            f"text around the JSON object ignored ({len(before)} characters before, {len(after)} after)"
        )
    elif after:
        repairs.append(f"text after the JSON object ignored ({len(after)} characters)")
    if count > 1:
        repairs.append(f"the same JSON object repeated {count} times: read once")
    try:
        json.loads(body)
    except json.JSONDecodeError:
        repairs.append("control characters inside a JSON string accepted")
    return tuple(repairs)


def _object_spans(text: str) -> tuple[list[tuple[int, int]], int | None]:
    """The [start, end) spans of the balanced top-level {...} in `text`, and where an unclosed one opens."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    in_string = escaped = False
    for i, char in enumerate(text):
        if depth == 0:
            if char == "{":
                depth, start = 1, i
            continue
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans, (start if depth else None)
