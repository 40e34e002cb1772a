"""What the viewer draws, as a pure fold of wire frames and connection-status items.

Theory of operation:

- `apply(model, item, at)` returns a new `ViewerModel`; it never mutates one, does no I/O and reads no
  clock (the time an item arrived is the `at` argument), so the render loop, the replay stepper and
  the tests all drive it the same way. `fold(items)` applies a whole stream from an empty model.
- Events are applied in `seq` order, each once. A `seq` already applied (or already waiting) is a
  duplicate and is ignored: reconnecting with `resume_from` may resend one. A `seq` past the next one
  expected means events were missed: the frame waits in `pending`, `gap` names the missing range, and
  the waiting frames are applied as soon as the gap is filled. If the game ends with the gap still
  open, the waiting frames are applied anyway and `missed` keeps the record.
- The model keeps secrets (roles, wolves' chat, night actions, reasoning) when the view carries them
  (`full`, or a replay); whether to *show* them is the renderer's choice (`UiState.full`).
- Connection status comes in as `Status` items from the client thread. A connection that ends before
  the game does leaves `game_over` false: the renderer says so instead of pretending it finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from net.client import ServerFrameModel
from net.protocol import ErrorFrame, EventFrame, GameOver, Welcome
from viewer.narrate import Payload, narrate

MAX_CHAT_LINES = 3000  # the log keeps the newest lines only; a long LLM game stays cheap to fold


class Link(StrEnum):
    """The state of the viewer's source of frames."""

    CONNECTING = "connecting"  #: first attempt in progress
    LIVE = "live"  #: welcomed; frames flowing
    RECONNECTING = "reconnecting"  #: lost the connection; trying again (resuming)
    ENDED = "ended"  #: the server closed after the game ended: nothing more to come
    CLOSED = "closed"  #: the connection ended and will not come back
    FAILED = "failed"  #: the server refused us (bad token, bad URL): retrying cannot help
    REPLAY = "replay"  #: frames come from a log file


@dataclass(frozen=True, slots=True)
class Status:
    """A connection-status item, put on the queue by the client thread (or the replay reader)."""

    link: Link  #: the new state
    detail: str = ""  #: what happened, for the screen ("connection refused", the log's path, ...)
    attempt: int = 0  #: reconnection attempt number (0: not retrying)


Item = ServerFrameModel | Status


class LineKind(StrEnum):
    """What a chat-log line is, which decides its colour and tag."""

    NARRATION = "narration"  #: the host's voice, public
    SPEECH = "speech"  #: a player's public speech
    WOLVES = "wolves"  #: seen by the werewolves only
    PRIVATE = "private"  #: seen by one player only (role, seer's result, night action)
    SECRET = "secret"  #: game master only (what really happened at night)
    SYSTEM = "system"  #: the viewer's own notes (connection, missed events)


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One line of the chat log."""

    seq: int  #: the event's sequence number (-1 for the viewer's own notes)
    day: int  #: the game day it belongs to
    kind: LineKind
    text: str  #: what to show (without the speaker's name)
    speaker: str | None = None  #: who spoke, for speeches (public or wolves')
    audience: str = "public"  #: the event's audience: public, wolves, player:NAME, game_master
    phase: str | None = None  #: for speeches: the phase spoken in (discussion, wolf_chat, last_words)

    @property
    def is_secret(self) -> bool:
        """True when only the full view may show this line."""
        return self.audience != "public" and self.kind is not LineKind.SYSTEM


@dataclass(frozen=True, slots=True)
class Seat:
    """One player at the table, in seat order."""

    name: str
    alive: bool = True
    revealed_role: str | None = None  #: public knowledge: revealed at death (by the rules) or at the end
    revealed_team: str | None = None  #: public knowledge when the rules reveal the team only
    secret_role: str | None = None  #: full view: the role the player was dealt
    death_cause: str | None = None  #: night, execution or hunter
    death_day: int | None = None


@dataclass(frozen=True, slots=True)
class Thought:
    """One piece of a player's private reasoning (full view)."""

    seq: int
    day: int
    phase: str
    text: str


