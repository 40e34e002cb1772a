"""The hunter, in one place: when he dies, by any cause, he may shoot one living player.

Every death site (dawn, an execution, a hunter's own shot) calls `after_deaths`, which queues a HUNTER
phase for each hunter among the dead, in order; the shot kills, is checked for a win, and may itself
kill a hunter, whose shot is queued next. The table entry is `engine.phases.PHASES[Phase.HUNTER]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.actions import Action, ActionKind, Choice, Shoot, targeted_menu
from engine.events import PUBLIC, DeathCause, HunterShot
from engine.roles import ROLE_SPECS
from engine.state import GameState, Opening
from engine.vocabulary import Phase, PlayerId

if TYPE_CHECKING:
    from engine.effects import Effects


def after_deaths(s: GameState, fx: Effects, dead: tuple[PlayerId, ...]) -> None:
    """Queue, first on the agenda, a shot for every hunter among `dead`."""
    fx.schedule(*((Phase.HUNTER, p) for p in dead if ROLE_SPECS[s.roles[p]].shoots_on_death))


def _targets(s: GameState, hunter: PlayerId) -> tuple[PlayerId, ...]:
    return tuple(p for p in s.alive_players if p != hunter)


def open_shot(s: GameState, fx: Effects, hunter: PlayerId) -> Opening | None:
    """The dead hunter's turn (only he sees it open), if anyone is left to shoot."""
    return Opening([hunter], hunter) if _targets(s, hunter) else None


def menu(s: GameState, hunter: PlayerId) -> tuple[Choice, ...]:
    """Shoot any living player, or not."""
    return targeted_menu(ActionKind.SHOOT, _targets(s, hunter))


def resolve_shot(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """The shot is public; its victim dies (the game may end there) and, if a hunter, shoots next."""
    for shooter, action in submitted.items():
        if isinstance(action, Shoot):
            fx.emit(HunterShot(audience=PUBLIC, day=s.day, hunter=shooter, target=action.target))
            fx.kill(action.target, DeathCause.HUNTER)
            if fx.check_win():
                return
            after_deaths(s, fx, (action.target,))
