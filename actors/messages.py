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

from engine import Action, Choice, Event, Observation, Outcome, PlayerId, Role


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
class Usage:
    """What one decision cost an LLM seat: calls to the server, re-asks, tokens, seconds waited.

    `completion_tokens` includes a reasoning model's thinking (both Ollama's `eval_count` and an
    OpenAI-compatible `usage.completion_tokens` count it); `thinking_chars` is the thinking's size and
    `thinking_tokens` its share of the tokens when the server says it (OpenAI-compatible servers only).
    """

    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    thinking_chars: int = 0
    thinking_tokens: int = 0

    def as_dict(self) -> dict[str, float]:
        """By name, as summed per seat into `GameFinished.usage` and logged (thinking: only if any)."""
        out: dict[str, float] = {
            "calls": self.calls,
            "retries": self.retries,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": self.latency_s,
        }
        if self.thinking_chars:
            out["thinking_chars"] = self.thinking_chars
        if self.thinking_tokens:
            out["thinking_tokens"] = self.thinking_tokens
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReport:
    """What an agent reports about one decision beside its action (LLM seats; others report nothing).

    Attributes:
        faults: what went wrong while deciding (each one becomes a fault of the seat).
        reasoning: private reasoning, seen only by the game master's full view and the log.
        usage: what the decision cost.
        model: the model that decided.
        fallback: the built-in agent decided instead (the server failed the seat or this call).
        repairs: how a reply was read leniently (code fence removed, control characters accepted...):
            not faults, logged only.
        thinking: what a reasoning model thought before answering (Ollama's `think`), private like
            `reasoning`.
    """

    faults: tuple[str, ...] = ()
    reasoning: str | None = None
    usage: Usage | None = None
    model: str | None = None
    fallback: bool = False
    repairs: tuple[str, ...] = ()
    thinking: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as the game log's `answer` line carries it (`detail`)."""
        out: dict[str, Any] = {} if self.model is None else {"model": self.model}
        out["faults"] = list(self.faults)
        out["reasoning"] = self.reasoning
        if self.usage is not None:
            out["usage"] = self.usage.as_dict()
        if self.fallback:
            out["fallback"] = True
        if self.repairs:
            out["repairs"] = list(self.repairs)
        if self.thinking is not None:
            out["thinking"] = self.thinking
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitAction:
    """Seat -> game master: the answer to `RequestAction(phase_id)`; `thought_s` is how long it took,
    `report` what the agent said about it (faults, reasoning, usage), if anything."""

    game_id: str
    phase_id: int
    player: PlayerId
    action: Action
    thought_s: float = 0.0
    report: AgentReport | None = None


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
class PaceReached:
    """Scheduler -> game master: phase `phase_id` waited its minimum time; its requests may go out."""

    game_id: str
    phase_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldExpired:
    """Scheduler -> game master: the cover's hold is over (`actors.cover`); what it held may go out."""

    game_id: str


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
    latency); `roles` is every seat's role, as the game's end reveals them (empty if it was aborted).
    """

    game_id: str
    outcome: Outcome | None
    record: dict[str, Any]
    faults: dict[PlayerId, int]
    usage: dict[PlayerId, dict[str, float]] = field(default_factory=dict)
    roles: dict[PlayerId, Role] = field(default_factory=dict)