@dataclass(frozen=True, slots=True)
class Ballot:
    """One day vote: `target` None is an abstention; `revealed` False while only the full view knows it."""

    voter: str
    target: str | None
    revealed: bool


@dataclass(frozen=True, slots=True)
class ViewerModel:
    """Everything the renderer needs, folded from the frames so far. Never mutated: see `apply`."""

    game_id: str | None = None
    view: str | None = None  #: the welcome's view: public, full, player:NAME
    seats: tuple[Seat, ...] = ()
    roles_in_play: tuple[tuple[str, int], ...] = ()
    wolves: frozenset[str] = frozenset()  #: full view: the werewolves
    day: int = 0
    phase: str | None = None  #: the open phase (wire name)
    phase_started_at: float | None = None  #: `at` of the phase's opening, for "time in phase"
    is_night: bool = False
    speaker: str | None = None  #: whose turn it is (turn phases, the hunter)
    candidates: tuple[str, ...] = ()  #: a revote's candidates
    bubble: ChatLine | None = None  #: the speech on show
    last_speech: Mapping[str, str] = field(default_factory=dict)
    chat: tuple[ChatLine, ...] = ()
    ballots: tuple[Ballot, ...] = ()  #: the current (or last) vote
    vote_round: int = 0
    tally: tuple[tuple[str, int], ...] = ()
    pack_target: str | None = None  #: full view: the wolves' victim tonight
    inspected: Mapping[str, bool] = field(default_factory=dict)  #: full view: target -> is a wolf
    dawn_deaths: tuple[str, ...] = ()
    shot: tuple[str, str] | None = None  #: the hunter and his target
    reasoning: Mapping[str, tuple[Thought, ...]] = field(default_factory=dict)
    game_over: bool = False
    winner: str | None = None
    end_reason: str = ""
    link: Link = Link.CONNECTING
    link_detail: str = ""
    attempt: int = 0
    error: str | None = None  #: the server's last complaint
    next_seq: int = 0  #: the seq expected next (= events applied)
    pending: tuple[EventFrame, ...] = ()  #: frames past a gap, waiting for it to fill
    gap: tuple[int, int] | None = None  #: first and last missing seq, while missing
    missed: tuple[tuple[int, int], ...] = ()  #: gaps never filled (the game ended first)
    duplicates: int = 0  #: frames ignored because their seq was already held

    @property
    def full_allowed(self) -> bool:
        """True when the stream carries secrets (admin full view, or a replay)."""
        return self.view == "full"

    @property
    def ended_abruptly(self) -> bool:
        """The connection is gone for good and the game never reported its end."""
        return self.link in (Link.CLOSED, Link.FAILED) and not self.game_over

    def seat(self, name: str) -> Seat | None:
        """The seat of `name`, if at the table."""
        return next((s for s in self.seats if s.name == name), None)


# ---------------------------------------------------------------------------------------- the fold


def apply(model: ViewerModel, item: Item, at: float = 0.0) -> ViewerModel:
    """The model after `item`, which arrived at time `at` (any clock; used for time in phase)."""
    match item:
        case Status():
            return _status(model, item)
        case Welcome():
            link = model.link if model.link is Link.REPLAY else Link.LIVE
            return replace(model, game_id=item.game_id, view=item.view, link=link, link_detail="", attempt=0)
        case EventFrame():
            return _sequenced(model, item, at)
        case GameOver():
            return _game_over(model, item, at)
        case ErrorFrame():
            note = f"server error {item.code.value}: {item.message}"
            return _note(replace(model, error=note), note)
        case _:  # requests, rejections and pongs are for agents
            return model


def fold(items: Iterable[Item], model: ViewerModel | None = None) -> ViewerModel:
    """Apply every item in order (with `at` = 0), from an empty model unless one is given."""
    current = model or ViewerModel()
    for item in items:
        current = apply(current, item)
    return current


def _status(model: ViewerModel, status: Status) -> ViewerModel:
    updated = replace(model, link=status.link, link_detail=status.detail, attempt=status.attempt)
    if status.link is model.link or status.link in (Link.LIVE, Link.CONNECTING, Link.REPLAY):
        return updated
    if status.link is Link.ENDED and model.game_over:
        return updated
    return _note(updated, f"{status.link.value}: {status.detail}" if status.detail else status.link.value)


