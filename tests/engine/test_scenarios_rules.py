"""Scripted games, one or more per rule switch (every field of `Rules`).

Like the role scenarios, each deals the roles explicitly and checks events and menus after every step.
"""

from __future__ import annotations

import pytest

from engine import (
    Abstain,
    ActionKind,
    Bid,
    Choice,
    Discussion,
    Heal,
    IllegalAction,
    Inspect,
    Kill,
    Phase,
    Protect,
    Reveal,
    Role,
    Rules,
    Speak,
    Team,
    Termination,
    TiePolicy,
    Vote,
    VoteRule,
)
from engine.events import BidsRevealed, NoExecution, PhaseStarted, PlayerDied, Spoke, VotesRevealed
from tests.engine.helpers import (
    ALICE,
    BRUNO,
    CHLOE,
    DAMIEN,
    ELISE,
    FABIEN,
    QUIET,
    awaited,
    deaths,
    make_game,
    of_type,
    run_phase,
)

ABSTAIN = Choice(ActionKind.ABSTAIN)
W, V = Role.WEREWOLF, Role.VILLAGER
FIVE = {ALICE: W, BRUNO: V, CHLOE: V, DAMIEN: V, ELISE: V}  # one wolf, four villagers


def test_every_rule_switch_has_a_scenario_here() -> None:
    covered = {
        "doctor_self_protect",
        "doctor_repeat_protect",
        "witch_self_save",
        "allow_self_vote",
        "vote_rule",
        "tie_policy",
        "reveal_on_death",
        "last_words",
        "discussion",
        "discussion_rounds",
        "bidding_max_turns",
        "wolf_chat",
        "wolf_chat_rounds",
        "max_days",
        "max_speech_chars",
        "day_zero",
    }
    assert covered == set(Rules().to_dict())


# -------------------------------------------------------------------------------------------- doctor


@pytest.mark.parametrize("allowed", [True, False])
def test_doctor_self_protect(allowed: bool) -> None:
    game = make_game(
        {ALICE: W, BRUNO: Role.DOCTOR, CHLOE: V, DAMIEN: V}, doctor_self_protect=allowed, **QUIET
    )
    targets = game.legal_actions(BRUNO)[0].targets
    assert (BRUNO in targets) is allowed
    if allowed:
        events = run_phase(game, Phase.NIGHT, {BRUNO: Protect(BRUNO), ALICE: Kill(BRUNO)})
        assert deaths(events) == []
    else:
        with pytest.raises(IllegalAction, match="not allowed"):
            game.apply(BRUNO, Protect(BRUNO))


