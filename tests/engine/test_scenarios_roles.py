"""Scripted games, one per role power (python-chess `test_scholars_mate` shape).

Each scenario deals the roles explicitly, drives the phases with `apply`, and checks events, views and
the outcome after every step. Rules default to `QUIET` (no chat, no discussion, no last words) so that a
day is just the vote, unless the scenario needs more.
"""

from __future__ import annotations

from engine import (
    Abstain,
    ActionKind,
    Choice,
    Heal,
    Inspect,
    Kill,
    Phase,
    Poison,
    Protect,
    Role,
    Shoot,
    Speak,
    Team,
    Termination,
    Vote,
)
from engine.events import (
    DayBroke,
    GameEnded,
    HunterShot,
    MediumLearned,
    NightFell,
    NightResolved,
    NoExecution,
    PhaseStarted,
    SeerLearned,
    Spoke,
    WitchWoke,
    WolvesChose,
    WolvesMet,
)
from tests.engine.helpers import (
    ALICE,
    BRUNO,
    CHLOE,
    DAMIEN,
    ELISE,
    FABIEN,
    GAELLE,
    HUGO,
    QUIET,
    awaited,
    check_observations,
    deaths,
    make_game,
    of_type,
    run_phase,
)

ABSTAIN = Choice(ActionKind.ABSTAIN)
W, V = Role.WEREWOLF, Role.VILLAGER


# ---------------------------------------------------------------------------------------- werewolves


def test_wolf_kills_a_villager_at_night() -> None:
    game = make_game({ALICE: W, BRUNO: V, CHLOE: V, DAMIEN: V}, **QUIET)
    assert (game.day, game.phase, awaited(game)) == (1, Phase.NIGHT, [ALICE])
    assert game.legal_actions(ALICE) == (Choice(ActionKind.KILL, (BRUNO, CHLOE, DAMIEN)), ABSTAIN)
    assert game.legal_actions(BRUNO) == ()

    events = game.apply(ALICE, Kill(CHLOE))
    chose = of_type(events, WolvesChose)
    assert [(c.votes, c.victim) for c in chose] == [(((ALICE, CHLOE),), CHLOE)]
    assert [d.deaths for d in of_type(events, DayBroke)] == [(CHLOE,)]
    assert deaths(events) == [("Chloe", "night")]
    assert (game.day, game.phase, game.alive_players) == (1, Phase.VOTE, (ALICE, BRUNO, DAMIEN))
    seen_by_bruno = {e.type for e in game.observe(BRUNO).events}
    assert {"day_broke", "player_died"} <= seen_by_bruno
    assert not seen_by_bruno & {"wolves_chose", "night_resolved", "action_recorded"}
    check_observations(game)


def test_wolves_majority_picks_the_victim() -> None:
    roles = {ALICE: W, BRUNO: W, CHLOE: W, DAMIEN: V, ELISE: V, FABIEN: V, GAELLE: V, HUGO: V}
    game = make_game(roles, **QUIET)
    assert awaited(game) == [ALICE, BRUNO, CHLOE]
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(DAMIEN), BRUNO: Kill(ELISE), CHLOE: Kill(DAMIEN)})
    assert of_type(events, WolvesChose)[0].victim == DAMIEN
    assert deaths(events) == [("Damien", "night")]


def test_wolves_split_vote_is_drawn_from_the_seed() -> None:
    def victim(seed: int) -> object:
        game = make_game({ALICE: W, BRUNO: W, CHLOE: V, DAMIEN: V, ELISE: V}, seed=seed, **QUIET)
        events = run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE), BRUNO: Kill(DAMIEN)})
        chose = of_type(events, WolvesChose)[0]
        assert chose.votes == ((ALICE, CHLOE), (BRUNO, DAMIEN))
        assert deaths(events) == [(chose.victim, "night")]
        return chose.victim

    assert victim(3) == victim(3)
    assert {victim(seed) for seed in range(20)} == {CHLOE, DAMIEN}