def _note(model: ViewerModel, text: str) -> ViewerModel:
    return _add_line(model, ChatLine(-1, model.day, LineKind.SYSTEM, text))


def _add_line(model: ViewerModel, line: ChatLine) -> ViewerModel:
    return replace(model, chat=(*model.chat, line)[-MAX_CHAT_LINES:])


def _sequenced(model: ViewerModel, frame: EventFrame, at: float) -> ViewerModel:
    """Apply `frame` in seq order: ignore duplicates, park frames past a gap, drain on fill."""
    if frame.seq < model.next_seq or any(p.seq == frame.seq for p in model.pending):
        return replace(model, duplicates=model.duplicates + 1)
    if frame.seq > model.next_seq:
        pending = tuple(sorted((*model.pending, frame), key=lambda f: f.seq))
        return replace(model, pending=pending, gap=(model.next_seq, pending[0].seq - 1))
    model = _event(model, frame, at)
    return _drain(model, at)


def _drain(model: ViewerModel, at: float) -> ViewerModel:
    while model.pending and model.pending[0].seq == model.next_seq:
        head, rest = model.pending[0], model.pending[1:]
        model = _event(replace(model, pending=rest), head, at)
    gap = (model.next_seq, model.pending[0].seq - 1) if model.pending else None
    return replace(model, gap=gap)


def _flush_pending(model: ViewerModel, at: float) -> ViewerModel:
    """Apply frames stuck behind a gap that will never fill; remember what was missed."""
    while model.pending:
        first = model.pending[0].seq
        model = replace(model, missed=(*model.missed, (model.next_seq, first - 1)), next_seq=first)
        model = _drain(model, at)
    return model


def _game_over(model: ViewerModel, over: GameOver, at: float) -> ViewerModel:
    model = _flush_pending(model, at)
    seats = tuple(
        replace(s, revealed_role=over.roles[s.name].value) if s.name in over.roles else s for s in model.seats
    )
    winner = over.winner.value if over.winner is not None else None
    if not model.game_over:
        model = _note(model, f"Game over: {winner or 'no winner'} ({over.reason}).")
    return replace(
        model,
        seats=seats,
        game_over=True,
        winner=winner,
        end_reason=over.reason,
        phase="game_over",
        speaker=None,
    )


# ---------------------------------------------------------------------------------------- events


_KINDS = {"public": LineKind.NARRATION, "wolves": LineKind.WOLVES, "game_master": LineKind.SECRET}


def _event(model: ViewerModel, frame: EventFrame, at: float) -> ViewerModel:
    """Apply one in-order event: its effect on the table, then its log line."""
    event: Payload = frame.model_dump(mode="json")["event"]
    model = replace(model, next_seq=frame.seq + 1, day=int(event.get("day", model.day)))
    handler = _HANDLERS.get(str(event["type"]))
    if handler is not None:
        model = handler(model, event, at)
    text = narrate(event)
    if text is None:
        return model
    audience = str(event.get("audience", "public"))
    kind = _KINDS.get(audience, LineKind.PRIVATE)
    speaker, phase = None, None
    if event["type"] == "spoke":
        speaker, phase = str(event["player"]), str(event["phase"])
        kind = LineKind.SPEECH if audience == "public" else kind
    line = ChatLine(frame.seq, model.day, kind, text, speaker, audience, phase)
    if event["type"] == "spoke":
        model = replace(model, bubble=line)
    return _add_line(model, line)


def _with_seat(model: ViewerModel, name: str, **changes: Any) -> ViewerModel:
    seats = tuple(replace(s, **changes) if s.name == name else s for s in model.seats)
    return replace(model, seats=seats)