def test_doctor_may_not_guard_the_same_player_twice_in_a_row() -> None:
    game = make_game({ALICE: W, BRUNO: Role.DOCTOR, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    assert Rules().doctor_repeat_protect is False
    run_phase(game, Phase.NIGHT, {BRUNO: Protect(CHLOE)})
    run_phase(game, Phase.VOTE)
    assert game.legal_actions(BRUNO)[0].targets == (ALICE, BRUNO, DAMIEN, ELISE)
    with pytest.raises(IllegalAction, match="not allowed"):
        game.apply(BRUNO, Protect(CHLOE))
    run_phase(game, Phase.NIGHT)  # he passes: the restriction only concerns consecutive nights
    run_phase(game, Phase.VOTE)
    assert CHLOE in game.legal_actions(BRUNO)[0].targets


def test_doctor_repeat_protect_allows_the_same_player_again() -> None:
    game = make_game(
        {ALICE: W, BRUNO: Role.DOCTOR, CHLOE: V, DAMIEN: V, ELISE: V}, doctor_repeat_protect=True, **QUIET
    )
    run_phase(game, Phase.NIGHT, {BRUNO: Protect(CHLOE)})
    run_phase(game, Phase.VOTE)
    events = run_phase(game, Phase.NIGHT, {BRUNO: Protect(CHLOE), ALICE: Kill(CHLOE)})
    assert deaths(events) == []


# --------------------------------------------------------------------------------------------- witch


@pytest.mark.parametrize("allowed", [True, False])
def test_witch_self_save(allowed: bool) -> None:
    game = make_game({ALICE: W, BRUNO: Role.WITCH, CHLOE: V, DAMIEN: V}, witch_self_save=allowed, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    kinds = [c.kind for c in game.legal_actions(BRUNO)]
    assert (ActionKind.HEAL in kinds) is allowed
    if allowed:
        events = run_phase(game, Phase.WITCH, {BRUNO: Heal(BRUNO)})
        assert deaths(events) == []
    else:
        with pytest.raises(IllegalAction, match="not allowed"):
            game.apply(BRUNO, Heal(BRUNO))
        events = run_phase(game, Phase.WITCH)
        assert deaths(events) == [("Bruno", "night")]


# --------------------------------------------------------------------------------------------- votes


@pytest.mark.parametrize("allowed", [True, False])
def test_allow_self_vote(allowed: bool) -> None:
    game = make_game(FIVE, allow_self_vote=allowed, **QUIET)
    run_phase(game, Phase.NIGHT)
    assert (BRUNO in game.legal_actions(BRUNO)[0].targets) is allowed
    if allowed:
        events = run_phase(game, Phase.VOTE, {BRUNO: Vote(BRUNO)})
        assert deaths(events) == [("Bruno", "execution")]
    else:
        with pytest.raises(IllegalAction, match="not allowed"):
            game.apply(BRUNO, Vote(BRUNO))


def test_plurality_executes_the_most_voted_even_without_a_majority() -> None:
    game = make_game(FIVE, **QUIET)
    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, {ALICE: Vote(BRUNO), CHLOE: Vote(BRUNO), DAMIEN: Vote(ELISE)})
    revealed = of_type(events, VotesRevealed)[0]
    assert revealed.round == 1
    assert revealed.votes == ((ALICE, BRUNO), (BRUNO, None), (CHLOE, BRUNO), (DAMIEN, ELISE), (ELISE, None))
    assert revealed.tally == ((BRUNO, 2), (ELISE, 1))
    assert deaths(events) == [("Bruno", "execution")]


def test_strict_majority_needs_more_than_half_of_the_living() -> None:
    game = make_game(FIVE, vote_rule=VoteRule.STRICT_MAJORITY, **QUIET)
    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, {ALICE: Vote(BRUNO), CHLOE: Vote(BRUNO), DAMIEN: Vote(ELISE)})
    assert deaths(events) == []
    assert [n.reason for n in of_type(events, NoExecution)] == ["no strict majority (3 of 5 votes needed)"]
    assert (game.day, game.phase) == (2, Phase.NIGHT)

    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, {ALICE: Vote(BRUNO), CHLOE: Vote(BRUNO), DAMIEN: Vote(BRUNO)})
    assert deaths(events) == [("Bruno", "execution")]


def test_strict_majority_never_revotes_a_tie() -> None:
    game = make_game(FIVE, vote_rule=VoteRule.STRICT_MAJORITY, **QUIET)
    run_phase(game, Phase.NIGHT)
    votes = {ALICE: Vote(BRUNO), BRUNO: Vote(CHLOE), CHLOE: Vote(BRUNO), DAMIEN: Vote(CHLOE)}
    events = run_phase(game, Phase.VOTE, votes)
    assert of_type(events, NoExecution)
    assert game.phase is Phase.NIGHT


TIE = {ALICE: Vote(CHLOE), BRUNO: Vote(ALICE), CHLOE: Vote(ALICE), DAMIEN: Vote(CHLOE)}  # Alice 2, Chloe 2


def test_tie_then_revote_executes_the_revote_winner() -> None:
    game = make_game(FIVE, **QUIET)
    assert Rules().tie_policy is TiePolicy.REVOTE_THEN_NONE
    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, TIE)
    assert of_type(events, VotesRevealed)[0].tally == ((ALICE, 2), (CHLOE, 2))
    assert deaths(events) == []
    revote = of_type(events, PhaseStarted)[-1]
    assert (revote.phase, revote.candidates) == (Phase.VOTE, (ALICE, CHLOE))
    assert game.legal_actions(ALICE) == (Choice(ActionKind.VOTE, (CHLOE,)), ABSTAIN)
    assert game.legal_actions(ELISE) == (Choice(ActionKind.VOTE, (ALICE, CHLOE)), ABSTAIN)
    with pytest.raises(IllegalAction, match="not allowed"):
        game.apply(ELISE, Vote(BRUNO))  # only the tied players may be named

    events = run_phase(game, Phase.VOTE, {ALICE: Vote(CHLOE), CHLOE: Vote(ALICE)}, others=Vote(ALICE))
    assert of_type(events, VotesRevealed)[0].round == 2
    assert deaths(events) == [("Alice", "execution")]
    outcome = game.outcome()
    assert outcome is not None
    assert outcome.winner is Team.VILLAGE


