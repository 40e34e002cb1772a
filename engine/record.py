"""A game as a JSON-ready record (config, seed, inputs, events, outcome), and its replay.

The record holds every input the game accepted, in order; replaying them on a fresh game built from
the same config and seed must give the identical event log and outcome (engine Rule 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import GameConfig
from engine.errors import WerewolfError
from engine.events import event_to_dict
from engine.game import Game
from engine.inputs import Deadline, input_from_dict
from engine.outcome import Outcome
from engine.vocabulary import PlayerId, Role

RECORD_FORMAT = 1


class ReplayError(WerewolfError):
    """A record that cannot be replayed, or whose replay differs from what it recorded."""


def outcome_to_dict(outcome: Outcome | None) -> dict[str, Any] | None:
    """Plain form of an outcome."""
    if outcome is None:
        return None
    return {
        "winner": outcome.winner.value if outcome.winner else None,
        "termination": outcome.termination.value,
        "day": outcome.day,
        "reason": outcome.reason,
    }


def to_record(game: Game) -> dict[str, Any]:
    """Everything needed to replay and check `game`, as plain JSON values."""
    return {
        "format": RECORD_FORMAT,
        "config": game.config.to_dict(),
        "seed": game.seed,
        # The game's key (hex), which replay needs; it opens this game only (engine.seeding).
        "key": game.key.hex() if game.key is not None else None,
        "roles": {p: game.role_of(p).value for p in game.players} if game.forced_roles else None,
        "inputs": [_copy_plain(item) for item in game.inputs],  # editing the record must not edit the game
        "events": [event_to_dict(e) for e in game.events],
        "outcome": outcome_to_dict(game.outcome()),
    }


def _copy_plain(value: Any) -> Any:
    """A deep copy of plain JSON values (dicts, lists, tuples, scalars): `copy.deepcopy` was a third
    of a record's time, most of it in bookkeeping such values do not need."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_plain(item) for key, item in value.items()}
    if kind is list:
        return [_copy_plain(item) for item in value]
    if kind is tuple:
        return tuple(_copy_plain(item) for item in value)
    return value


def replay(record: Mapping[str, Any], *, check: bool = True) -> Game:
    """Re-run a recorded game; with `check`, raise ReplayError unless events and outcome are identical."""
    try:
        if record.get("format") != RECORD_FORMAT:
            raise ReplayError(f"unsupported record format {record.get('format')!r}")
        config = GameConfig.from_dict(record["config"])
        seed = record["seed"]
        key = bytes.fromhex(record["key"]) if record.get("key") is not None else None
        roles = record.get("roles")
        if roles is None:
            game = Game.new(config, seed=seed, key=key)
        else:
            game = Game.with_roles(
                config, {PlayerId(p): Role(r) for p, r in roles.items()}, seed=seed, key=key
            )
        for step, item in enumerate(record["inputs"]):
            given = input_from_dict(item)
            if isinstance(given, Deadline) and given.phase_id != game.phase_id:
                raise ReplayError(
                    f"input {step}: deadline for phase {given.phase_id}, game is at {game.phase_id}"
                )
            game.handle(given)
    except (KeyError, TypeError, ValueError, WerewolfError) as exc:
        if isinstance(exc, ReplayError):
            raise
        raise ReplayError(f"cannot replay record: {exc}") from exc
    if check:
        events = [event_to_dict(e) for e in game.events]
        if "events" in record and events != record["events"]:
            first = next(
                (i for i, (a, b) in enumerate(zip(events, record["events"], strict=False)) if a != b),
                min(len(events), len(record["events"])),
            )
            raise ReplayError(f"replayed events differ from the record from event {first} on")
        if outcome_to_dict(game.outcome()) != record.get("outcome"):
            raise ReplayError(
                f"replayed outcome {outcome_to_dict(game.outcome())} != recorded {record.get('outcome')}"
            )
    return game