def _game_started(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    return replace(
        model,
        seats=tuple(Seat(str(p)) for p in e["players"]),
        roles_in_play=tuple((str(r), int(n)) for r, n in e["roles"]),
    )


# What a new night clears: the day's turn, speech, votes, shot and the last night's secrets.
_NIGHT_RESET: dict[str, Any] = {
    "is_night": True,
    "phase": "night",
    "speaker": None,
    "bubble": None,
    "ballots": (),
    "tally": (),
    "vote_round": 0,
    "candidates": (),
    "shot": None,
    "pack_target": None,
    "dawn_deaths": (),
}


def _night_fell(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    return replace(model, phase_started_at=at, **_NIGHT_RESET)


def _phase_started(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    phase = str(e["phase"])
    changes: dict[str, Any] = {
        "phase": phase,
        "phase_started_at": at,
        "speaker": e.get("speaker"),
        "candidates": tuple(e.get("candidates") or ()),
        "is_night": phase in ("night", "wolf_chat", "witch") or (model.is_night and phase == "hunter"),
    }
    if phase == "vote":
        changes.update(ballots=(), tally=(), bubble=None)
    elif e.get("speaker") != (model.bubble.speaker if model.bubble else None):
        changes["bubble"] = None
    return replace(model, **changes)


def _cast(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    """Full view: a day vote as it is cast (the public learns it only at the reveal)."""
    action = e["action"]
    if action["kind"] not in ("vote", "abstain") or model.phase != "vote":
        return model
    voter, target = str(e["player"]), action.get("target")
    ballots = tuple(b for b in model.ballots if b.voter != voter)
    return replace(model, ballots=(*ballots, Ballot(voter, target, revealed=False)))


def _votes_revealed(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    ballots = tuple(Ballot(str(v), None if t is None else str(t), revealed=True) for v, t in e["votes"])
    tally = tuple((str(p), int(n)) for p, n in e["tally"])
    return replace(model, ballots=ballots, tally=tally, vote_round=int(e["round"]))


def _died(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    return _with_seat(
        model,
        str(e["player"]),
        alive=False,
        death_cause=e["cause"],
        death_day=int(e["day"]),
        revealed_role=e.get("role"),
        revealed_team=e.get("team"),
    )


def _inspected(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    return replace(model, inspected={**model.inspected, str(e["target"]): bool(e["is_wolf"])})


def _reasoned(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    player = str(e["player"])
    thought = Thought(model.next_seq - 1, int(e["day"]), str(e["phase"]), str(e["text"]))
    return replace(model, reasoning={**model.reasoning, player: (*model.reasoning.get(player, ()), thought)})


def _game_ended(model: ViewerModel, e: Payload, at: float) -> ViewerModel:
    roles = {str(p): str(r) for p, r in e["roles"]}
    seats = tuple(replace(s, revealed_role=roles.get(s.name, s.revealed_role)) for s in model.seats)
    return replace(
        model,
        seats=seats,
        game_over=True,
        winner=e.get("winner"),
        end_reason=str(e["reason"]),
        phase="game_over",
        phase_started_at=at,
        speaker=None,
        is_night=False,
    )


_Handler = Callable[[ViewerModel, Payload, float], ViewerModel]
_HANDLERS: dict[str, _Handler] = {
    "game_started": _game_started,
    "role_assigned": lambda m, e, at: _with_seat(m, str(e["player"]), secret_role=str(e["role"])),
    "wolves_met": lambda m, e, at: replace(m, wolves=frozenset(str(w) for w in e["wolves"])),
    "night_fell": _night_fell,
    "day_broke": lambda m, e, at: replace(
        m, is_night=False, dawn_deaths=tuple(e["deaths"]), pack_target=None
    ),
    "phase_started": _phase_started,
    "spoke": lambda m, e, at: replace(m, last_speech={**m.last_speech, str(e["player"]): str(e["text"])}),
    "action_recorded": _cast,
    "bids_revealed": lambda m, e, at: replace(m, speaker=str(e["speaker"])),
    "votes_revealed": _votes_revealed,
    "player_died": _died,
    "wolves_chose": lambda m, e, at: replace(m, pack_target=e.get("victim")),
    "seer_learned": _inspected,
    "medium_learned": _inspected,
    "hunter_shot": lambda m, e, at: replace(m, shot=(str(e["hunter"]), str(e["target"]))),
    "reasoned": _reasoned,
    "game_ended": _game_ended,
}