def test_tie_then_revote_tie_executes_nobody() -> None:
    game = make_game(FIVE, tie_policy=TiePolicy.REVOTE_THEN_NONE, **QUIET)
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, TIE)
    events = run_phase(game, Phase.VOTE, TIE)
    assert [n.reason for n in of_type(events, NoExecution)] == ["tie between Alice, Chloe"]
    assert deaths(events) == []
    assert (game.day, game.phase) == (2, Phase.NIGHT)


def test_tie_then_revote_tie_is_drawn_from_the_seed() -> None:
    def executed(seed: int) -> str:
        game = make_game(FIVE, seed=seed, tie_policy=TiePolicy.REVOTE_THEN_RANDOM, **QUIET)
        run_phase(game, Phase.NIGHT)
        run_phase(game, Phase.VOTE, TIE)
        events = run_phase(game, Phase.VOTE, TIE)
        [(player, cause)] = deaths(events)
        assert cause == "execution"
        return player

    assert executed(5) == executed(5)
    assert {executed(seed) for seed in range(20)} == {"Alice", "Chloe"}


def test_tie_policy_none_executes_nobody_without_a_revote() -> None:
    game = make_game(FIVE, tie_policy=TiePolicy.NONE, **QUIET)
    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, TIE)
    assert [n.reason for n in of_type(events, NoExecution)] == ["tie between Alice, Chloe"]
    assert game.phase is Phase.NIGHT


def test_tie_policy_random_draws_at_once() -> None:
    def executed(seed: int) -> str:
        game = make_game(FIVE, seed=seed, tie_policy=TiePolicy.RANDOM, **QUIET)
        run_phase(game, Phase.NIGHT)
        events = run_phase(game, Phase.VOTE, TIE)
        assert len(of_type(events, VotesRevealed)) == 1
        [(player, _)] = deaths(events)
        return player

    assert {executed(seed) for seed in range(20)} == {"Alice", "Chloe"}


# -------------------------------------------------------------------------------------------- deaths


@pytest.mark.parametrize(
    ("reveal", "role", "team"),
    [(Reveal.NONE, None, None), (Reveal.TEAM, None, Team.VILLAGE), (Reveal.ROLE, Role.SEER, Team.VILLAGE)],
)
def test_reveal_on_death(reveal: Reveal, role: Role | None, team: Team | None) -> None:
    game = make_game({ALICE: W, BRUNO: Role.SEER, CHLOE: V, DAMIEN: V}, reveal_on_death=reveal, **QUIET)
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    [died] = of_type(events, PlayerDied)
    assert (died.player, died.role, died.team) == (BRUNO, role, team)


@pytest.mark.parametrize("allowed", [True, False])
def test_last_words(allowed: bool) -> None:
    game = make_game(FIVE, **{**QUIET, "last_words": allowed})
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {ALICE: Abstain()}, others=Vote(ALICE))
    outcome = game.outcome()
    assert outcome is not None  # the last wolf is dead: the game ends before any last words

    game = make_game(FIVE, **{**QUIET, "last_words": allowed})
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {BRUNO: Abstain()}, others=Vote(BRUNO))
    if allowed:
        assert (game.phase, awaited(game)) == (Phase.LAST_WORDS, [BRUNO])
        assert not game.is_alive(BRUNO)
        events = run_phase(game, Phase.LAST_WORDS, {BRUNO: Speak("Alice did it.")})
        assert [(s.player, s.phase, s.text) for s in of_type(events, Spoke)] == [
            (BRUNO, Phase.LAST_WORDS, "Alice did it.")
        ]
    assert (game.day, game.phase) == (2, Phase.NIGHT)


# ---------------------------------------------------------------------------------------- discussion