def test_wolves_who_all_abstain_kill_nobody() -> None:
    game = make_game({ALICE: W, BRUNO: W, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    events = run_phase(game, Phase.NIGHT)
    assert of_type(events, WolvesChose)[0].victim is None
    assert of_type(events, DayBroke)[0].deaths == ()
    assert deaths(events) == []
    assert game.phase is Phase.VOTE


def test_wolves_know_each_other_from_the_start_and_chat_in_private() -> None:
    roles = {ALICE: W, BRUNO: V, CHLOE: W, DAMIEN: V, ELISE: V, FABIEN: V}
    game = make_game(roles, **{**QUIET, "wolf_chat": True})
    for wolf in (ALICE, CHLOE):
        view = game.observe(wolf)
        assert view.wolves == (ALICE, CHLOE)
        assert of_type(view.events, WolvesMet)[0].wolves == (ALICE, CHLOE)
    assert game.observe(BRUNO).wolves == ()
    assert not of_type(game.observe(BRUNO).events, WolvesMet)

    first = awaited(game)
    assert (game.phase, len(first)) == (Phase.WOLF_CHAT, 1)
    assert game.observe(BRUNO).phase is Phase.NIGHT  # the chat itself is hidden from the village
    assert game.legal_actions(first[0]) == (Choice(ActionKind.SPEAK, max_chars=1000), ABSTAIN)
    events = run_phase(game, Phase.WOLF_CHAT, {first[0]: Speak("Bruno looks dangerous.")})
    second = awaited(game)
    assert (game.phase, len(second)) == (Phase.WOLF_CHAT, 1)
    assert second != first
    assert set(first + second) == {ALICE, CHLOE}
    events += run_phase(game, Phase.WOLF_CHAT, {second[0]: Speak("Agreed, Bruno.")})
    said = [(s.player, s.text) for s in of_type(events, Spoke)]
    assert said == [(first[0], "Bruno looks dangerous."), (second[0], "Agreed, Bruno.")]
    assert game.phase is Phase.NIGHT
    assert all(s in game.observe(CHLOE).events for s in of_type(events, Spoke))
    assert not of_type(game.observe(BRUNO).events, Spoke)
    check_observations(game)

    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO), CHLOE: Kill(BRUNO)})
    assert not game.is_alive(BRUNO)
    check_observations(game)


def test_wolves_win_at_parity_after_an_execution() -> None:
    game = make_game({ALICE: W, BRUNO: V, CHLOE: V, DAMIEN: V}, **{**QUIET, "last_words": True})
    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    events = run_phase(game, Phase.VOTE, {ALICE: Vote(CHLOE), DAMIEN: Vote(CHLOE), CHLOE: Vote(DAMIEN)})
    assert deaths(events) == [("Chloe", "execution")]
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination, outcome.day) == (Team.WOLVES, Termination.WOLF_PARITY, 1)
    assert game.phase is Phase.GAME_OVER
    assert game.awaiting() == frozenset()
    assert not any(isinstance(e, PhaseStarted) and e.phase is Phase.LAST_WORDS for e in events)
    assert of_type(events, GameEnded)[0].roles == ((ALICE, W), (BRUNO, V), (CHLOE, V), (DAMIEN, V))


# -------------------------------------------------------------------------------------------- doctor


def test_doctor_saves_the_wolves_target() -> None:
    game = make_game({ALICE: W, BRUNO: Role.DOCTOR, CHLOE: V, DAMIEN: V}, **QUIET)
    assert awaited(game) == [ALICE, BRUNO]
    assert game.legal_actions(BRUNO) == (Choice(ActionKind.PROTECT, (ALICE, BRUNO, CHLOE, DAMIEN)), ABSTAIN)

    events = game.apply(BRUNO, Protect(CHLOE))
    assert [e.type for e in events] == ["action_recorded"]
    assert events[0].audience.player == BRUNO
    assert awaited(game) == [ALICE]

    events = game.apply(ALICE, Kill(CHLOE))
    story = of_type(events, NightResolved)[0]
    assert (story.victim, story.protected, story.deaths) == (CHLOE, (CHLOE,), ())
    assert of_type(events, DayBroke)[0].deaths == ()
    assert deaths(events) == []
    assert game.is_alive(CHLOE)
    assert game.phase is Phase.VOTE
    check_observations(game)


