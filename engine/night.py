"""The night: its steps, who may target whom, and how its actions resolve (fixed order, seat order).

Resolution order (docs/rules.md, "The night"): protections, then the wolves' victim (most kill
votes; a tie is drawn from the seed), then the seer's inspections; then the witch wakes, told the
victim, and heals or poisons; at dawn the victim dies unless protected or healed, and the poisoned
die. Deaths at dawn are simultaneous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.actions import Action, ActionKind, Choice, Heal, Inspect, Kill, Poison, Protect
from engine.agenda import Step
from engine.events import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    DayBroke,
    DeathCause,
    MediumLearned,
    NightFell,
    NightResolved,
    SeerLearned,
    WitchWoke,
    WolvesChose,
    to_player,
)
from engine.outcome import Termination
from engine.roles import ROLE_SPECS
from engine.vocabulary import Phase, PlayerId
from engine.voting import leaders, tally

if TYPE_CHECKING:
    from engine.game import Game


@dataclass(slots=True)
class NightState:
    """What tonight's actions have decided so far."""

    victim: PlayerId | None = None
    protected: list[PlayerId] = field(default_factory=list)
    healed: PlayerId | None = None
    poisoned: list[PlayerId] = field(default_factory=list)

    def frozen(self) -> tuple[object, ...]:
        """A comparable copy (for `Game.snapshot`)."""
        return (self.victim, tuple(self.protected), self.healed, tuple(self.poisoned))


def _kill_targets(game: Game, player: PlayerId) -> tuple[PlayerId, ...]:
    return tuple(p for p in game.alive_players if not ROLE_SPECS[game.role_of(p)].is_wolf)


def _inspect_targets(game: Game, player: PlayerId) -> tuple[PlayerId, ...]:
    return tuple(p for p in game.alive_players if p != player)


def _protect_targets(game: Game, player: PlayerId) -> tuple[PlayerId, ...]:
    rules = game.rules
    last = None if rules.doctor_repeat_protect else game._last_protected.get(player)
    return tuple(
        p
        for p in game.alive_players
        if (p != player or rules.doctor_self_protect) and (last is None or p != last)
    )


#: Who a night power may be used on; a new kind of power adds a line here and a resolution step below.
NIGHT_TARGETS: dict[ActionKind, Callable[[Game, PlayerId], tuple[PlayerId, ...]]] = {
    ActionKind.KILL: _kill_targets,
    ActionKind.INSPECT: _inspect_targets,
    ActionKind.PROTECT: _protect_targets,
}


def menu(game: Game, phase: Phase, player: PlayerId) -> tuple[Choice, ...]:
    """The non-abstain choices of `player` in a night phase."""
    if phase is Phase.NIGHT:
        kind = ROLE_SPECS[game.role_of(player)].night_action
        if kind is None:
            return ()
        targets = NIGHT_TARGETS[kind](game, player)
        return (Choice(kind, targets),) if targets else ()
    # Phase.WITCH
    heal_left, poison_left = game._potions[player]
    victim = game._night.victim
    choices: list[Choice] = []
    if heal_left and victim is not None and (victim != player or game.rules.witch_self_save):
        choices.append(Choice(ActionKind.HEAL, (victim,)))
    if poison_left:
        targets = tuple(p for p in game.alive_players if p != player)
        if targets:
            choices.append(Choice(ActionKind.POISON, targets))
    return tuple(choices)


def resolve_night(game: Game, submitted: dict[PlayerId, Action]) -> None:
    """Resolve the simultaneous night phase: protections, the wolves' victim, inspections."""
    state = game._night
    ordered = [(p, submitted[p]) for p in game.players if p in submitted]
    for p, action in ordered:
        if isinstance(action, Protect):
            state.protected.append(action.target)
        if ROLE_SPECS[game.role_of(p)].night_action is ActionKind.PROTECT:
            game._last_protected[p] = action.target if isinstance(action, Protect) else None
    kill_votes = tuple(
        (p, a.target if isinstance(a, Kill) else None)
        for p, a in ordered
        if ROLE_SPECS[game.role_of(p)].night_action is ActionKind.KILL
    )
    if kill_votes:
        top = leaders(tally(kill_votes, game._seat))
        state.victim = game._draw(top) if top else None
        game._emit(WolvesChose(audience=WOLVES, day=game.day, votes=kill_votes, victim=state.victim))
    for p, action in ordered:
        if isinstance(action, Inspect):
            is_wolf = ROLE_SPECS[game.role_of(action.target)].seen_as_wolf
            game._emit(
                SeerLearned(
                    audience=to_player(p), day=game.day, seer=p, target=action.target, is_wolf=is_wolf
                )
            )


