"""What one player may know, and the rule that decides who sees an event.

`may_see` is the audience rule. `Game` applies it once per event, when the event is emitted, routing
it to the players allowed to see it; `Game.observe` then joins those events with the player's own
secrets (role, fellow wolves, potions) into an `Observation`. Nothing else builds a player's view.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.events import Audience, Event, Scope
from engine.ids import Phase, PlayerId, Role, Team


@dataclass(slots=True, kw_only=True)
class Observation:
    """A player's view of the game at one moment.

    Attributes:
        player: whose view this is.
        role: his role; team: the side it wins with.
        alive: whether he is alive.
        day: the current day (night N precedes day N).
        phase: the current phase; phase_id: its unique, opaque id.
        players: everyone, in seat order; alive_players: the living, in seat order.
        wolves: the werewolves, if he is one (himself included); empty otherwise.
        heal_left / poison_left: the witch's potions (False for other roles).
        events: every event he may see, in order.
    """

    player: PlayerId
    role: Role
    team: Team
    alive: bool
    day: int
    phase: Phase
    phase_id: int
    players: tuple[PlayerId, ...]
    alive_players: tuple[PlayerId, ...]
    wolves: tuple[PlayerId, ...]
    heal_left: bool
    poison_left: bool
    events: tuple[Event, ...]


def may_see(audience: Audience, player: PlayerId, *, is_wolf: bool) -> bool:
    """Whether `player` (a werewolf or not) may see an event addressed to `audience`."""
    scope = audience.scope
    if scope is Scope.PUBLIC:
        return True
    if scope is Scope.WOLVES:
        return is_wolf
    if scope is Scope.PLAYER:
        return audience.player == player
    return False
