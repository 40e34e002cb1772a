"""The reply a decision asks for: a JSON Schema built per request (legal names as enums), and its check.

The schema goes to the server (Ollama's `format=`, an OpenAI-compatible `response_format`), which
constrains generation; the check below does not trust that (a model, a proxy or a server may ignore
it) and says precisely what is wrong, so the model can be asked again with the error explained. The
JSON itself is read by `actors.llm.lenient` (unambiguous slips repaired, each repair said).

Free-text fields carry `maxLength` (speech: the game's limit; reasoning: `REASONING_CHARS` unless set),
so a grammar-constrained server stops a model that rambles; a server that ignores it gets its reply cut
here (a repair, not a refusal).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from actors.llm.lenient import ReplyError, decode_object
from engine import Abstain, Action, ActionKind, Bid, Choice, Speak, action_from_dict

__all__ = ["REASONING_CHARS", "Parsed", "ReplyError", "kinds_in", "parse_reply", "reply_schema"]

#: The default bound of the private `reasoning` field, in characters.
REASONING_CHARS = 600


class Parsed(NamedTuple):
    """A valid reply: its action, its private reasoning (None if none), the repairs made to read it."""

    action: Action
    reasoning: str | None
    repairs: tuple[str, ...] = ()


def reply_schema(
    choices: tuple[Choice, ...], *, reasoning_chars: int = REASONING_CHARS, speech_chars: int | None = None
) -> dict[str, Any]:
    """The JSON Schema of a valid reply to this menu: one alternative per line of the menu.

    Each alternative names its kind and requires exactly what that kind needs, with the legal names
    of that kind as an enum (a wolf's kill and a seer's inspection have different targets), so a
    model whose output the server constrains to the schema cannot leave out a target or a speech.
    `speech_chars` lowers the game's speech limit (never raises it).
    """
    return {"anyOf": [_alternative(choice, reasoning_chars, speech_chars) for choice in choices]}


def kinds_in(schema: dict[str, Any]) -> list[str]:
    """The action kinds a reply schema allows, in menu order (for logs and tests)."""
    return [alt["properties"]["action"]["enum"][0] for alt in schema["anyOf"]]


def speech_limit(choice: Choice, speech_chars: int | None) -> int:
    """The longest speech asked for: the game's limit, or `speech_chars` if lower."""
    return choice.max_chars if speech_chars is None else min(choice.max_chars, speech_chars)


def _alternative(choice: Choice, reasoning_chars: int, speech_chars: int | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "reasoning": {
            "type": "string",
            "description": "private thoughts, seen by nobody else",
            "maxLength": reasoning_chars,
        },
        "action": {"type": "string", "enum": [choice.kind.value]},
    }
    if choice.targets:
        properties["target"] = {"type": "string", "enum": list(choice.targets)}
    elif choice.kind is ActionKind.SPEAK:
        properties["speech"] = {
            "type": "string",
            "description": "what you say aloud",
            "maxLength": speech_limit(choice, speech_chars),
        }
    elif choice.kind is ActionKind.BID:
        properties["bid"] = {"type": "integer", "minimum": 0, "maximum": choice.max_bid}
    return {"type": "object", "properties": properties, "required": list(properties)}


def parse_reply(
    text: str,
    choices: tuple[Choice, ...],
    *,
    reasoning_chars: int = REASONING_CHARS,
    speech_chars: int | None = None,
) -> Parsed:
    """The action a reply chooses, its private reasoning and the repairs made; ReplyError says what is wrong.

    Names, kinds and numbers are checked strictly (a value off the menu is refused, never guessed);
    only the JSON around them is read leniently (see `actors.llm.lenient`).
    """
    data, repaired = decode_object(text)
    repairs = list(repaired)
    raw_reasoning = data.get("reasoning")
    reasoning = raw_reasoning.strip() if isinstance(raw_reasoning, str) and raw_reasoning.strip() else None
    if reasoning is not None and len(reasoning) > reasoning_chars:
        repairs.append(f"reasoning cut from {len(reasoning)} to {reasoning_chars} characters")
        reasoning = reasoning[:reasoning_chars]
    action = _action(data, choices, speech_chars, repairs)
    return Parsed(action, reasoning, tuple(repairs))


def _action(
    data: dict[str, Any], choices: tuple[Choice, ...], speech_chars: int | None, repairs: list[str]
) -> Action:
    kind = data.get("action")
    by_kind = {c.kind.value: c for c in choices}
    if not isinstance(kind, str) or kind not in by_kind:
        raise ReplyError(f'"action" must be one of {", ".join(by_kind)}; got {kind!r}')
    choice = by_kind[kind]
    match choice.kind:
        case ActionKind.ABSTAIN:
            return Abstain()
        case ActionKind.SPEAK:
            speech = data.get("speech")
            if not isinstance(speech, str) or not speech.strip():
                raise ReplyError('"speak" needs a non-empty "speech"')
            said = _shorten(speech.strip(), speech_limit(choice, speech_chars))
            if len(said) < len(speech.strip()):
                repairs.append(f"speech cut from {len(speech.strip())} to {len(said)} characters")
            return Speak(said)
        case ActionKind.BID:
            amount = data.get("bid")
            if type(amount) is not int or not 0 <= amount <= choice.max_bid:
                raise ReplyError(f'"bid" must be an integer from 0 to {choice.max_bid}; got {amount!r}')
            return Bid(amount)
        case _:
            target = data.get("target")
            if target not in choice.targets:
                raise ReplyError(
                    f'"{kind}" needs "target" to be one of {", ".join(choice.targets)}; got {target!r}'
                )
            return action_from_dict({"kind": kind, "target": target})


def _shorten(text: str, limit: int) -> str:
    """Cut an over-long speech at the last sentence end that fits (models run on)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 2 else cut