def test_doctor_guards_someone_else_and_the_victim_dies() -> None:
    game = make_game({ALICE: W, BRUNO: Role.DOCTOR, CHLOE: V, DAMIEN: V}, **QUIET)
    events = run_phase(game, Phase.NIGHT, {BRUNO: Protect(DAMIEN), ALICE: Kill(CHLOE)})
    assert deaths(events) == [("Chloe", "night")]


def test_bodyguard_guards_like_the_doctor() -> None:
    game = make_game({ALICE: W, BRUNO: Role.BODYGUARD, CHLOE: V, DAMIEN: V}, **QUIET)
    assert game.legal_actions(BRUNO)[0].kind is ActionKind.PROTECT
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(DAMIEN), BRUNO: Protect(DAMIEN)})
    assert deaths(events) == []


# ---------------------------------------------------------------------------------------------- seer


def test_seer_inspects_the_possessed_and_sees_a_human_then_finds_the_wolf() -> None:
    roles = {ALICE: W, BRUNO: Role.POSSESSED, CHLOE: Role.SEER, DAMIEN: V, ELISE: V, FABIEN: V}
    game = make_game(roles, **QUIET)
    assert awaited(game) == [ALICE, CHLOE]  # the possessed has no night power
    assert game.legal_actions(CHLOE) == (
        Choice(ActionKind.INSPECT, (ALICE, BRUNO, DAMIEN, ELISE, FABIEN)),
        ABSTAIN,
    )
    assert game.observe(BRUNO).wolves == ()  # the possessed does not know the wolf

    events = run_phase(game, Phase.NIGHT, {CHLOE: Inspect(BRUNO)})
    learned = of_type(events, SeerLearned)
    assert [(s.seer, s.target, s.is_wolf) for s in learned] == [(CHLOE, BRUNO, False)]
    assert learned[0] in game.observe(CHLOE).events
    assert all(learned[0] not in game.observe(p).events for p in (ALICE, BRUNO, DAMIEN))

    events = run_phase(game, Phase.VOTE)
    assert [n.reason for n in of_type(events, NoExecution)] == ["nobody voted"]
    assert (game.day, game.phase) == (2, Phase.NIGHT)

    events = run_phase(game, Phase.NIGHT, {CHLOE: Inspect(ALICE)})
    assert [(s.target, s.is_wolf) for s in of_type(events, SeerLearned)] == [(ALICE, True)]

    events = run_phase(game, Phase.VOTE, {ALICE: Vote(CHLOE)}, others=Vote(ALICE))
    assert deaths(events) == [("Alice", "execution")]
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination, outcome.day) == (
        Team.VILLAGE,
        Termination.WOLVES_ELIMINATED,
        2,
    )
    check_observations(game)


def test_seer_killed_in_the_night_still_learns_her_result() -> None:
    game = make_game({ALICE: W, BRUNO: Role.SEER, CHLOE: V, DAMIEN: V}, **QUIET)
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO), BRUNO: Inspect(ALICE)})
    assert [e.type for e in events if e.type in ("seer_learned", "player_died")] == [
        "seer_learned",
        "player_died",
    ]
    assert of_type(game.observe(BRUNO).events, SeerLearned)[0].is_wolf


# --------------------------------------------------------------------------------------------- witch


