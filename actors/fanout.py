"""What the game master lets out, and to whom: the cover's holds, the views' cursors, their subscribers.

Theory of operation
-------------------
The engine routes events to views (`engine.observation.Routing`: a private event when it is emitted,
the public ones into a player's view when that view is read): each view (a player's audience, public,
full) is a list that `Fanout.publish` reads from a cursor after every input of the game master, and
what is new goes to that view's subscribers as `Deliver(first_seq, events)`; nothing is filtered here.
A seat played by a local agent (a `PlayerActor`, or an `InlineSeat` for an instant agent,
`is_local_agent`) is not subscribed: everything its agent knows comes in each `RequestAction`'s
observation, and waking its thread after every input would only cost time. Any other seat (a remote
session, a test double) is a subscriber of its own player view; spectators and observers subscribe the
same way (`Fanout.subscribe`, with a catch-up from the sequence number they ask for).

With a cover (`actors.cover`), `publish` lets out the game's new events up to the first one the cover
holds: nothing after it goes to any view (and the game master sends no request) until the hold's timer
(`HoldExpired`, told to the game master) is over, so the time between public moments depends only on
public information. A `Fanout` is the game master's: it runs in the game master's thread only.
"""

from __future__ import annotations

from typing import Any

import pykka

from actors.cover import Cover, let_out
from actors.gamelog import GameLog
from actors.inline import InlineSeat
from actors.messages import Deliver, GameFinished, HoldExpired, Recipient, View, ViewKind
from actors.player import PlayerActor
from actors.scheduler import Scheduler, Timer
from engine import Event, Game, PlayerId
from engine.events import PhaseStarted, PlayerFaulted, Scope


