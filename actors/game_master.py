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

After every input the game master publishes what is new (`actors.fanout.Fanout`: through the cover,
to the log and to each view's subscribers as `Deliver(first_seq, events)`). A seat played by a local
agent is not subscribed: its agent reads all it knows from each `RequestAction`'s observation.

An `InlineSeat` answers inside the `tell` that carries its request, in this actor's thread, by telling
its answer to this actor's mailbox: answers are handled after every request of the phase is out, like
any seat's, and the game master never waits for a seat that thinks (those have a thread of their own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pykka

from actors.cover import Cover
from actors.fanout import Fanout, is_local_agent
from actors.gamelog import GameLog
from actors.messages import (
    ActionRejected,
    AgentFailed,
    AgentReport,
    DeadlineReached,
    GameFinished,
    HoldExpired,
    PaceReached,
    Recipient,
    RequestAction,
    SubmitAction,
    Subscribe,
    Unsubscribe,
    ViewKind,
    player_view,
)
from actors.scheduler import Scheduler, Timer
from engine import (
    Abstain,
    Game,
    IllegalAction,
    Phase,
    PlayerId,
    action_to_dict,
    to_record,
)
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
        self._cover = Cover(game.config, hidden_turn_s) if hidden_turn_s > 0 else None
        self.game_id = game_id
        self._log = log
        self._on_finished = on_finished
        self._fanout = Fanout(
            game, game_id=game_id, scheduler=scheduler, reply_to=self.actor_ref, cover=self._cover, log=log
        )
        self._timer: Timer | None = None
        self._requested_phase = -1
        self._disabled: set[PlayerId] = set()
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
            if not is_local_agent(seat):
                self._fanout.add(player_view(player), seat)
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
                self._fanout.hold_expired()
                if not self._finished:
                    self._advance()
            case AgentFailed():
                self._on_agent_failed(message)
            case Subscribe():
                self._on_subscribe(message)
            case Unsubscribe(subscriber=subscriber):
                self._fanout.unsubscribe(subscriber)
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
        self._fanout.subscribe(view, msg.subscriber, msg.from_seq)
        if self._finished:
            self._fanout.send(msg.subscriber, self._finished_message())

    # ------------------------------------------------------------------ progress

    def _advance(self) -> None:
        """Publish new events; play disabled seats; on a new phase, request actions and set its deadline."""
        game = self._game
        while True:
            self._fanout.publish()
            if self._fanout.held:  # nothing goes on until the hold is over (its timer calls back)
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
        if self._pace_s > 0 and self._fanout.phase_public and self._last_requests is not None:
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
        if self._fanout.phase_public:
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
            if self._cover is not None and not self._fanout.phase_public:
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

    def _tell_seat(self, player: PlayerId, message: Any) -> None:
        seat = self._seats.get(player)
        if seat is not None:
            self._fanout.send(seat, message)

    def _cancel_timers(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._fanout.cancel_hold()
        self._timer = None

    def _finished_message(self) -> GameFinished:
        return GameFinished(
            game_id=self.game_id,
            outcome=self._game.outcome(),
            record=to_record(self._game),
            faults=dict(self._fanout.faults),
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
        self._fanout.broadcast(message)
        if self._on_finished is not None:
            self._on_finished(message)