def test_witch_heals_the_victim_then_has_only_her_poison() -> None:
    game = make_game({ALICE: W, BRUNO: Role.WITCH, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    assert awaited(game) == [ALICE]  # the witch wakes after the wolves
    game.apply(ALICE, Kill(CHLOE))
    assert (game.phase, awaited(game)) == (Phase.WITCH, [BRUNO])
    woke = game.observe(BRUNO).events[-1]
    assert isinstance(woke, WitchWoke)
    assert (woke.victim, woke.heal_left, woke.poison_left) == (CHLOE, True, True)
    assert game.legal_actions(BRUNO) == (
        Choice(ActionKind.HEAL, (CHLOE,)),
        Choice(ActionKind.POISON, (ALICE, CHLOE, DAMIEN, ELISE)),
        ABSTAIN,
    )
    assert not of_type(game.observe(CHLOE).events, WitchWoke)
    assert game.observe(CHLOE).phase is Phase.NIGHT  # the witch's phase is hidden
    check_observations(game)

    events = game.apply(BRUNO, Heal(CHLOE))
    assert of_type(events, NightResolved)[0].healed == CHLOE
    assert deaths(events) == []
    view = game.observe(BRUNO)
    assert (view.heal_left, view.poison_left) == (False, True)

    run_phase(game, Phase.VOTE)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(DAMIEN)})
    assert game.legal_actions(BRUNO) == (Choice(ActionKind.POISON, (ALICE, CHLOE, DAMIEN, ELISE)), ABSTAIN)
    events = run_phase(game, Phase.WITCH)
    assert deaths(events) == [("Damien", "night")]


def test_witch_poisons_the_hunter_who_then_shoots() -> None:
    roles = {ALICE: W, BRUNO: W, CHLOE: Role.WITCH, DAMIEN: Role.HUNTER, ELISE: V, FABIEN: V, GAELLE: V}
    game = make_game(roles, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(ELISE), BRUNO: Kill(ELISE)})
    events = run_phase(game, Phase.WITCH, {CHLOE: Poison(DAMIEN)})
    assert of_type(events, DayBroke)[0].deaths == (DAMIEN, ELISE)
    assert deaths(events) == [("Damien", "night"), ("Elise", "night")]  # poison is not told apart

    assert (game.phase, awaited(game)) == (Phase.HUNTER, [DAMIEN])
    assert not game.is_alive(DAMIEN)  # a dying hunter acts although dead
    assert game.legal_actions(DAMIEN) == (
        Choice(ActionKind.SHOOT, (ALICE, BRUNO, CHLOE, FABIEN, GAELLE)),
        ABSTAIN,
    )
    assert game.observe(FABIEN).phase is not Phase.HUNTER  # who the hunter is stays hidden
    check_observations(game)

    events = game.apply(DAMIEN, Shoot(ALICE))
    assert [(s.hunter, s.target) for s in of_type(events, HunterShot)] == [(DAMIEN, ALICE)]
    assert deaths(events) == [("Alice", "hunter")]
    assert game.alive_players == (BRUNO, CHLOE, FABIEN, GAELLE)
    assert game.phase is Phase.VOTE
    view = game.observe(CHLOE)
    assert (view.heal_left, view.poison_left) == (True, False)

    events = run_phase(game, Phase.VOTE, {BRUNO: Vote(CHLOE)}, others=Vote(BRUNO))
    assert deaths(events) == [("Bruno", "execution")]
    outcome = game.outcome()
    assert outcome is not None
    assert outcome.winner is Team.VILLAGE
    check_observations(game)


def test_witch_poisons_the_wolves_victim_who_dies_once() -> None:
    game = make_game({ALICE: W, BRUNO: Role.WITCH, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE)})
    events = run_phase(game, Phase.WITCH, {BRUNO: Poison(CHLOE)})
    assert deaths(events) == [("Chloe", "night")]


def test_witch_poisons_the_last_wolf_and_the_village_wins_at_dawn() -> None:
    game = make_game({ALICE: W, BRUNO: Role.WITCH, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE)})
    events = run_phase(game, Phase.WITCH, {BRUNO: Poison(ALICE)})
    assert deaths(events) == [("Alice", "night"), ("Chloe", "night")]
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination, outcome.day) == (
        Team.VILLAGE,
        Termination.WOLVES_ELIMINATED,
        1,
    )


