"""Record and replay: `to_record` -> JSON -> `replay` gives the same game; a tampered record is refused."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from engine import PRESETS, Game, Kill, Phase, ReplayError, Role, Scope, event_to_dict, replay, to_record
from tests.engine.helpers import ALICE, BRUNO, CHLOE, DAMIEN, QUIET, make_game, play_random, run_phase

SEEDS = range(25)


def through_json(record: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(record))
    return loaded


def random_game(preset: str, seed: int) -> Game:
    """A random game with some deadlines and some faults noted from outside the engine."""
    game = Game.new(PRESETS[preset], seed=seed)
    rng = random.Random(seed)

    def maybe_fault(game: Game) -> None:
        if game.outcome() is None and rng.random() < 0.02:
            game.note_fault(rng.choice(game.players), "unparsable answer")

    play_random(game, rng, deadline_rate=0.03, after_step=maybe_fault)
    return game


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_replay_reproduces_random_games(preset: str) -> None:
    for seed in SEEDS:
        game = random_game(preset, seed)
        record = through_json(to_record(game))
        assert record["roles"] is None  # the deal comes from the seed
        again = replay(record)
        assert again.events == game.events
        assert again.outcome() == game.outcome()
        assert again.snapshot() == game.snapshot()
        assert to_record(again) == record


def test_replay_of_a_scripted_game_keeps_its_explicit_deal() -> None:
    game = make_game(
        {ALICE: Role.WEREWOLF, BRUNO: Role.SEER, CHLOE: Role.VILLAGER, DAMIEN: Role.VILLAGER}, **QUIET
    )
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE)})
    record = through_json(to_record(game))
    assert record["roles"] == {
        "Alice": "werewolf",
        "Bruno": "seer",
        "Chloe": "villager",
        "Damien": "villager",
    }
    assert record["outcome"] is None  # an unfinished game replays too
    again = replay(record)
    assert again.events == game.events
    assert again.forced_roles
    assert again.phase is Phase.VOTE


def finished_record() -> dict[str, Any]:
    game = random_game("agentscope-9", 4)
    assert any("deadline" in item for item in game.inputs)
    return through_json(to_record(game))


def first_action(record: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in record["inputs"] if "action" in item)


def retarget(record: dict[str, Any]) -> None:
    """Give some recorded targeted action another legal-looking target."""
    item = next(i for i in record["inputs"] if i.get("action", {}).get("kind") == "vote")
    item["action"]["target"] = next(p for p in record["config"]["players"] if p != item["action"]["target"])


def edit_event(record: dict[str, Any]) -> None:
    died = next(e for e in record["events"] if e["type"] == "player_died")
    died["cause"] = "hunter" if died["cause"] != "hunter" else "night"


def bad_deadline(record: dict[str, Any]) -> None:
    next(i for i in record["inputs"] if "deadline" in i)["deadline"] += 1


TAMPERINGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "format": (lambda r: r.update(format=2), "unsupported record format 2"),
    "no config": (lambda r: r.pop("config"), "cannot replay record"),
    "unknown rule": (lambda r: r["config"]["rules"].update(sheriff=True), "unknown rule"),
    "seed": (lambda r: r.update(seed=r["seed"] + 1), "cannot replay record|differ"),
    "bad deal": (lambda r: r.update(roles={"Alice": "werewolf"}), "cannot replay record"),
    "unknown action": (
        lambda r: first_action(r)["action"].update(kind="fly"),
        "unknown or missing action kind",
    ),
    "unknown player": (lambda r: first_action(r).update(player="Zoe"), "unknown player 'Zoe'"),
    "garbage input": (lambda r: r["inputs"].insert(0, 42), "cannot replay record"),
    "retargeted vote": (retarget, "cannot replay record|differ"),
    "dropped input": (lambda r: r["inputs"].pop(0), "cannot replay record|differ"),
    "bad deadline": (bad_deadline, "deadline for phase"),
    "edited event": (edit_event, "replayed events differ from the record from event"),
    "dropped event": (lambda r: r["events"].pop(), "replayed events differ"),
    "extra event": (lambda r: r["events"].append(r["events"][-1]), "replayed events differ"),
    "outcome": (lambda r: r["outcome"].update(winner="nobody"), "replayed outcome"),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_tampered_record_raises_replay_error(tampering: str) -> None:
    record = finished_record()
    replay(copy.deepcopy(record))  # the untouched record is fine
    change, message = TAMPERINGS[tampering]
    change(record)
    with pytest.raises(ReplayError, match=message):
        replay(record)


def test_replay_without_check_accepts_edited_events() -> None:
    record = finished_record()
    edit_event(record)
    game = replay(record, check=False)
    assert game.outcome() is not None


def test_editing_a_record_leaves_the_game_alone() -> None:
    game = random_game("aiwolf-5", 1)
    before = game.snapshot()
    record = to_record(game)
    first_action(record)["action"]["kind"] = "fly"
    first_action(record)["player"] = "Zoe"
    assert game.snapshot() == before
    assert replay(to_record(game)).events == game.events


def test_reasoning_is_game_master_only_changes_nothing_and_replays():
    game = Game.new(PRESETS["aiwolf-5"], seed=4)
    player = game.players[0]
    awaiting_before = game.awaiting()
    events = game.note_reasoning(player, "Bruno is too quiet.")
    assert [e.type for e in events] == ["reasoned"]
    assert events[0].audience.scope is Scope.GAME_MASTER
    assert game.awaiting() == awaiting_before
    assert all(e.type != "reasoned" for p in game.players for e in game.observe(p).events)
    assert "Bruno is too quiet." not in json.dumps([event_to_dict(e) for e in game.public_events()])
    again = replay(json.loads(json.dumps(to_record(game))))
    assert [event_to_dict(e) for e in again.events] == [event_to_dict(e) for e in game.events]
