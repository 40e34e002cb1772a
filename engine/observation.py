"""What one player may know, and the rule that decides who sees an event.

`may_see` is the audience rule. `Routing` applies it once per event, when the game emits it, appending
the event to the log and to every view allowed to see it (each player's, the public one); `Game.observe`
then joins a player's events with his own secrets (role, fellow wolves, potions) into an `Observation`,
and the game master's fan-out reads each view's new events from a cursor. Nothing else builds a view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.events import Audience, Event, Scope
from engine.vocabulary import Phase, PlayerId, Role, Team


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


class Routing:
    """Every event of one game, routed once to each view that may see it (`may_see`, inlined for speed).

    Attributes:
        log: every event, in order (the game master's, full view).
        public: the public events, in order (a spectator's view).
        seen: per player, the events he may see, in order (his observation's events).
    """

    __slots__ = ("_public_appends", "_wolf_views", "log", "public", "seen")

    def __init__(self, players: tuple[PlayerId, ...], wolves: tuple[PlayerId, ...]) -> None:
        """Empty views for `players`, of whom `wolves` see the wolves' events."""
        self.log: list[Event] = []
        self.public: list[Event] = []
        self.seen: dict[PlayerId, list[Event]] = {p: [] for p in players}
        self._wolf_views = tuple(self.seen[p] for p in wolves)
        # Bound appends, built once: a public event (the common case) costs one loop and no lookups.
        self._public_appends: tuple[Callable[[Event], None], ...] = (
            self.log.append,
            self.public.append,
            *(view.append for view in self.seen.values()),
        )

    def route(self, event: Event) -> None:
        """Append `event` to the log and to every view its audience allows."""
        scope = event.audience.scope
        if scope is Scope.PUBLIC:
            for append in self._public_appends:
                append(event)
            return
        self.log.append(event)
        if scope is Scope.WOLVES:
            for view in self._wolf_views:
                view.append(event)
        elif scope is Scope.PLAYER:
            self.seen[event.audience.player].append(event)  # type: ignore[index]  # set for PLAYER