def test_witch_with_no_potion_left_is_not_woken() -> None:
    game = make_game({ALICE: W, BRUNO: Role.WITCH, CHLOE: V, DAMIEN: V, ELISE: V, FABIEN: V}, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE)})
    run_phase(game, Phase.WITCH, {BRUNO: Heal(CHLOE)})
    run_phase(game, Phase.VOTE)
    run_phase(game, Phase.NIGHT)
    woke = game.observe(BRUNO).events[-1]
    assert isinstance(woke, WitchWoke)
    assert woke.victim is None
    assert game.legal_actions(BRUNO) == (
        Choice(ActionKind.POISON, (ALICE, CHLOE, DAMIEN, ELISE, FABIEN)),
        ABSTAIN,
    )
    events = run_phase(game, Phase.WITCH, {BRUNO: Poison(DAMIEN)})
    assert deaths(events) == [("Damien", "night")]
    run_phase(game, Phase.VOTE)
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(ELISE)})
    assert not of_type(events, WitchWoke)
    assert deaths(events) == [("Elise", "night")]
    assert game.phase is Phase.VOTE


# -------------------------------------------------------------------------------------------- hunter


def test_executed_hunter_speaks_his_last_words_then_shoots() -> None:
    roles = {ALICE: W, BRUNO: W, CHLOE: Role.HUNTER, DAMIEN: V, ELISE: V, FABIEN: V, GAELLE: V}
    game = make_game(roles, **{**QUIET, "last_words": True})
    run_phase(game, Phase.NIGHT)
    events = run_phase(game, Phase.VOTE, {CHLOE: Vote(ALICE)}, others=Vote(CHLOE))
    assert deaths(events) == [("Chloe", "execution")]
    assert (game.phase, awaited(game)) == (Phase.LAST_WORDS, [CHLOE])

    events = run_phase(game, Phase.LAST_WORDS, {CHLOE: Speak("I was the hunter. Alice, you are next.")})
    assert [(s.player, s.phase) for s in of_type(events, Spoke)] == [(CHLOE, Phase.LAST_WORDS)]
    assert (game.phase, awaited(game)) == (Phase.HUNTER, [CHLOE])
    opened = of_type(events, PhaseStarted)[-1]
    assert opened.phase is Phase.HUNTER
    assert opened.audience.player == CHLOE

    events = run_phase(game, Phase.HUNTER, {CHLOE: Shoot(ALICE)})
    assert deaths(events) == [("Alice", "hunter")]
    assert [n.day for n in of_type(events, NightFell)] == [2]
    assert (game.day, game.phase, awaited(game)) == (2, Phase.NIGHT, [BRUNO])
    check_observations(game)


def test_hunter_killed_at_night_shoots_the_last_wolf() -> None:
    game = make_game({ALICE: W, BRUNO: Role.HUNTER, CHLOE: V, DAMIEN: V}, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    assert (game.phase, awaited(game)) == (Phase.HUNTER, [BRUNO])
    events = run_phase(game, Phase.HUNTER, {BRUNO: Shoot(ALICE)})
    assert deaths(events) == [("Alice", "hunter")]
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination, outcome.day) == (
        Team.VILLAGE,
        Termination.WOLVES_ELIMINATED,
        1,
    )


def test_hunter_may_hold_his_fire() -> None:
    game = make_game({ALICE: W, BRUNO: Role.HUNTER, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    events = run_phase(game, Phase.HUNTER)
    assert not of_type(events, HunterShot)
    assert deaths(events) == []
    assert game.phase is Phase.VOTE


def test_hunter_shot_by_a_hunter_shoots_in_turn() -> None:
    roles = {ALICE: W, BRUNO: W, CHLOE: Role.HUNTER, DAMIEN: Role.HUNTER, ELISE: V, FABIEN: V, GAELLE: V}
    game = make_game(roles, **QUIET)
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE), BRUNO: Kill(CHLOE)})
    run_phase(game, Phase.HUNTER, {CHLOE: Shoot(DAMIEN)})
    assert (game.phase, awaited(game)) == (Phase.HUNTER, [DAMIEN])
    events = run_phase(game, Phase.HUNTER, {DAMIEN: Shoot(ALICE)})
    assert deaths(events) == [("Alice", "hunter")]
    assert game.alive_players == (BRUNO, ELISE, FABIEN, GAELLE)
    assert game.phase is Phase.VOTE


