"""Messages between actors: frozen, slotted dataclasses, never parsed from untrusted input.

Commands are imperative (`RequestAction`, `SubmitAction`, `Subscribe`), events are past tense
(`ActionRejected`, `AgentFailed`, `DeadlineReached`, `GameFinished`). Every message that can go stale
carries the `game_id` and the `phase_id` it is about, so late timers and late answers are recognised
and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from engine import Action, Choice, Event, Observation, Outcome, PlayerId


class Recipient(Protocol):
    """Anything that accepts messages without blocking: a pykka `ActorRef`, or a test double."""

    def tell(self, message: Any) -> None:
        """Queue `message` for the recipient; must not block."""
        ...


class ViewKind(StrEnum):
    """Which slice of the event stream a subscriber gets."""

    #: What one player may see (his audience): players and remote agents.
    PLAYER = "player"
    #: What everyone may see: spectators.
    PUBLIC = "public"
    #: Everything, secrets included: the game master's log and admin spectators.
    FULL = "full"


@dataclass(frozen=True, slots=True)
class View:
    """A subscriber's view: a kind, plus the player for `ViewKind.PLAYER`."""

    kind: ViewKind
    player: PlayerId | None = None

    def __str__(self) -> str:
        return f"player:{self.player}" if self.kind is ViewKind.PLAYER else self.kind.value


PUBLIC_VIEW = View(ViewKind.PUBLIC)
FULL_VIEW = View(ViewKind.FULL)


def player_view(player: PlayerId) -> View:
    """The view of one player."""
    return View(ViewKind.PLAYER, player)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestAction:
    """Game master -> seat: act in phase `phase_id` before `deadline` (scheduler clock, seconds).

    Attributes:
        observation: everything the player may know now.
        choices: his menu (abstain is always on it).
        reply_to: where to send `SubmitAction` (or `AgentFailed`).
    """

    game_id: str
    phase_id: int
    player: PlayerId
    observation: Observation
    choices: tuple[Choice, ...]
    deadline: float
    reply_to: Recipient


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitAction:
    """Seat -> game master: the answer to `RequestAction(phase_id)`; `thought_s` is how long it took."""

    game_id: str
    phase_id: int
    player: PlayerId
    action: Action
    thought_s: float = 0.0
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRejected:
    """Game master -> seat: that answer was not applied (`reason`).

    `retry` is True when the answer was illegal: the phase is still open for this seat until its
    deadline. A late, duplicate or given-up answer is refused with `retry` False.
    """

    game_id: str
    phase_id: int
    player: PlayerId
    reason: str
    retry: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFailed:
    """Seat -> game master: the agent raised; the seat plays default actions from now on."""

    game_id: str
    phase_id: int
    player: PlayerId
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineReached:
    """Scheduler -> game master: the time for phase `phase_id` is up (stale if the phase moved on)."""

    game_id: str
    phase_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver:
    """Game master -> subscriber: the next events of its view; `first_seq` numbers the first one.

    Sequence numbers count the events of that view from 0, so a subscriber that reconnects can say
    where to resume and gaps are detectable.
    """

    game_id: str
    view: View
    first_seq: int
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    """Add `subscriber` to `view`; it first receives every event of that view from `from_seq` on."""

    subscriber: Recipient
    view: View
    from_seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe:
    """Stop sending to `subscriber`."""

    subscriber: Recipient


@dataclass(frozen=True, slots=True, kw_only=True)
class GameFinished:
    """Game master -> subscribers and host: the game is over (or was aborted, `outcome` None).

    `faults` counts each seat's faults; `usage` sums what LLM seats reported (calls, retries, tokens,
    latency).
    """

    game_id: str
    outcome: Outcome | None
    record: dict[str, Any]
    faults: dict[PlayerId, int]
    usage: dict[PlayerId, dict[str, float]] = field(default_factory=dict)