def test_round_robin_discussion_gives_each_living_player_one_turn_per_round() -> None:
    game = make_game(FIVE, **{**QUIET, "discussion_rounds": 2})
    run_phase(game, Phase.NIGHT, {ALICE: Kill(ELISE)})
    speakers = []
    while game.phase is Phase.DISCUSSION:
        [speaker] = awaited(game)
        assert game.legal_actions(speaker) == (Choice(ActionKind.SPEAK, max_chars=1000), ABSTAIN)
        events = run_phase(game, Phase.DISCUSSION, {speaker: Speak(f"I am {speaker}.")})
        assert [(s.player, s.text) for s in of_type(events, Spoke)] == [(speaker, f"I am {speaker}.")]
        assert of_type(events, Spoke)[0].audience.scope == "public"
        speakers.append(speaker)
    assert game.phase is Phase.VOTE
    assert len(speakers) == 8
    assert sorted(speakers[:4]) == [ALICE, BRUNO, CHLOE, DAMIEN]  # the dead (Elise) never speak
    assert speakers[4:] == speakers[:4]  # the order is drawn once per day


def test_round_robin_order_is_drawn_from_the_seed() -> None:
    def first_round(seed: int) -> tuple[str, ...]:
        game = make_game(FIVE, seed=seed, **{**QUIET, "discussion_rounds": 1})
        run_phase(game, Phase.NIGHT)
        order = []
        while game.phase is Phase.DISCUSSION:
            order += awaited(game)
            run_phase(game, Phase.DISCUSSION)
        return tuple(order)

    assert first_round(1) == first_round(1)
    assert len({first_round(seed) for seed in range(10)}) > 1


def test_no_discussion_rounds_goes_straight_to_the_vote() -> None:
    game = make_game(FIVE, **{**QUIET, "discussion_rounds": 0})
    run_phase(game, Phase.NIGHT)
    assert game.phase is Phase.VOTE


def test_bidding_discussion_gives_the_turn_to_the_highest_bid() -> None:
    game = make_game(FIVE, **{**QUIET, "discussion": Discussion.BIDDING, "bidding_max_turns": 3})
    run_phase(game, Phase.NIGHT)
    assert (game.phase, awaited(game)) == (Phase.BIDDING, [ALICE, BRUNO, CHLOE, DAMIEN, ELISE])
    assert game.legal_actions(ALICE) == (Choice(ActionKind.BID, max_bid=4), ABSTAIN)

    events = run_phase(game, Phase.BIDDING, {ALICE: Bid(1), BRUNO: Bid(3), CHLOE: Bid(0), DAMIEN: Bid(2)})
    revealed = of_type(events, BidsRevealed)[0]
    assert revealed.bids == ((ALICE, 1), (BRUNO, 3), (CHLOE, 0), (DAMIEN, 2), (ELISE, 0))
    assert revealed.speaker == BRUNO
    assert (game.phase, awaited(game)) == (Phase.DISCUSSION, [BRUNO])
    run_phase(game, Phase.DISCUSSION, {BRUNO: Speak("Damien, why so quiet?")})

    # the last speaker does not bid; a tie goes to a player the last speech named
    assert awaited(game) == [ALICE, CHLOE, DAMIEN, ELISE]
    events = run_phase(game, Phase.BIDDING, {ALICE: Bid(4), DAMIEN: Bid(4), ELISE: Bid(4)})
    assert of_type(events, BidsRevealed)[0].speaker == DAMIEN
    run_phase(game, Phase.DISCUSSION)  # Damien passes; he still was the last speaker

    assert awaited(game) == [ALICE, BRUNO, CHLOE, ELISE]
    run_phase(game, Phase.BIDDING)
    run_phase(game, Phase.DISCUSSION)
    assert game.phase is Phase.VOTE  # three turns, then the vote


def test_bidding_tie_without_a_mention_is_drawn_from_the_seed() -> None:
    def speaker(seed: int) -> str:
        game = make_game(
            FIVE, seed=seed, **{**QUIET, "discussion": Discussion.BIDDING, "bidding_max_turns": 1}
        )
        run_phase(game, Phase.NIGHT)
        events = run_phase(game, Phase.BIDDING, {ALICE: Bid(2), CHLOE: Bid(2)})
        return of_type(events, BidsRevealed)[0].speaker

    assert {speaker(seed) for seed in range(20)} == {"Alice", "Chloe"}


def test_bidding_max_turns_zero_goes_straight_to_the_vote() -> None:
    game = make_game(FIVE, **{**QUIET, "discussion": Discussion.BIDDING, "bidding_max_turns": 0})
    run_phase(game, Phase.NIGHT)
    assert game.phase is Phase.VOTE


