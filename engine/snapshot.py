"""A game's whole mutable state as one comparable value: `Game.snapshot()`, for the rule that an
illegal action changes nothing (engine/game.py Rule 3), checked by comparing snapshots."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from engine import night

if TYPE_CHECKING:
    from engine.game import Game


def freeze(value: object) -> object:
    """`value` as nested tuples (sets and dicts sorted), comparable and hashable."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(map(str, value)))
    if isinstance(value, list | deque | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, night.NightState):
        return value.frozen()
    return value


STATE_FIELDS = (
    "_alive",
    "_day",
    "_phase",
    "_phase_id",
    "_used_phase_ids",
    "_awaiting",
    "_choices",
    "_submitted",
    "_agenda",
    "_vote_round",
    "_potions",
    "_last_protected",
    "_night",
    "_executed_today",
    "_last_speaker",
    "_last_speech",
    "_outcome",
    "_events",
    "_visible",
    "inputs",
)


def snapshot_of(game: Game) -> tuple[Any, ...]:
    """Every field of STATE_FIELDS, frozen, and the states of the game's random streams."""
    streams = (game._rng.getstate(), game._phase_rng.getstate())
    return (*(freeze(getattr(game, name)) for name in STATE_FIELDS), *streams)
