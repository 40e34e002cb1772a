"""The reply a decision asks for: a JSON Schema built per request (legal names as enums), and its check.

The schema goes to Ollama as `format=`, which constrains generation; the check below does not trust
that (a model, a proxy or a server may ignore it) and says precisely what is wrong, so the model can
be asked again with the error explained.
"""

from __future__ import annotations

import json
from typing import Any

from engine import Abstain, Action, ActionKind, Bid, Choice, Speak, action_from_dict


class ReplyError(ValueError):
    """The model's reply is unusable; the message says why, in words a model can act on."""


def reply_schema(choices: tuple[Choice, ...]) -> dict[str, Any]:
    """The JSON Schema of a valid reply to this menu: one alternative per line of the menu.

    Each alternative names its kind and requires exactly what that kind needs, with the legal names
    of that kind as an enum (a wolf's kill and a seer's inspection have different targets), so a
    model whose output Ollama constrains to the schema cannot leave out a target or a speech.
    """
    return {"anyOf": [_alternative(choice) for choice in choices]}


def kinds_in(schema: dict[str, Any]) -> list[str]:
    """The action kinds a reply schema allows, in menu order (for logs and tests)."""
    return [alt["properties"]["action"]["enum"][0] for alt in schema["anyOf"]]


def _alternative(choice: Choice) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "reasoning": {"type": "string", "description": "private thoughts, seen by nobody else"},
        "action": {"type": "string", "enum": [choice.kind.value]},
    }
    if choice.targets:
        properties["target"] = {"type": "string", "enum": list(choice.targets)}
    elif choice.kind is ActionKind.SPEAK:
        properties["speech"] = {"type": "string", "description": "what you say aloud"}
    elif choice.kind is ActionKind.BID:
        properties["bid"] = {"type": "integer", "minimum": 0, "maximum": choice.max_bid}
    return {"type": "object", "properties": properties, "required": list(properties)}


def parse_reply(text: str, choices: tuple[Choice, ...]) -> tuple[Action, str | None]:
    """The action a reply chooses and its private reasoning; raises ReplyError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplyError(f"the reply is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise ReplyError("the reply must be a JSON object")
    reasoning = data.get("reasoning")
    reasoning = reasoning.strip() if isinstance(reasoning, str) and reasoning.strip() else None
    kind = data.get("action")
    by_kind = {c.kind.value: c for c in choices}
    if not isinstance(kind, str) or kind not in by_kind:
        raise ReplyError(f'"action" must be one of {", ".join(by_kind)}; got {kind!r}')
    choice = by_kind[kind]
    match choice.kind:
        case ActionKind.ABSTAIN:
            return Abstain(), reasoning
        case ActionKind.SPEAK:
            speech = data.get("speech")
            if not isinstance(speech, str) or not speech.strip():
                raise ReplyError('"speak" needs a non-empty "speech"')
            return Speak(_shorten(speech.strip(), choice.max_chars)), reasoning
        case ActionKind.BID:
            amount = data.get("bid")
            if type(amount) is not int or not 0 <= amount <= choice.max_bid:
                raise ReplyError(f'"bid" must be an integer from 0 to {choice.max_bid}; got {amount!r}')
            return Bid(amount), reasoning
        case _:
            target = data.get("target")
            if target not in choice.targets:
                raise ReplyError(
                    f'"{kind}" needs "target" to be one of {", ".join(choice.targets)}; got {target!r}'
                )
            return action_from_dict({"kind": kind, "target": target}), reasoning


def _shorten(text: str, limit: int) -> str:
    """Cut an over-long speech at the last sentence end that fits (models run on)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 2 else cut
