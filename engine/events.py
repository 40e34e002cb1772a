"""Events the engine emits. Every event carries its audience: who is allowed to see it.

Audiences: everyone (`PUBLIC`), the werewolves (`WOLVES`), one player (`to_player(p)`), or the game
master only (`GAME_MASTER`). `engine.observation` is the one place that turns these into a player's view.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from engine.actions import Action, action_to_dict
from engine.vocabulary import Phase, PlayerId, Role, Team


class Scope(StrEnum):
    """The kind of audience an event has."""

    PUBLIC = "public"
    WOLVES = "wolves"
    PLAYER = "player"
    GAME_MASTER = "game_master"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see an event; `player` is set only for `Scope.PLAYER`."""

    scope: Scope
    player: PlayerId | None = None

    def __str__(self) -> str:
        return f"player:{self.player}" if self.scope is Scope.PLAYER else self.scope.value


PUBLIC = Audience(Scope.PUBLIC)
WOLVES = Audience(Scope.WOLVES)
GAME_MASTER = Audience(Scope.GAME_MASTER)


@functools.lru_cache(maxsize=4096)
def to_player(player: PlayerId) -> Audience:
    """The audience made of one player (one shared value per name: it is built for many events)."""
    return Audience(Scope.PLAYER, player)


class DeathCause(StrEnum):
    """How a death is announced. Night deaths do not say whether wolves or poison caused them."""

    NIGHT = "night"
    EXECUTION = "execution"
    HUNTER = "hunter"


@dataclass(slots=True)
class Event:
    """Base of every event: its audience and the day it happened on (night N precedes day N)."""

    type: ClassVar[str] = "event"
    audience: Audience
    day: int


@dataclass(slots=True)
class GameStarted(Event):
    """The table: players in seat order and the roles in play (public knowledge)."""

    type: ClassVar[str] = "game_started"
    players: tuple[PlayerId, ...]
    roles: tuple[tuple[Role, int], ...]


@dataclass(slots=True)
class RoleAssigned(Event):
    """A player learns his role (audience: that player)."""

    type: ClassVar[str] = "role_assigned"
    player: PlayerId
    role: Role


@dataclass(slots=True)
class WolvesMet(Event):
    """The werewolves learn who the werewolves are (audience: wolves)."""

    type: ClassVar[str] = "wolves_met"
    wolves: tuple[PlayerId, ...]


@dataclass(slots=True)
class NightFell(Event):
    """Night `day` begins."""

    type: ClassVar[str] = "night_fell"


@dataclass(slots=True)
class DayBroke(Event):
    """Day `day` begins; `deaths` lists who died in the night, in seat order."""

    type: ClassVar[str] = "day_broke"
    deaths: tuple[PlayerId, ...]


@dataclass(slots=True)
class PhaseStarted(Event):
    """A phase opened. `speaker` is set for turn phases; `candidates` for a revote."""

    type: ClassVar[str] = "phase_started"
    phase: Phase
    phase_id: int
    speaker: PlayerId | None = None
    candidates: tuple[PlayerId, ...] = ()


@dataclass(slots=True)
class Spoke(Event):
    """Someone spoke: in the day discussion, the wolves' chat (audience: wolves) or last words."""

    type: ClassVar[str] = "spoke"
    player: PlayerId
    phase: Phase
    text: str


@dataclass(slots=True)
class ActionRecorded(Event):
    """Acknowledges a player's action in a simultaneous phase (audience: that player)."""

    type: ClassVar[str] = "action_recorded"
    player: PlayerId
    action: Action


@dataclass(slots=True)
class BidsRevealed(Event):
    """The bids for a speaking turn and who won it (bidding discussion)."""

    type: ClassVar[str] = "bids_revealed"
    bids: tuple[tuple[PlayerId, int], ...]
    speaker: PlayerId


@dataclass(slots=True)
class VotesRevealed(Event):
    """Everyone's day vote, revealed together once all are in. `target` None means abstained."""

    type: ClassVar[str] = "votes_revealed"
    round: int
    votes: tuple[tuple[PlayerId, PlayerId | None], ...]
    tally: tuple[tuple[PlayerId, int], ...]


