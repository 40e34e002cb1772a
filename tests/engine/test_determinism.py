"""Determinism (PettingZoo `seed_test`): one seed and one sequence of inputs give one game.

The engine owns its `random.Random(seed)`; it must not read the global `random`, depend on set or dict
iteration order (checked in subprocesses with other PYTHONHASHSEEDs), or on the arrival order of the
actions in a simultaneous phase.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine import PRESETS, ActionKind, Game, random_action
from engine.events import PhaseStarted
from tests.engine.helpers import awaited, log_json, play_random

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(20)


def disturb_global_random(_: Game | None = None) -> None:
    """Move the global RNG the way unrelated code might (the engine must not notice)."""
    random.seed(random.random())
    random.random()


def played(preset: str, seed: int, *, disturb: bool = False) -> Game:
    game = Game.new(PRESETS[preset], seed=seed)
    hook = disturb_global_random if disturb else None
    play_random(game, random.Random(seed), deadline_rate=0.02, after_step=hook)
    return game


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_same_seed_and_actions_give_the_same_game_despite_the_global_random(preset: str) -> None:
    for seed in SEEDS:
        random.seed(1)
        first = played(preset, seed)
        random.seed(2)
        disturb_global_random()
        second = played(preset, seed, disturb=True)
        assert second.inputs == first.inputs
        assert second.events == first.events
        assert log_json(second) == log_json(first)
        assert second.outcome() == first.outcome()
        assert second.snapshot() == first.snapshot()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_different_seeds_deal_different_roles(preset: str) -> None:
    def deal(seed: int) -> tuple[object, ...]:
        game = Game.new(PRESETS[preset], seed=seed)
        return tuple(game.role_of(p) for p in game.players)

    assert deal(7) == deal(7)
    assert deal(0) != deal(1)
    assert len({deal(seed) for seed in SEEDS}) >= 15


def test_arrival_order_in_a_simultaneous_phase_does_not_matter() -> None:
    """Each player's action depends only on (seed, phase, player); one game applies them in seat order,
    the other in reverse. Apart from the private acknowledgements, the logs must be identical."""

    def game_log(preset: str, seed: int, *, reverse: bool) -> list[object]:
        game = Game.new(PRESETS[preset], seed=seed)
        while game.outcome() is None:
            pending = awaited(game)
            phase_id = game.phase_id
            for player in reversed(pending) if reverse else pending:
                if game.phase_id != phase_id:
                    break
                rng = random.Random(f"{seed}/{phase_id}/{player}")
                game.apply(player, random_action(game.legal_actions(player), rng))
        return [e for e in game.events if e.type != "action_recorded"]

    for preset in sorted(PRESETS):
        for seed in range(10):
            assert game_log(preset, seed, reverse=False) == game_log(preset, seed, reverse=True)


SCRIPT = """
import hashlib, random
from engine import PRESETS, Game
from tests.engine.helpers import log_json, play_random
for preset in sorted(PRESETS):
    for seed in range(5):
        game = Game.new(PRESETS[preset], seed=seed)
        play_random(game, random.Random(seed), deadline_rate=0.02)
        print(preset, seed, hashlib.sha256(log_json(game).encode()).hexdigest())
"""


def test_same_seed_gives_the_same_game_under_another_hash_seed() -> None:
    expected = []
    for preset in sorted(PRESETS):
        for seed in range(5):
            digest = hashlib.sha256(log_json(played(preset, seed)).encode()).hexdigest()
            expected.append(f"{preset} {seed} {digest}")
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == expected, f"PYTHONHASHSEED={hash_seed} gives other games"


def test_random_action_only_draws_from_the_menu() -> None:
    game = Game.new(PRESETS["agentscope-9"], seed=3)
    rng = random.Random(0)
    for player in awaited(game):
        menu = game.legal_actions(player)
        for _ in range(50):
            action = random_action(menu, rng)
            [choice] = [c for c in menu if c.kind is action.kind]
            assert choice.refusal(action) is None
    kinds = {
        random_action(game.legal_actions(player), rng).kind for player in awaited(game) for _ in range(50)
    }
    assert ActionKind.ABSTAIN in kinds
    assert len(kinds) > 1


def test_phase_ids_are_unique_and_opaque():
    """A counter would let players count hidden phases (wolves' chat, witch, hunter) between public ones."""
    config = PRESETS["agentscope-9"]
    game = Game.new(config, seed=12)
    play_random(game, random.Random(12))
    ids = [e.phase_id for e in game.events if isinstance(e, PhaseStarted)]
    assert len(ids) == len(set(ids)) > 20
    assert ids != sorted(ids)
    again = Game.new(config, seed=12)
    play_random(again, random.Random(12))
    assert [e.phase_id for e in again.events if isinstance(e, PhaseStarted)] == ids