# -------------------------------------------------------------------------------------- wolves' chat


SIX = {ALICE: W, BRUNO: W, CHLOE: V, DAMIEN: V, ELISE: V, FABIEN: V}


def test_no_wolf_chat_goes_straight_to_the_night_actions() -> None:
    game = make_game(SIX, **{**QUIET, "wolf_chat": False})
    assert game.phase is Phase.NIGHT
    assert not any(isinstance(e, PhaseStarted) and e.phase is Phase.WOLF_CHAT for e in game.events)


def test_wolf_chat_rounds_give_each_wolf_that_many_turns_in_one_order() -> None:
    game = make_game(SIX, **{**QUIET, "wolf_chat": True, "wolf_chat_rounds": 2})
    order = []
    while game.phase is Phase.WOLF_CHAT:
        [wolf] = awaited(game)
        order.append(wolf)
        run_phase(game, Phase.WOLF_CHAT, {wolf: Speak("Chloe tonight?")})
    assert len(order) == 4
    assert sorted(order[:2]) == [ALICE, BRUNO]
    assert order[2:] == order[:2]
    assert game.phase is Phase.NIGHT


def test_day_zero_opens_with_talk_without_vote_then_a_night_without_attack_or_guard() -> None:
    roles = {ALICE: W, BRUNO: Role.SEER, CHLOE: Role.BODYGUARD, DAMIEN: V, ELISE: V}
    game = make_game(roles, **{**QUIET, "discussion_rounds": 1, "day_zero": True})
    assert game.events[-2:][0].type == "day_broke"
    assert (game.day, game.phase) == (0, Phase.DISCUSSION)
    while game.phase is Phase.DISCUSSION:
        [speaker] = awaited(game)
        run_phase(game, Phase.DISCUSSION, {speaker: Speak("Good morning.")})
    # No vote on day 0: the first night comes, and only the seer acts in it.
    assert (game.day, game.phase, awaited(game)) == (1, Phase.NIGHT, [BRUNO])
    events = run_phase(game, Phase.NIGHT, {BRUNO: Inspect(ALICE)})
    assert deaths(events) == []
    assert (game.day, game.phase) == (1, Phase.DISCUSSION)
    while game.phase is Phase.DISCUSSION:
        run_phase(game, Phase.DISCUSSION)
    run_phase(game, Phase.VOTE, {DAMIEN: Vote(ELISE)}, others=Vote(DAMIEN))
    # From the second night on, everyone acts as usual.
    assert (game.day, game.phase, awaited(game)) == (2, Phase.NIGHT, [ALICE, BRUNO, CHLOE])


def test_a_lone_wolf_has_no_chat() -> None:
    game = make_game(SIX, **{**QUIET, "wolf_chat": True})
    while game.phase is Phase.WOLF_CHAT:
        run_phase(game, Phase.WOLF_CHAT)
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {BRUNO: Vote(CHLOE)}, others=Vote(BRUNO))
    assert not game.is_alive(BRUNO)
    assert (game.day, game.phase, awaited(game)) == (2, Phase.NIGHT, [ALICE])


# -------------------------------------------------------------------------------------------- limits


def test_max_days_ends_the_game_without_a_winner() -> None:
    game = make_game(FIVE, max_days=2, **QUIET)
    for day in (1, 2):
        run_phase(game, Phase.NIGHT)
        assert game.day == day
        run_phase(game, Phase.VOTE)
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination, outcome.day) == (None, Termination.MAX_DAYS, 2)
    assert outcome.reason == "no winner after 2 days"
    assert game.phase is Phase.GAME_OVER


def test_max_speech_chars_caps_every_speech() -> None:
    game = make_game(FIVE, max_speech_chars=10, **{**QUIET, "discussion_rounds": 1})
    run_phase(game, Phase.NIGHT)
    [speaker] = awaited(game)
    assert game.legal_actions(speaker)[0] == Choice(ActionKind.SPEAK, max_chars=10)
    with pytest.raises(IllegalAction, match="11 characters, the limit is 10"):
        game.apply(speaker, Speak("x" * 11))
    events = game.apply(speaker, Speak("x" * 10))
    assert [s.text for s in of_type(events, Spoke)] == ["x" * 10]
