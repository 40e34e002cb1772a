"""Random legal play (OpenSpiel `random_sim_test`): 500 seeds for every preset, invariants after every step.

What is checked where (to keep the suite fast on two cores):

- every seed, after every input: `check_step` (cheap): the dead never act except a dying hunter's shot
  and the executed player's last words; menus are well formed; the alive list and the day are sane;
  at the end the outcome is valid and GameEnded is the last event;
- every seed, at the start: `check_wolves_met` (wolves know each other from the start, nobody else does);
- every seed, at the end: `check_observations` (full scan of every player's view). Views only grow by
  appending routed events, so a right final view means every earlier view was right too: no hidden role,
  foreign seer result or wolves' chat ever reached a player it was not allowed to reach;
- the first `SCANNED_SEEDS` seeds, after every input: `check_observations` again, which also checks what
  only holds at that moment (a hidden phase is never shown to a player who may not see it).

Games run with a small deadline rate, so faults and default abstentions are exercised too.
"""

from __future__ import annotations

import random

import pytest

from engine import PRESETS, Discussion, Game, GameConfig, Role
from engine.events import PhaseStarted
from tests.engine.helpers import check_observations, check_step, check_wolves_met, play_random

SEEDS = 500
SCANNED_SEEDS = 3
DEADLINE_RATE = 0.02


def after_every_step(game: Game) -> None:
    check_step(game)
    check_observations(game)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_random_legal_play_terminates_with_a_valid_outcome(preset: str) -> None:
    config = PRESETS[preset]
    endings: set[str] = set()
    seen: set[str] = set()
    for seed in range(SEEDS):
        game = Game.new(config, seed=seed)
        check_wolves_met(game)
        check_observations(game)
        hook = after_every_step if seed < SCANNED_SEEDS else check_step
        play_random(game, random.Random(seed), deadline_rate=DEADLINE_RATE, after_step=hook)
        check_observations(game)
        outcome = game.outcome()
        assert outcome is not None
        endings.add(outcome.termination.value)
        seen.update(e.type for e in game.events)
        seen.update(f"phase:{e.phase}" for e in game.events if isinstance(e, PhaseStarted))
    assert "wolf_parity" in endings  # random play reaches real endings, not only the day limit
    assert expected_sights(config) <= seen  # every power in play and the documented exceptions happen


def expected_sights(config: GameConfig) -> set[str]:
    """Event types and phases random play must reach with this config at least once in 500 games."""
    roles = config.role_counts
    rules = config.rules
    sights = {"seer_learned": Role.SEER, "witch_woke": Role.WITCH, "hunter_shot": Role.HUNTER}
    expected = {sight for sight, role in sights.items() if role in roles}
    expected |= {"medium_learned"} if Role.MEDIUM in roles else set()
    expected |= {"player_faulted", "votes_revealed", "phase:night"}
    expected |= {"phase:last_words"} if rules.last_words else set()
    expected |= {"phase:wolf_chat"} if rules.wolf_chat and roles[Role.WEREWOLF] > 1 else set()
    expected |= {"bids_revealed"} if rules.discussion is Discussion.BIDDING else {"phase:discussion"}
    return expected


@pytest.mark.parametrize("preset", ["aiwolf-5", "aiwolf-13"])
def test_random_legal_play_with_day_zero_keeps_every_invariant(preset: str) -> None:
    config = PRESETS[preset].with_rules(day_zero=True)
    for seed in range(100):
        game = Game.new(config, seed=seed)
        check_wolves_met(game)
        hook = after_every_step if seed < SCANNED_SEEDS else check_step
        play_random(game, random.Random(seed), deadline_rate=DEADLINE_RATE, after_step=hook)
        check_observations(game)
        assert game.outcome() is not None
        first_night = [e for e in game.events if e.day == 1 and e.type in ("wolves_chose", "night_resolved")]
        assert all(getattr(e, "victim", None) is None for e in first_night)