class Fanout:
    """Publishes one game's events: through its cover (if any) to the log and to each view's subscribers.

    Also what the game master learns from what went out: `faults` (each seat's `PlayerFaulted` events
    let out) and `phase_public` (whether the last phase let out opened in public: pacing counts those).
    """

    def __init__(
        self,
        game: Game,
        *,
        game_id: str,
        scheduler: Scheduler,
        reply_to: Recipient,
        cover: Cover | None = None,
        log: GameLog | None = None,
    ) -> None:
        """Publish `game`'s events; `reply_to` (the game master) is told `HoldExpired` when a hold ends."""
        self._game = game
        self._game_id = game_id
        self._scheduler = scheduler
        self._reply_to = reply_to
        self._cover = cover
        self._log = log
        self._subscribers: dict[View, list[Recipient]] = {}
        #: Per subscribed view, how many of its events were delivered: a cursor into the engine's routing.
        self._view_counts: dict[View, int] = {}
        self._published = 0
        self._inputs_logged = 0
        self._held: tuple[Event, ...] | None = None  # with a cover: the events it holds back now
        self._hold: Timer | None = None
        self._hold_due: float | None = None
        #: Per seat, the faults let out so far.
        self.faults: dict[PlayerId, int] = dict.fromkeys(game.players, 0)
        #: Whether the last phase let out opened in public.
        self.phase_public = True

    @property
    def held(self) -> bool:
        """Whether the cover holds events back now (until its timer tells the game master `HoldExpired`)."""
        return bool(self._held)

    # ------------------------------------------------------------------ subscribers

    def add(self, view: View, subscriber: Recipient) -> None:
        """Subscribe `subscriber` to `view` with no catch-up: a seat's, before anything is published."""
        self._subscribers.setdefault(view, []).append(subscriber)

    def subscribe(self, view: View, subscriber: Recipient, from_seq: int) -> None:
        """Subscribe `subscriber` to `view`; first send it what went out of that view from `from_seq` on."""
        history = self._view_since(view, 0)
        if self._held:  # the cover holds events back: only those it let out
            history = let_out(history, {id(e) for e in self._game.events_since(0)[: self._published]})
        self._subscribers.setdefault(view, []).append(subscriber)
        self._view_counts[view] = len(history)
        if from_seq < len(history):
            self.send(
                subscriber,
                Deliver(
                    game_id=self._game_id,
                    view=view,
                    first_seq=from_seq,
                    events=history[from_seq:],
                ),
            )

    def unsubscribe(self, subscriber: Recipient) -> None:
        """Stop sending to `subscriber`, whatever views it had."""
        for subs in self._subscribers.values():
            if subscriber in subs:
                subs.remove(subscriber)

    def send(self, recipient: Recipient, message: Any) -> None:
        """Tell `recipient` `message`; a recipient found dead is unsubscribed."""
        try:
            recipient.tell(message)
        except pykka.ActorDeadError:
            self.unsubscribe(recipient)

    def broadcast(self, message: GameFinished) -> None:
        """Tell every subscriber `message` once, however many views it subscribed to."""
        notified: list[Recipient] = []
        # Copies: `send` removes a dead subscriber from these lists, which would skip the next one.
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                if subscriber not in notified:
                    notified.append(subscriber)
                    self.send(subscriber, message)

    # ------------------------------------------------------------------ publishing

    def publish(self) -> None:
        """Send each view its new events (those the cover lets out now, if there is one)."""
        events = self._game.events_since(self._published)
        if self._cover is not None:
            events = self._admit(events, self._cover)
        if not events:
            return
        start = self._published
        self._published += len(events)
        for event in events:
            if isinstance(event, PlayerFaulted):
                self.faults[event.player] += 1
            elif isinstance(event, PhaseStarted):
                self.phase_public = event.audience.scope is Scope.PUBLIC
        out = {id(e) for e in events} if self._held else None  # while the cover holds: what it let out
        if self._log is not None:
            self._log_new(self._log, events, start)
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
            message = Deliver(game_id=self._game_id, view=view, first_seq=first, events=batch)
            for subscriber in list(subscribers):  # a copy: `send` drops dead subscribers from it
                self.send(subscriber, message)

    def hold_expired(self) -> None:
        """The hold's timer fired: forget it (the game master publishes again next)."""
        self._hold = self._hold_due = None

    def cancel_hold(self) -> None:
        """Cancel the hold's timer, if one is pending (the game is over)."""
        if self._hold is not None:
            self._hold.cancel()
        self._hold = None

    def _admit(self, events: tuple[Event, ...], cover: Cover) -> tuple[Event, ...]:
        """`events` up to the first the cover holds (all of them if none); for the rest, arm the timer."""
        now = self._scheduler.now()
        for i, event in enumerate(events):
            due = cover.admit(event, now)
            if due is not None:
                self._held = events[i:]
                if due != self._hold_due:
                    if self._hold is not None:
                        self._hold.cancel()
                    message = HoldExpired(game_id=self._game_id)
                    self._hold = self._scheduler.call_later(max(0.0, due - now), self._reply_to, message)
                    self._hold_due = due
                return events[:i]
        self._held = None
        return events

    def _log_new(self, log: GameLog, events: tuple[Event, ...], start: int) -> None:
        for i, event in enumerate(events, start):
            log.event(i, event)
        inputs = self._game.inputs_since(self._inputs_logged)
        for item in inputs:
            log.write("input", input=item)
        self._inputs_logged += len(inputs)

    def _view_since(self, view: View, index: int) -> tuple[Event, ...]:
        """The events of `view` from its position `index` on, as the engine routed them."""
        if view.kind is ViewKind.FULL:
            return self._game.events_since(index)
        if view.kind is ViewKind.PUBLIC:
            return self._game.public_since(index)
        assert view.player is not None  # a PLAYER view always names its player
        return self._game.visible_since(view.player, index)


def is_local_agent(seat: Recipient) -> bool:
    """Whether `seat` hosts an agent in this process, which reads all it knows from each request."""
    if isinstance(seat, InlineSeat):
        return True
    return isinstance(seat, pykka.ActorRef) and issubclass(seat.actor_class, PlayerActor)
