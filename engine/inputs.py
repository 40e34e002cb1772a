"""The inputs a game accepts, as typed immutable values, and their plain-dict form in logs.

`Game.handle(input)` is the one entry point; `apply`, `deadline_passed`, `note_fault` and
`note_reasoning` build an input and hand it over. A record's inputs are these values as dicts
(`input_to_dict`, format unchanged since RECORD_FORMAT 1), so a replay is a plain loop:
`for item in record["inputs"]: game.handle(input_from_dict(item))`.

Inputs are NamedTuples rather than frozen dataclasses: one is built for every action on the hot path,
and a tuple is the cheapest immutable value Python makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from engine.actions import Action, action_from_dict, action_to_dict
from engine.vocabulary import PlayerId


class Act(NamedTuple):
    """A player's action for the open phase (`Game.apply`)."""

    player: PlayerId
    action: Action


class Deadline(NamedTuple):
    """Phase `phase_id`'s time is up: whoever is still awaited faults and abstains (`deadline_passed`)."""

    phase_id: int | None = None


class Fault(NamedTuple):
    """A fault of `player` seen outside the engine, e.g. an unparsable answer (`Game.note_fault`)."""

    player: PlayerId
    reason: str


class Reasoning(NamedTuple):
    """A player's private reasoning, for the game master's view only (`Game.note_reasoning`)."""

    player: PlayerId
    text: str


Input = Act | Deadline | Fault | Reasoning


def input_to_dict(item: Input) -> dict[str, Any]:
    """The log form of an input (the four shapes of a record's `inputs`, unchanged since format 1)."""
    if isinstance(item, Act):
        return {"player": item.player, "action": action_to_dict(item.action)}
    if isinstance(item, Deadline):
        return {"deadline": item.phase_id}
    if isinstance(item, Fault):
        return {"fault": item.player, "reason": item.reason}
    return {"reasoning": item.player, "text": item.text}


def input_from_dict(data: Mapping[str, Any]) -> Input:
    """Rebuild an input from its log form; raises ValueError (or KeyError) naming what is wrong."""
    if "deadline" in data:
        phase_id = data["deadline"]
        if phase_id is not None and type(phase_id) is not int:
            raise ValueError(f"deadline phase id must be an integer, got {phase_id!r}")
        return Deadline(phase_id)
    if "fault" in data:
        return Fault(PlayerId(data["fault"]), str(data["reason"]))
    if "reasoning" in data:
        return Reasoning(PlayerId(data["reasoning"]), str(data["text"]))
    return Act(PlayerId(data["player"]), action_from_dict(data["action"]))