@dataclass(slots=True)
class NoExecution(Event):
    """The day vote executed nobody, and why."""

    type: ClassVar[str] = "no_execution"
    reason: str


@dataclass(slots=True)
class PlayerDied(Event):
    """A death, with what the rules reveal (`role`/`team` None when not revealed)."""

    type: ClassVar[str] = "player_died"
    player: PlayerId
    cause: DeathCause
    role: Role | None = None
    team: Team | None = None


@dataclass(slots=True)
class WolvesChose(Event):
    """The pack's kill votes and the resulting victim (audience: wolves)."""

    type: ClassVar[str] = "wolves_chose"
    votes: tuple[tuple[PlayerId, PlayerId | None], ...]
    victim: PlayerId | None


@dataclass(slots=True)
class SeerLearned(Event):
    """The seer's result (audience: the seer)."""

    type: ClassVar[str] = "seer_learned"
    seer: PlayerId
    target: PlayerId
    is_wolf: bool


@dataclass(slots=True)
class MediumLearned(Event):
    """The medium's result about the last executed player (audience: the medium)."""

    type: ClassVar[str] = "medium_learned"
    medium: PlayerId
    target: PlayerId
    is_wolf: bool


@dataclass(slots=True)
class WitchWoke(Event):
    """The witch is told the wolves' victim and her potions (audience: the witch)."""

    type: ClassVar[str] = "witch_woke"
    witch: PlayerId
    victim: PlayerId | None
    heal_left: bool
    poison_left: bool


@dataclass(slots=True)
class NightResolved(Event):
    """What really happened in the night (audience: game master)."""

    type: ClassVar[str] = "night_resolved"
    victim: PlayerId | None
    protected: tuple[PlayerId, ...]
    healed: PlayerId | None
    poisoned: tuple[PlayerId, ...]
    deaths: tuple[PlayerId, ...]


@dataclass(slots=True)
class HunterShot(Event):
    """A dying hunter shot someone."""

    type: ClassVar[str] = "hunter_shot"
    hunter: PlayerId
    target: PlayerId


@dataclass(slots=True)
class PlayerFaulted(Event):
    """A player missed a deadline or misbehaved; the default action applied (audience: that player)."""

    type: ClassVar[str] = "player_faulted"
    player: PlayerId
    phase: Phase
    phase_id: int
    reason: str


@dataclass(slots=True)
class Reasoned(Event):
    """A player's private reasoning, as his agent reported it (audience: game master, i.e. full view)."""

    type: ClassVar[str] = "reasoned"
    player: PlayerId
    phase: Phase
    phase_id: int
    text: str


@dataclass(slots=True)
class GameEnded(Event):
    """The outcome and every role."""

    type: ClassVar[str] = "game_ended"
    winner: Team | None
    termination: str
    reason: str
    roles: tuple[tuple[PlayerId, Role], ...]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        GameStarted,
        RoleAssigned,
        WolvesMet,
        NightFell,
        DayBroke,
        PhaseStarted,
        Spoke,
        ActionRecorded,
        BidsRevealed,
        VotesRevealed,
        NoExecution,
        PlayerDied,
        WolvesChose,
        SeerLearned,
        MediumLearned,
        WitchWoke,
        NightResolved,
        HunterShot,
        PlayerFaulted,
        Reasoned,
        GameEnded,
    )
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """Serialise an event to plain JSON values: `{"type": ..., "audience": "public", ...}`."""
    out: dict[str, Any] = {"type": event.type, "audience": str(event.audience)}
    for name in _field_names(type(event)):
        out[name] = _plain(getattr(event, name))
    return out


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    # dataclasses.fields() rebuilds its tuple at each call: it was half of a record's time.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "audience")
    return names


_SCALARS = frozenset({str, int, float, bool, type(None)})  # as they are (enums are str subclasses: not here)


def _plain(value: object) -> object:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return action_to_dict(value)  # type: ignore[arg-type]  # only actions are nested dataclasses
    return value
