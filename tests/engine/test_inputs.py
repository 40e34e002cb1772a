"""Typed inputs and the one entry point `Game.handle`; the state's snapshot covers every field."""

from __future__ import annotations

import dataclasses
import random

import pytest

from engine import PRESETS, Game, Speak, replay, to_record
from engine.inputs import Act, Deadline, Fault, Reasoning, input_from_dict, input_to_dict
from engine.state import snapshot
from tests.engine.legacy_records import play


def test_inputs_are_immutable_and_round_trip_through_their_log_form() -> None:
    items = [Act("Alice", Speak("hi")), Deadline(7), Fault("Bruno", "late"), Reasoning("Chloe", "hmm")]
    for item in items:
        assert input_from_dict(input_to_dict(item)) == item
        with pytest.raises(AttributeError):
            item.player = "Zoe"  # type: ignore[misc, union-attr]


def test_a_replay_is_a_plain_loop_over_handle() -> None:
    game = Game.new(PRESETS["agentscope-9"], seed=3)
    play(game, random.Random(3))
    again = Game.new(PRESETS["agentscope-9"], seed=3)
    for item in to_record(game)["inputs"]:
        again.handle(input_from_dict(item))
    assert again.events == game.events
    assert again.snapshot() == game.snapshot()
    assert replay(to_record(game)).snapshot() == game.snapshot()


def test_handle_refuses_what_is_not_an_input() -> None:
    game = Game.new(PRESETS["classic-8"], seed=1)
    before = game.snapshot()
    with pytest.raises(TypeError, match="not an input"):
        game.handle({"deadline": game.phase_id})  # type: ignore[arg-type]
    assert game.snapshot() == before


def test_a_stale_deadline_is_ignored_and_not_recorded() -> None:
    game = Game.new(PRESETS["classic-8"], seed=1)
    before = game.snapshot()
    assert game.handle(Deadline(game.phase_id + 1)) == []
    assert game.snapshot() == before
    assert game.handle(Deadline()) != []
    assert game.inputs[-1]["deadline"] is not None  # the phase it closed, never None


def test_the_snapshot_sees_every_field_of_the_state() -> None:
    game = Game.new(PRESETS["agentscope-9"], seed=2)
    state = game.state
    before = snapshot(state)
    for f in dataclasses.fields(state):
        saved = getattr(state, f.name)
        setattr(state, f.name, object())
        assert snapshot(state) != before, f"snapshot misses {f.name}"
        setattr(state, f.name, saved)
    assert snapshot(state) == before