def test_hunter_gets_no_shot_when_his_death_ends_the_game() -> None:
    # engine Rule 4: the game ends at the death that decides it, before any later phase opens.
    game = make_game({ALICE: W, BRUNO: Role.HUNTER, CHLOE: V}, **QUIET)
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(BRUNO)})
    assert not any(isinstance(e, PhaseStarted) and e.phase is Phase.HUNTER for e in events)
    outcome = game.outcome()
    assert outcome is not None
    assert outcome.winner is Team.WOLVES


# --------------------------------------------------------------------------------- medium, possessed


def test_medium_learns_whether_the_executed_player_was_a_wolf() -> None:
    roles = {ALICE: W, BRUNO: W, CHLOE: Role.MEDIUM, DAMIEN: V, ELISE: V, FABIEN: V, GAELLE: V}
    game = make_game(roles, **QUIET)
    assert awaited(game) == [ALICE, BRUNO]  # the medium has no night action
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {DAMIEN: Vote(ELISE)}, others=Vote(DAMIEN))
    learned = of_type(game.observe(CHLOE).events, MediumLearned)
    assert [(m.day, m.target, m.is_wolf) for m in learned] == [(2, DAMIEN, False)]
    assert not any(of_type(game.observe(p).events, MediumLearned) for p in (ALICE, ELISE))

    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {ALICE: Vote(ELISE)}, others=Vote(ALICE))
    learned = of_type(game.observe(CHLOE).events, MediumLearned)
    assert [(m.day, m.target, m.is_wolf) for m in learned] == [(2, DAMIEN, False), (3, ALICE, True)]

    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE)  # nobody executed: nothing to learn the next night
    assert len(of_type(game.observe(CHLOE).events, MediumLearned)) == 2
    check_observations(game)


def test_possessed_counts_as_human_but_wins_with_the_wolves() -> None:
    game = make_game({ALICE: W, BRUNO: Role.POSSESSED, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    assert awaited(game) == [ALICE]
    run_phase(game, Phase.NIGHT, {ALICE: Kill(CHLOE)})
    run_phase(game, Phase.VOTE, {ALICE: Vote(DAMIEN), BRUNO: Vote(DAMIEN)})
    assert game.alive_players == (ALICE, BRUNO, ELISE)
    assert game.outcome() is None  # one wolf against two humans: the possessed is not a wolf
    events = run_phase(game, Phase.NIGHT, {ALICE: Kill(ELISE)})
    assert deaths(events) == [("Elise", "night")]
    outcome = game.outcome()
    assert outcome is not None
    assert (outcome.winner, outcome.termination) == (Team.WOLVES, Termination.WOLF_PARITY)
    assert game.observe(BRUNO).team is Team.WOLVES


def test_possessed_loses_with_the_wolves() -> None:
    game = make_game({ALICE: W, BRUNO: Role.POSSESSED, CHLOE: V, DAMIEN: V, ELISE: V}, **QUIET)
    run_phase(game, Phase.NIGHT)
    run_phase(game, Phase.VOTE, {ALICE: Vote(BRUNO)}, others=Vote(ALICE))
    outcome = game.outcome()
    assert outcome is not None
    assert outcome.winner is Team.VILLAGE
    assert game.observe(BRUNO).team is not outcome.winner


def test_abstain_is_always_on_the_menu() -> None:
    game = make_game({ALICE: W, BRUNO: V, CHLOE: V, DAMIEN: V}, **QUIET)
    game.apply(ALICE, Abstain())
    assert game.phase is Phase.VOTE
    assert all(game.legal_actions(p)[-1] == ABSTAIN for p in game.players)