def wake_witches(game: Game, witches: list[PlayerId]) -> None:
    """Tell each waking witch the wolves' victim and her potions."""
    for w in witches:
        heal_left, poison_left = game._potions[w]
        game._emit(
            WitchWoke(
                audience=to_player(w),
                day=game.day,
                witch=w,
                victim=game._night.victim,
                heal_left=heal_left,
                poison_left=poison_left,
            )
        )


def resolve_witch(game: Game, submitted: dict[PlayerId, Action]) -> None:
    """Spend the potions the witches chose."""
    state = game._night
    for p in game.players:
        action = submitted.get(p)
        if isinstance(action, Heal):
            game._potions[p][0] = False
            state.healed = action.target
        elif isinstance(action, Poison):
            game._potions[p][1] = False
            if action.target not in state.poisoned:
                state.poisoned.append(action.target)


def dawn_deaths(game: Game) -> tuple[PlayerId, ...]:
    """Who dies at dawn, in seat order; also records the night's full story for the game master."""
    state = game._night
    dying = set(state.poisoned)
    victim = state.victim
    if victim is not None and victim not in state.protected and victim != state.healed:
        dying.add(victim)
    deaths = tuple(p for p in game.players if p in dying)
    game._emit(
        NightResolved(
            audience=GAME_MASTER,
            day=game.day,
            victim=victim,
            protected=tuple(state.protected),
            healed=state.healed,
            poisoned=tuple(state.poisoned),
            deaths=deaths,
        )
    )
    return deaths


# ---------------------------------------------------------------------- night steps (agenda)


def step_night(game: Game, _: object) -> None:
    if game._day >= game.rules.max_days:
        game._end(None, Termination.MAX_DAYS, f"no winner after {game.rules.max_days} days")
        return
    game._day += 1
    game._night = NightState()
    game._emit(NightFell(audience=PUBLIC, day=game._day))
    executed, game._executed_today = game._executed_today, None
    if executed is not None:
        for p in game._alive_players:
            if ROLE_SPECS[game._roles[p]].learns_executed:
                is_wolf = ROLE_SPECS[game._roles[executed]].seen_as_wolf
                game._emit(
                    MediumLearned(
                        audience=to_player(p), day=game._day, medium=p, target=executed, is_wolf=is_wolf
                    )
                )
    steps: list[tuple[Step, Any]] = []
    wolves = tuple(p for p in game._wolves if game._alive[p])
    if game.rules.wolf_chat and len(wolves) >= 2:  # noqa: PLR2004 - a chat needs two
        order = game._shuffled(wolves)
        steps += [(Step.WOLF_TURN, p) for _ in range(game.rules.wolf_chat_rounds) for p in order]
    steps += [(Step.NIGHT_ACTIONS, None), (Step.WITCH, None), (Step.DAWN, None), (Step.DAY, None)]
    game._push_front(*steps)


def step_wolf_turn(game: Game, wolf: PlayerId) -> None:
    if game._alive[wolf]:
        game._open(Phase.WOLF_CHAT, [wolf], WOLVES, speaker=wolf)


def step_night_actions(game: Game, _: object) -> None:
    acting = [p for p in game._alive_players if ROLE_SPECS[game._roles[p]].night_action is not None]
    game._open(Phase.NIGHT, acting, PUBLIC)


def step_witch(game: Game, _: object) -> None:
    witches = [p for p in game._alive_players if any(game._potions.get(p, ()))]
    if witches:
        wake_witches(game, witches)
        game._open(Phase.WITCH, witches, GAME_MASTER)


def step_dawn(game: Game, _: object) -> None:
    deaths = dawn_deaths(game)
    game._emit(DayBroke(audience=PUBLIC, day=game._day, deaths=deaths))
    for p in deaths:
        game._kill(p, DeathCause.NIGHT)
    if deaths and game._check_win():
        return
    game._push_front(*hunter_steps(game, deaths))


def hunter_steps(game: Game, dead: tuple[PlayerId, ...]) -> list[tuple[Step, Any]]:
    return [(Step.HUNTER, p) for p in dead if ROLE_SPECS[game._roles[p]].shoots_on_death]


def step_hunter(game: Game, hunter: PlayerId) -> None:
    if game._others_alive(hunter):
        game._open(Phase.HUNTER, [hunter], to_player(hunter), speaker=hunter)
