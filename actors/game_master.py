"""GameMasterActor: owns one engine `Game`, asks seats for actions, enforces deadlines, fans out events.

Theory of operation
-------------------
The game master never blocks on a player. When a phase opens it tells every awaited seat a
`RequestAction` (all at once for simultaneous phases, so slow agents think in parallel) and asks the
scheduler for a `DeadlineReached(phase_id)`. Answers (`SubmitAction`) for another phase are late
and dropped; illegal ones are rejected (`ActionRejected`) and recorded as that seat's fault, and the
deadline still stands. At the deadline the engine applies each missing seat's default action.
A seat whose agent failed (`AgentFailed`) is disabled: its actions are defaults from then on,
applied at once without waiting for a deadline. A phase's deadline is the game's `timeout_s`, or
longer when an awaited seat has its own (`seat_timeouts`: a person's seat). With `pace_s`, a phase's
requests go out no sooner than `pace_s` after the last public phase's (`PaceReached`): a game of
instantaneous agents becomes watchable; without it nothing waits. Hidden phases are not paced: their
length would show what they hide.

With `hidden_turn_s` > 0 the cover (`actors.cover`) holds the first event it may not let out yet:
nothing after it goes to any view, no request goes out, until its timer (`HoldExpired`); so the time
between public moments depends only on public information. A held phase's deadline is armed when its
requests go out; under the cover the night phase lasts one budget (its actors are secret), and a
hidden phase's deadline is at most one budget, so a budget shorter than a seat's deadline stays exact.

The engine routes events to views (`engine.observation.Routing`: a private event when it is emitted,
the public ones into a player's view when that view is read): each view (a player's audience, public,
full) is a list the game master reads from a cursor after every input, and what is new goes to that
view's subscribers as `Deliver(first_seq, events)`; nothing is filtered here. A seat played by a
local agent (a `PlayerActor`, or an `InlineSeat` for an instant agent) is not subscribed: everything
its agent knows comes in each `RequestAction`'s observation, and waking its thread after every input
would only cost time. Any other seat (a remote session, a test double) is a
subscriber of its own player view; spectators and observers subscribe the same way.

An `InlineSeat` answers inside the `tell` that carries its request, in this actor's thread, by telling
its answer to this actor's mailbox: answers are handled after every request of the phase is out, like
any seat's, and the game master never waits for a seat that thinks (those have a thread of their own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pykka

from actors.cover import Cover, let_out
from actors.gamelog import GameLog
from actors.inline import InlineSeat
from actors.messages import (
    ActionRejected,
    AgentFailed,
    AgentReport,
    DeadlineReached,
    Deliver,
    GameFinished,
    HoldExpired,
    PaceReached,
    Recipient,
    RequestAction,
    SubmitAction,
    Subscribe,
    Unsubscribe,
    View,
    ViewKind,
    player_view,
)
from actors.player import PlayerActor
from actors.scheduler import Scheduler, Timer
from engine import (
    Abstain,
    Event,
    Game,
    IllegalAction,
    Phase,
    PlayerId,
    action_to_dict,
    to_record,
)
from engine.events import PhaseStarted, PlayerFaulted, Scope
from engine.record import RECORD_FORMAT

logger = logging.getLogger(__name__)


class GameMasterActor(pykka.ThreadingActor):
    """Runs one game. Messages in: SubmitAction, AgentFailed, DeadlineReached, Subscribe, Unsubscribe."""

    def __init__(
        self,
        game: Game,
        seats: Mapping[PlayerId, Recipient],
        *,
        scheduler: Scheduler,
        timeout_s: float,
        game_id: str = "game",
        log: GameLog | None = None,
        on_finished: Callable[[GameFinished], None] | None = None,
        seat_timeouts: Mapping[PlayerId, float] | None = None,
        pace_s: float = 0.0,
        hidden_turn_s: float = 0.0,
    ) -> None:
        """Wire the game to its seats; nothing happens until the actor starts (runs in the caller).

        `seat_timeouts`: seats whose deadline is not `timeout_s`; `pace_s`: the minimum time between
        two public phases' requests (0: none); `hidden_turn_s`: the cover's time per hidden turn (0:
        no cover; `actors.cover.budget` computes the automatic value)."""
        super().__init__()
        self._game = game
        self._seats = dict(seats)
        self._scheduler = scheduler
        self._timeout_s = timeout_s
        self._seat_timeouts = dict(seat_timeouts or {})
        self._pace_s = pace_s
        self._last_requests: float | None = None  # when the last public phase's requests went out
        self._phase_public = True  # whether the last phase published opened in public
        self._cover = Cover(game.config, hidden_turn_s) if hidden_turn_s > 0 else None
        self._held: tuple[Event, ...] | None = None  # with a cover: the events it holds back now
        self._hold: Timer | None = None
        self._hold_due: float | None = None
        self.game_id = game_id
        self._log = log
        self._on_finished = on_finished
        self._subscribers: dict[View, list[Recipient]] = {}
        #: Per subscribed view, how many of its events were delivered: a cursor into the engine's routing.
        self._view_counts: dict[View, int] = {}
        self._published = 0
        self._inputs_logged = 0
        self._timer: Timer | None = None
        self._requested_phase = -1
        self._disabled: set[PlayerId] = set()
        self._faults: dict[PlayerId, int] = dict.fromkeys(game.players, 0)
        self._usage: dict[PlayerId, dict[str, float]] = {}
        self._finished = False

    def __str__(self) -> str:
        return f"GameMaster({self.game_id})"

    # ------------------------------------------------------------------ lifecycle hooks (actor thread)

    def on_start(self) -> None:
        """Subscribe the seats, publish the opening events and ask for the first actions."""
        if self._log is not None:
            self._log.write(
                "game",
                game_id=self.game_id,
                record_format=RECORD_FORMAT,
                config=self._game.config.to_dict(),
                seed=self._game.seed,
                key=self._game.key.hex() if self._game.key is not None else None,
                roles={p: self._game.role_of(p).value for p in self._game.players},
                forced_roles=(
                    {p: self._game.role_of(p).value for p in self._game.players}
                    if self._game.forced_roles
                    else None
                ),
            )
        for player, seat in self._seats.items():
            if not _is_local_agent(seat):
                self._subscribers.setdefault(player_view(player), []).append(seat)
        self._advance()

    def on_stop(self) -> None:
        """Cancel the pending timers; if the game was cut short, say so to everyone."""
        self._cancel_timers()
        if not self._finished:
            self._finish(aborted=True)

    def on_failure(self, exception_type: Any, exception_value: Any, traceback: Any) -> None:
        """A bug in the game master: end the game for everyone, with the reason in the log."""
        logger.error("%s failed: %r", self, exception_value)
        if self._log is not None:
            self._log.write("crashed", error=repr(exception_value))
        if not self._finished:
            self._finish(aborted=True)

    def on_receive(self, message: Any) -> None:
        """Dispatch one message (actor thread)."""
        match message:
            case SubmitAction():
                self._on_submit(message)
            case DeadlineReached(phase_id=phase_id) if message.game_id == self.game_id:
                self._game.deadline_passed(phase_id)
                self._advance()
            case PaceReached(phase_id=phase_id) if message.game_id == self.game_id:
                if phase_id == self._game.phase_id == self._requested_phase and not self._finished:
                    self._send_requests()
            case HoldExpired(game_id=game_id) if game_id == self.game_id:
                self._hold = self._hold_due = None
                if not self._finished:
                    self._advance()
            case AgentFailed():
                self._on_agent_failed(message)
            case Subscribe():
                self._on_subscribe(message)
            case Unsubscribe(subscriber=subscriber):
                for subs in self._subscribers.values():
                    if subscriber in subs:
                        subs.remove(subscriber)
            case _:
                super().on_receive(message)

    # ------------------------------------------------------------------ inputs

    def _on_submit(self, msg: SubmitAction) -> None:
        game = self._game
        if msg.report is not None and msg.player in self._seats and msg.game_id == self.game_id:
            self._take_report(msg.player, msg.report)
        status, reason = "accepted", None
        if msg.game_id != self.game_id or msg.phase_id != game.phase_id:
            status, reason = "late", f"phase {msg.phase_id} is over"
        elif msg.player not in game.awaiting():
            status, reason = "late", "no answer is expected from you in this phase (already answered?)"
        elif msg.player in self._disabled:
            status, reason = "ignored", "this seat was given up: the game plays its default actions"
        else:
            try:
                game.apply(msg.player, msg.action)
            except IllegalAction as exc:
                status, reason = "rejected", exc.reason
        if self._log is not None:
            self._log.write(
                "answer",
                phase_id=msg.phase_id,
                player=msg.player,
                action=action_to_dict(msg.action),
                thought_s=round(msg.thought_s, 6),
                status=status,
                reason=reason,
                detail=msg.report.as_dict() if msg.report is not None else None,
            )
        if status == "rejected":
            game.note_fault(msg.player, f"illegal answer: {reason}")
        if reason is not None:
            self._tell_seat(
                msg.player,
                ActionRejected(
                    game_id=self.game_id,
                    phase_id=msg.phase_id,
                    player=msg.player,
                    reason=reason,
                    retry=status == "rejected",
                ),
            )
        self._advance()

    def _take_report(self, player: PlayerId, report: AgentReport) -> None:
        """What an agent reports beside its action: faults, private thinking and reasoning, usage."""
        for fault in report.faults:
            self._game.note_fault(player, fault)
        if report.thinking:  # a reasoning model's thinking: as private as its reasoning
            self._game.note_reasoning(player, f"(thinking) {report.thinking}")
        if report.reasoning:
            self._game.note_reasoning(player, report.reasoning)
        if report.usage is not None:
            totals = self._usage.setdefault(player, {})
            for key, value in report.usage.as_dict().items():
                totals[key] = round(totals.get(key, 0) + value, 6)
        if report.fallback:  # the built-in agent decided: statistics must not credit the model with it
            totals = self._usage.setdefault(player, {})
            totals["fallbacks"] = totals.get("fallbacks", 0) + 1

    def _on_agent_failed(self, msg: AgentFailed) -> None:
        if msg.player not in self._seats or msg.player in self._disabled:
            return
        self._disabled.add(msg.player)
        if self._log is not None:
            self._log.write("agent_failed", player=msg.player, phase_id=msg.phase_id, error=msg.error)
        if not self._finished:
            self._game.note_fault(msg.player, f"agent failed: {msg.error}")
        self._advance()

    def _on_subscribe(self, msg: Subscribe) -> None:
        view = msg.view
        if view.kind is ViewKind.PLAYER and view.player not in self._seats:
            logger.warning("%s: subscription to unknown player view %s refused", self, view)
            return
        history = self._view_since(view, 0)
        if self._held:  # the cover holds events back: only those it let out
            history = let_out(history, {id(e) for e in self._game.events_since(0)[: self._published]})
        self._subscribers.setdefault(view, []).append(msg.subscriber)
        self._view_counts[view] = len(history)
        if msg.from_seq < len(history):
            self._send(
                msg.subscriber,
                Deliver(
                    game_id=self.game_id,
                    view=view,
                    first_seq=msg.from_seq,
                    events=history[msg.from_seq :],
                ),
            )
        if self._finished:
            self._send(msg.subscriber, self._finished_message())

    # ------------------------------------------------------------------ progress

    def _advance(self) -> None:
        """Publish new events; play disabled seats; on a new phase, request actions and set its deadline."""
        game = self._game
        while True:
            self._publish()
            if self._held:  # nothing goes on until the hold is over (its timer calls back)
                return
            if game.outcome() is not None:
                if not self._finished:  # messages may still arrive after the end: finish only once
                    self._finish(aborted=False)
                return
            disabled = [p for p in game.players if p in self._disabled and p in game.awaiting()]
            if not disabled:
                break
            for p in disabled:
                if p in game.awaiting():
                    game.apply(p, Abstain())
        if game.phase_id != self._requested_phase:
            self._request_phase()

    def _request_phase(self) -> None:
        game = self._game
        self._requested_phase = game.phase_id
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pace_s > 0 and self._phase_public and self._last_requests is not None:
            wait = self._last_requests + self._pace_s - self._scheduler.now()
            if wait > 0:
                self._timer = self._scheduler.call_later(
                    wait, self.actor_ref, PaceReached(game_id=self.game_id, phase_id=game.phase_id)
                )
                return
        self._send_requests()

    def _send_requests(self) -> None:
        """Ask every awaited seat for its action and arm the phase's deadline: the longest of theirs."""
        game = self._game
        now = self._scheduler.now()
        if self._phase_public:
            self._last_requests = now
        awaiting = game.awaiting()
        awaited = [p for p in game.players if p in awaiting]
        if self._cover is not None and game.phase is Phase.NIGHT:
            # Its awaited seats are secret, so its deadline cannot be theirs: it lasts one budget.
            deadline = now + self._cover.budget_s
            self._cover.requested(now)
        else:
            deadline = now + max(
                (self._seat_timeouts.get(p, self._timeout_s) for p in awaited), default=self._timeout_s
            )
            if self._cover is not None and not self._phase_public:
                # A hidden turn never outlasts its budget, so the cover stays exact with a budget shorter
                # than a seat's deadline (a person's, a slow model's): that seat gets less time instead.
                deadline = min(deadline, now + self._cover.budget_s)
        # An inline seat answers inside `_tell_seat`, but into the mailbox: nothing is applied (and
        # `awaiting` cannot change) before every request is out.
        for p in awaited:
            if self._log is not None:
                self._log.write("request", phase_id=game.phase_id, phase=game.phase.value, player=p)
            self._tell_seat(
                p,
                RequestAction(
                    game_id=self.game_id,
                    phase_id=game.phase_id,
                    player=p,
                    observation=game.observe(p),
                    choices=game.legal_actions(p),
                    deadline=deadline,
                    reply_to=self.actor_ref,
                ),
            )
        # Armed after the requests are out (for the same deadline): armed first, a deadline that fires at
        # once (a test's manual clock) could overtake answers given while the later requests went out.
        self._timer = self._scheduler.call_later(
            max(0.0, deadline - self._scheduler.now()),
            self.actor_ref,
            DeadlineReached(game_id=self.game_id, phase_id=game.phase_id),
        )

    def _publish(self) -> None:
        """Send each view its new events (those the cover lets out now, if there is one)."""
        events = self._game.events_since(self._published)
        if self._cover is not None:
            events = self._admit(events)
        if not events:
            return
        start = self._published
        self._published += len(events)
        for event in events:
            if isinstance(event, PlayerFaulted):
                self._faults[event.player] += 1
            elif isinstance(event, PhaseStarted):
                self._phase_public = event.audience.scope is Scope.PUBLIC
        out = {id(e) for e in events} if self._held else None  # while the cover holds: what it let out
        if self._log is not None:
            self._log_new(events, start)
        for view, subscribers in self._subscribers.items():
            if not subscribers:
                continue
            first = self._view_counts.get(view, 0)
            batch = self._view_since(view, first)
            if out is not None:
                batch = let_out(batch, out)
            if not batch:
                continue
            self._view_counts[view] = first + len(batch)
            message = Deliver(game_id=self.game_id, view=view, first_seq=first, events=batch)
            for subscriber in list(subscribers):  # a copy: `_send` drops dead subscribers from it
                self._send(subscriber, message)

    def _admit(self, events: tuple[Event, ...]) -> tuple[Event, ...]:
        """`events` up to the first the cover holds (all of them if none); for the rest, arm the timer."""
        assert self._cover is not None  # only called with a cover
        now = self._scheduler.now()
        for i, event in enumerate(events):
            due = self._cover.admit(event, now)
            if due is not None:
                self._held = events[i:]
                if due != self._hold_due:
                    if self._hold is not None:
                        self._hold.cancel()
                    message = HoldExpired(game_id=self.game_id)
                    self._hold = self._scheduler.call_later(max(0.0, due - now), self.actor_ref, message)
                    self._hold_due = due
                return events[:i]
        self._held = None
        return events

    def _log_new(self, events: tuple[Event, ...], start: int) -> None:
        assert self._log is not None  # only called with a log
        for i, event in enumerate(events, start):
            self._log.event(i, event)
        inputs = self._game.inputs_since(self._inputs_logged)
        for item in inputs:
            self._log.write("input", input=item)
        self._inputs_logged += len(inputs)

    def _view_since(self, view: View, index: int) -> tuple[Event, ...]:
        """The events of `view` from its position `index` on, as the engine routed them."""
        if view.kind is ViewKind.FULL:
            return self._game.events_since(index)
        if view.kind is ViewKind.PUBLIC:
            return self._game.public_since(index)
        assert view.player is not None  # a PLAYER view always names its player
        return self._game.visible_since(view.player, index)

    def _send(self, subscriber: Recipient, message: Any) -> None:
        try:
            subscriber.tell(message)
        except pykka.ActorDeadError:
            for subs in self._subscribers.values():
                if subscriber in subs:
                    subs.remove(subscriber)

    def _tell_seat(self, player: PlayerId, message: Any) -> None:
        seat = self._seats.get(player)
        if seat is not None:
            self._send(seat, message)

    def _cancel_timers(self) -> None:
        for timer in (self._timer, self._hold):
            if timer is not None:
                timer.cancel()
        self._timer = self._hold = None

    def _finished_message(self) -> GameFinished:
        return GameFinished(
            game_id=self.game_id,
            outcome=self._game.outcome(),
            record=to_record(self._game),
            faults=dict(self._faults),
            usage={p: dict(u) for p, u in self._usage.items()},
            roles=(
                {p: self._game.role_of(p) for p in self._game.players}
                if self._game.outcome() is not None  # revealed by the end, not by an abort
                else {}
            ),
        )

    def _finish(self, *, aborted: bool) -> None:
        if self._finished:
            return
        self._finished = True
        self._cancel_timers()
        message = self._finished_message()
        if self._log is not None:
            self._log.write("record", record=message.record)
            self._log.write("finished", aborted=aborted, faults=message.faults, usage=message.usage)
            self._log.close()
        notified: list[Recipient] = []
        # Copies: `_send` removes a dead subscriber from these lists, which would skip the next one.
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                if subscriber not in notified:
                    notified.append(subscriber)
                    self._send(subscriber, message)
        if self._on_finished is not None:
            self._on_finished(message)


def _is_local_agent(seat: Recipient) -> bool:
    """Whether `seat` hosts an agent in this process, which reads all it knows from each request."""
    if isinstance(seat, InlineSeat):
        return True
    return isinstance(seat, pykka.ActorRef) and issubclass(seat.actor_class, PlayerActor)
