"""Illegal inputs change nothing (h11 `test_state.py` pattern): `IllegalAction`, then state before == after.

The last test lets Hypothesis throw arbitrary sequences of possibly-illegal inputs at a game.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import (
    PRESETS,
    Abstain,
    Action,
    Bid,
    Game,
    Heal,
    IllegalAction,
    Inspect,
    Kill,
    Phase,
    PlayerId,
    Poison,
    Protect,
    Role,
    Shoot,
    Speak,
    Vote,
    random_action,
    replay,
    to_record,
)
from tests.engine.helpers import (
    ALICE,
    BRUNO,
    CHLOE,
    DAMIEN,
    ELISE,
    FABIEN,
    QUIET,
    awaited,
    check_observations,
    check_step,
    make_game,
    run_phase,
)

W, V = Role.WEREWOLF, Role.VILLAGER
ZOE = PlayerId("Zoe")
ROLES = {ALICE: W, BRUNO: Role.SEER, CHLOE: Role.DOCTOR, DAMIEN: Role.WITCH, ELISE: Role.HUNTER, FABIEN: V}


def assert_rejected(game: Game, player: PlayerId, action: Any, match: str) -> None:
    """`action` raises IllegalAction saying `match`, and the game (log, views, menus) is unchanged."""
    before = game.snapshot()
    views = [game.observe(p) for p in game.players]
    menus = [game.legal_actions(p) for p in game.players]
    with pytest.raises(IllegalAction, match=match) as caught:
        game.apply(player, action)
    assert caught.value.player == player
    assert caught.value.action == action
    assert game.snapshot() == before
    assert [game.observe(p) for p in game.players] == views
    assert [game.legal_actions(p) for p in game.players] == menus


@pytest.fixture
def night() -> Game:
    """Night 1 of a six-seat game with every power: Alice the wolf, Bruno the seer, Chloe the doctor,
    Damien the witch, Elise the hunter, Fabien a villager."""
    return make_game(ROLES, **QUIET)


def day_after_chloe_dies(game: Game) -> Game:
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE), CHLOE: Protect(FABIEN)})
    run_phase(game, Phase.WITCH)
    assert game.phase is Phase.VOTE
    assert not game.is_alive(CHLOE)
    return game


# ------------------------------------------------------------------------------------------ who acts


def test_dead_player_cannot_act(night: Game) -> None:
    game = day_after_chloe_dies(night)
    assert_rejected(game, CHLOE, Vote(ALICE), "dead players cannot act")
    assert_rejected(game, CHLOE, Abstain(), "dead players cannot act")


def test_unknown_player_cannot_act(night: Game) -> None:
    assert_rejected(night, ZOE, Abstain(), "unknown player 'Zoe'")
    with pytest.raises(IllegalAction, match="unknown player"):
        night.note_fault(ZOE, "timeout")


def test_wrong_role_cannot_use_a_power(night: Game) -> None:
    assert_rejected(night, FABIEN, Kill(BRUNO), "nothing is expected of Fabien in this night phase")
    assert_rejected(night, BRUNO, Kill(FABIEN), "kill is not allowed in the night phase")
    assert_rejected(night, CHLOE, Inspect(ALICE), "inspect is not allowed")
    assert_rejected(night, ALICE, Protect(ALICE), "protect is not allowed")
    assert_rejected(night, DAMIEN, Poison(ALICE), "nothing is expected of Damien")  # the witch wakes later


def test_wrong_phase(night: Game) -> None:
    assert_rejected(
        night, ALICE, Vote(BRUNO), r"vote is not allowed in the night phase \(allowed: kill, abstain\)"
    )
    assert_rejected(night, ALICE, Speak("hello"), "speak is not allowed")
    assert_rejected(night, ALICE, Shoot(BRUNO), "shoot is not allowed")
    game = day_after_chloe_dies(night)
    assert_rejected(game, ALICE, Kill(BRUNO), "kill is not allowed in the vote phase")
    assert_rejected(game, BRUNO, Bid(2), "bid is not allowed")


def test_second_action_in_the_same_phase(night: Game) -> None:
    night.apply(BRUNO, Inspect(ALICE))
    assert_rejected(night, BRUNO, Inspect(FABIEN), "already acted in this night phase")
    game = day_after_chloe_dies(night)
    game.apply(BRUNO, Vote(ALICE))
    assert_rejected(game, BRUNO, Vote(ALICE), "already acted in this vote phase")
    assert_rejected(game, BRUNO, Abstain(), "already acted")


def test_only_the_speaker_speaks_in_a_turn_phase() -> None:
    game = make_game(ROLES, **{**QUIET, "discussion_rounds": 1})
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.WITCH)
    [speaker] = awaited(game)
    other = next(p for p in game.players if p != speaker)
    assert_rejected(game, other, Speak("me too"), f"nothing is expected of {other} in this discussion phase")


def test_game_over_accepts_nothing() -> None:
    game = make_game({ALICE: W, BRUNO: V, CHLOE: V})
    while game.phase is Phase.WOLF_CHAT:
        run_phase(game, Phase.WOLF_CHAT)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    assert game.outcome() is not None
    for player, action in ((ALICE, Kill(CHLOE)), (CHLOE, Abstain()), (BRUNO, Vote(ALICE)), (ZOE, Abstain())):
        assert_rejected(game, player, action, "the game is over")
    before = game.snapshot()
    assert game.deadline_passed() == []
    assert game.deadline_passed(game.phase_id) == []
    assert game.note_fault(ALICE, "a late answer") == []
    assert game.snapshot() == before


def test_stale_deadline_is_ignored(night: Game) -> None:
    stale = night.phase_id - 1
    before = night.snapshot()
    assert night.deadline_passed(stale) == []
    assert night.snapshot() == before


# -------------------------------------------------------------------------------- targets and values


def test_night_targets_not_allowed(night: Game) -> None:
    assert_rejected(night, ALICE, Kill(ALICE), r"kill target 'Alice' is not allowed now \(allowed: Bruno, ")
    assert_rejected(night, ALICE, Kill(ZOE), "kill target 'Zoe' is not allowed")
    assert_rejected(night, BRUNO, Inspect(BRUNO), "inspect target 'Bruno' is not allowed")


def test_wolf_cannot_kill_a_fellow_wolf() -> None:
    game = make_game({ALICE: W, BRUNO: W, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    assert_rejected(game, ALICE, Kill(BRUNO), "kill target 'Bruno' is not allowed")


def test_witch_targets_not_allowed(night: Game) -> None:
    run_phase(night, Phase.NIGHT, {ALICE: Kill(FABIEN)})
    assert night.phase is Phase.WITCH
    assert_rejected(night, DAMIEN, Heal(BRUNO), r"heal target 'Bruno' is not allowed now \(allowed: Fabien\)")
    assert_rejected(night, DAMIEN, Poison(DAMIEN), "poison target 'Damien' is not allowed")


def test_day_targets_not_allowed(night: Game) -> None:
    game = day_after_chloe_dies(night)
    assert_rejected(game, ALICE, Vote(CHLOE), "vote target 'Chloe' is not allowed")  # dead
    assert_rejected(game, ALICE, Vote(ALICE), "vote target 'Alice' is not allowed")  # self
    assert_rejected(game, ALICE, Vote(ZOE), "vote target 'Zoe' is not allowed")


def test_hunter_targets_not_allowed(night: Game) -> None:
    run_phase(night, Phase.NIGHT, {ALICE: Kill(ELISE)})
    run_phase(night, Phase.WITCH)
    assert night.phase is Phase.HUNTER
    assert_rejected(night, ELISE, Shoot(ELISE), "shoot target 'Elise' is not allowed")
    assert_rejected(night, ELISE, Vote(ALICE), "vote is not allowed in the hunter phase")


@pytest.mark.parametrize(
    ("speech", "match"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("x" * 1001, "1001 characters, the limit is 1000"),
        (None, "non-empty"),
    ],
)
def test_bad_speech(speech: Any, match: str) -> None:
    game = make_game(ROLES, **{**QUIET, "discussion_rounds": 1})
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.WITCH)
    [speaker] = awaited(game)
    assert_rejected(game, speaker, Speak(speech), match)


@pytest.mark.parametrize("amount", [-1, 5, True, 2.0, "3"])
def test_bad_bid(amount: Any) -> None:
    game = make_game(ROLES, **{**QUIET, "discussion": "bidding"})
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.WITCH)
    assert_rejected(game, ALICE, Bid(amount), "bid must be an integer from 0 to 4")


@pytest.mark.parametrize("action", ["vote Bruno", None, {"kind": "abstain"}])
def test_not_an_action(night: Game, action: Any) -> None:
    assert_rejected(night, ALICE, action, "None is not allowed in the night phase")


# ---------------------------------------------------------------------------------------- hypothesis

TARGETED: tuple[Callable[[PlayerId], Action], ...] = (Vote, Kill, Inspect, Protect, Heal, Poison, Shoot)
NAMES = (
    *(PlayerId(n) for n in ("Alice", "Bruno", "Chloe", "Damien", "Elise", "Fabien", "Gaelle", "Hugo")),
    ZOE,
)

#: Any action, legal or not: every kind, odd texts and amounts, names that may be dead, absent or unknown.
ANY_ACTION: st.SearchStrategy[Action] = st.one_of(
    st.builds(Speak, st.text(max_size=30)),
    st.builds(Bid, st.integers(-2, 6)),
    st.just(Abstain()),
    st.builds(lambda make, name: make(name), st.sampled_from(TARGETED), st.sampled_from(NAMES)),
)

STEP = st.one_of(
    st.tuples(st.just("act"), st.sampled_from(NAMES), ANY_ACTION),
    st.tuples(st.just("legal"), st.integers(0, 2**32)),  # one legal action
    st.tuples(st.just("rush"), st.integers(0, 2**32)),  # legal actions until a phase or two go by
    st.tuples(st.just("deadline"), st.integers(-1, 1)),  # -1: stale, 0: current, 1: no id
    st.tuples(st.just("fault"), st.sampled_from(NAMES)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(sorted(PRESETS)),
    seed=st.integers(0, 2**32),
    steps=st.lists(STEP, max_size=80),
)
def test_arbitrary_inputs_never_corrupt_the_game(
    preset: str, seed: int, steps: list[tuple[Any, ...]]
) -> None:
    game = Game.new(PRESETS[preset], seed=seed)
    for step in steps:
        before = game.snapshot()
        try:
            match step:
                case ("act", player, action):
                    game.apply(player, action)
                case ("legal" | "rush" as how, draw):
                    rng = random.Random(draw)
                    for _ in range(1 if how == "legal" else rng.randint(1, 40)):
                        pending = awaited(game)
                        if not pending:
                            break
                        player = rng.choice(pending)
                        game.apply(player, random_action(game.legal_actions(player), rng))
                case ("deadline", which):
                    game.deadline_passed(game.phase_id + which if which <= 0 else None)
                case ("fault", player):
                    game.note_fault(player, "garbled answer")
        except IllegalAction:
            assert game.snapshot() == before
        check_step(game)
    check_observations(game)
    assert replay(to_record(game)).events == game.events
    event("game over" if game.outcome() else "game on")
