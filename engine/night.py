"""The night: nightfall, the wolves' chat, the simultaneous night phase, the witch, dawn.

Resolution order (docs/rules.md, "The night"): protections, then the wolves' victim (most kill
votes; a tie is drawn from the seed), then the seer's inspections; then the witch wakes, told the
victim, and heals or poisons; at dawn the victim dies unless protected or healed, and the poisoned
die. Deaths at dawn are simultaneous. Written against `GameState` and `Effects` (engine.effects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import hunter
from engine.actions import (
    ABSTAIN_CHOICE,
    Action,
    ActionKind,
    Choice,
    Heal,
    Inspect,
    Kill,
    Poison,
    Protect,
    targeted_menu,
)
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
from engine.state import AgendaEntry, GameState, NightState, Opening, draw, shuffled
from engine.vocabulary import Phase, PlayerId
from engine.voting import leaders, tally

if TYPE_CHECKING:
    from engine.effects import Effects


# ---------------------------------------------------------------------- who a night power may target


def _kill_targets(s: GameState, player: PlayerId) -> tuple[PlayerId, ...]:
    wolves = s.wolves
    return tuple(p for p in s.alive_players if p not in wolves)


def _inspect_targets(s: GameState, player: PlayerId) -> tuple[PlayerId, ...]:
    return tuple(p for p in s.alive_players if p != player)


def _protect_targets(s: GameState, player: PlayerId) -> tuple[PlayerId, ...]:
    rules = s.rules
    last = None if rules.doctor_repeat_protect else s.last_protected.get(player)
    return tuple(
        p
        for p in s.alive_players
        if (p != player or rules.doctor_self_protect) and (last is None or p != last)
    )


# Read as plain globals in the night's loops: `ActionKind.KILL` costs ~0.07 µs a read in CPython 3.11.
_KILL, _PROTECT = ActionKind.KILL, ActionKind.PROTECT

#: Who a night power may be used on; a new kind of power adds a line here and a step in `resolve_night`.
NIGHT_TARGETS: dict[ActionKind, Callable[[GameState, PlayerId], tuple[PlayerId, ...]]] = {
    ActionKind.KILL: _kill_targets,
    ActionKind.INSPECT: _inspect_targets,
    ActionKind.PROTECT: _protect_targets,
}


# ---------------------------------------------------------------------- nightfall (instant step)


def nightfall(s: GameState, fx: Effects, _: object) -> None:
    """Night falls (or the day limit ends the game); the medium learns; the night's entries are queued."""
    if s.day >= s.rules.max_days:
        fx.end(None, Termination.MAX_DAYS, f"no winner after {s.rules.max_days} days")
        return
    s.day += 1
    s.night = NightState()
    fx.emit(NightFell(PUBLIC, s.day))
    executed, s.executed_today = s.executed_today, None
    if executed is not None:
        for p in s.alive_players:
            if ROLE_SPECS[s.roles[p]].learns_executed:
                is_wolf = ROLE_SPECS[s.roles[executed]].seen_as_wolf
                fx.emit(
                    MediumLearned(
                        audience=to_player(p), day=s.day, medium=p, target=executed, is_wolf=is_wolf
                    )
                )
    entries: list[AgendaEntry] = []
    wolves = tuple(p for p in s.wolves if s.alive[p])
    if s.rules.wolf_chat and len(wolves) >= 2:  # noqa: PLR2004 - a chat needs two
        order = shuffled(s, wolves)
        if s.rules.wolf_chat_rounds:
            entries.append((Phase.WOLF_CHAT, tuple(order) * s.rules.wolf_chat_rounds))
    entries += [(Phase.NIGHT, None), (Phase.WITCH, None), (Step.DAWN, None), (Step.DAY, None)]
    fx.schedule(*entries)


# ---------------------------------------------------------------------- the simultaneous night phase


def open_night(s: GameState, fx: Effects, _: object) -> Opening:
    """Everyone with a night power acts (always opens, even for nobody: its PhaseStarted is public)."""
    # After a day 0 (`day_zero`), the first night is AIWolf's night 0: nobody is attacked or guarded.
    quiet = (ActionKind.KILL, ActionKind.PROTECT) if s.rules.day_zero and s.day == 1 else ()
    acting = [
        p
        for p in s.alive_players
        if (kind := ROLE_SPECS[s.roles[p]].night_action) is not None and kind not in quiet
    ]
    return Opening(acting)


