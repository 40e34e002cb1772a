"""What one player may know: the single place where a player's view is built.

`build_observation` folds the events that player was allowed to see (already routed to him by the
game when each event was emitted) together with his own secrets (role, fellow wolves, potions).
Nothing else in the engine builds a player's view.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.events import Audience, Event, Scope
from engine.ids import Phase, PlayerId, Role, Team


@dataclass(frozen=True, slots=True, kw_only=True)
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


def build_observation(
    *,
    player: PlayerId,
    role: Role,
    team: Team,
    alive: bool,
    day: int,
    phase: Phase,
    phase_id: int,
    players: tuple[PlayerId, ...],
    alive_players: tuple[PlayerId, ...],
    wolves: tuple[PlayerId, ...],
    potions: tuple[bool, bool],
    visible: list[Event],
) -> Observation:
    """Assemble a player's observation from his secrets and the events routed to him.

    `visible` must hold exactly the events `may_see` allows him, which `Game` guarantees by routing
    each event once when it is emitted; `wolves` must be empty unless he is a werewolf.
    """
    return Observation(
        player=player,
        role=role,
        team=team,
        alive=alive,
        day=day,
        phase=phase,
        phase_id=phase_id,
        players=players,
        alive_players=alive_players,
        wolves=wolves,
        heal_left=potions[0],
        poison_left=potions[1],
        events=tuple(visible),
    )