def night_menu(s: GameState, player: PlayerId) -> tuple[Choice, ...]:
    """The player's power on whom it may be used (if anyone), or abstain."""
    kind = ROLE_SPECS[s.roles[player]].night_action
    if kind is None:
        return (ABSTAIN_CHOICE,)
    targets = NIGHT_TARGETS[kind](s, player)
    return targeted_menu(kind, targets) if targets else (ABSTAIN_CHOICE,)


def resolve_night(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """Protections, the wolves' victim, inspections, in seat order."""
    night = s.night
    ordered = [(p, submitted[p]) for p in s.players if p in submitted]
    for p, action in ordered:
        if isinstance(action, Protect):
            night.protected.append(action.target)
        if ROLE_SPECS[s.roles[p]].night_action is _PROTECT:
            s.last_protected[p] = action.target if isinstance(action, Protect) else None
    kill_votes = tuple(
        (p, a.target if isinstance(a, Kill) else None)
        for p, a in ordered
        if ROLE_SPECS[s.roles[p]].night_action is _KILL
    )
    if kill_votes:
        top = leaders(tally(kill_votes, s.seat))
        night.victim = draw(s, top) if top else None
        fx.emit(WolvesChose(WOLVES, s.day, kill_votes, night.victim))
    for p, action in ordered:
        if isinstance(action, Inspect):
            is_wolf = ROLE_SPECS[s.roles[action.target]].seen_as_wolf
            fx.emit(SeerLearned(to_player(p), s.day, p, action.target, is_wolf))


# ---------------------------------------------------------------------- the witch


def open_witch(s: GameState, fx: Effects, _: object) -> Opening | None:
    """Every living witch with a potion left wakes, told the wolves' victim and her potions."""
    witches = [p for p in s.alive_players if any(s.potions.get(p, ()))]
    if not witches:
        return None
    for w in witches:
        heal_left, poison_left = s.potions[w]
        fx.emit(
            WitchWoke(
                audience=to_player(w),
                day=s.day,
                witch=w,
                victim=s.night.victim,
                heal_left=heal_left,
                poison_left=poison_left,
            )
        )
    return Opening(witches)


def witch_menu(s: GameState, player: PlayerId) -> tuple[Choice, ...]:
    """Heal the victim (if the potion is left, and herself only if the rules allow), poison, or pass."""
    heal_left, poison_left = s.potions[player]
    victim = s.night.victim
    choices: list[Choice] = []
    if heal_left and victim is not None and (victim != player or s.rules.witch_self_save):
        choices.append(Choice(ActionKind.HEAL, (victim,)))
    if poison_left:
        targets = tuple(p for p in s.alive_players if p != player)
        if targets:
            choices.append(Choice(ActionKind.POISON, targets))
    return (*choices, ABSTAIN_CHOICE)


def resolve_witch(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """Spend the potions the witches chose."""
    night = s.night
    for p in s.players:
        action = submitted.get(p)
        if isinstance(action, Heal):
            s.potions[p][0] = False
            night.healed = action.target
        elif isinstance(action, Poison):
            s.potions[p][1] = False
            if action.target not in night.poisoned:
                night.poisoned.append(action.target)


# ---------------------------------------------------------------------- dawn (instant step)


def dawn(s: GameState, fx: Effects, _: object) -> None:
    """The night's deaths, together: the full story to the game master, then the day breaks."""
    night = s.night
    dying = set(night.poisoned)
    victim = night.victim
    if victim is not None and victim not in night.protected and victim != night.healed:
        dying.add(victim)
    deaths = tuple(p for p in s.players if p in dying)
    # Positional, in field order (victim, protected, healed, poisoned, deaths): cheaper than keywords.
    fx.emit(
        NightResolved(
            GAME_MASTER, s.day, victim, tuple(night.protected), night.healed, tuple(night.poisoned), deaths
        )
    )
    fx.emit(DayBroke(PUBLIC, s.day, deaths))
    for p in deaths:
        fx.kill(p, DeathCause.NIGHT)
    if deaths and fx.check_win():
        return
    hunter.after_deaths(s, fx, deaths)
