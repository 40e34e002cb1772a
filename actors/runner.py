"""Wiring: start the actors for one game, wait for it to finish, stop everything.

This is the one place that decides who is started with which refs: actors get the refs they talk to
through their constructors, never from pykka's global registry, so who knows whom is visible here and
nowhere else. `run.py` and the tests call it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykka

from actors.agents import Agent
from actors.cover import budget
from actors.game_master import GameMasterActor
from actors.gamelog import GameLog
from actors.inline import InlineSeat, is_instant
from actors.messages import GameFinished, Recipient, Subscribe, View
from actors.player import PlayerActor
from actors.scheduler import Scheduler, ThreadingScheduler
from engine import Game, GameConfig, PlayerId, Role

logger = logging.getLogger(__name__)

#: Whatever occupies (plays) a seat: an agent, hosted in a `PlayerActor` (or in an `InlineSeat` if it is
#: instant), or any message recipient that answers `RequestAction` itself (a `net.seats.RemoteSeat`, a
#: test double).
SeatOccupant = Agent | Recipient


class GameTimeout(Exception):
    """The game did not finish within the time the host was willing to wait."""


@dataclass
class RunningGame:
    """A started game: its actors and the future that completes when it is over.

    `players` holds the `PlayerActor` of each seat that has one (a thinking agent's); an instant
    agent's seat is played in the game master's thread and has no actor.
    """

    game_id: str
    master: pykka.ActorRef[Any]
    players: dict[PlayerId, pykka.ActorRef[Any]]
    done: pykka.ThreadingFuture[GameFinished]
    _scheduler: Scheduler
    _own_scheduler: bool
    _stopped: bool = field(default=False)

    def wait(self, timeout: float | None = None) -> GameFinished:
        """Block until the game is over (not from an actor or the trio thread); raises GameTimeout."""
        try:
            finished: GameFinished = self.done.get(timeout=timeout)
        except pykka.Timeout:
            raise GameTimeout(f"game {self.game_id} did not finish within {timeout} s") from None
        return finished

    def stop(self) -> None:
        """Stop the game master, then every player actor, then an own scheduler. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for ref in (self.master, *self.players.values()):
            ref.stop(block=True, timeout=5)
        if self._own_scheduler and isinstance(self._scheduler, ThreadingScheduler):
            self._scheduler.close()


def start_game(
    config: GameConfig,
    seats: Mapping[PlayerId, SeatOccupant],
    *,
    seed: int,
    timeout_s: float = 30.0,
    scheduler: Scheduler | None = None,
    log_path: Path | None = None,
    observers: Sequence[tuple[Recipient, View]] = (),
    roles: Mapping[PlayerId, Role] | None = None,
    game_id: str | None = None,
    key: bytes | None = None,
    seat_timeouts: Mapping[PlayerId, float] | None = None,
    pace_s: float = 0.0,
    inline: bool = True,
    hidden_turn_s: float | None = None,
) -> RunningGame:
    """Start one game: a game master, a `PlayerActor` per thinking agent, and the observers' subscriptions.

    An instant agent (`actors.inline.is_instant`) is played in the game master's thread by an
    `InlineSeat`, unless `inline` is False (then every agent gets its own thread, as before: for
    comparisons).

    `timeout_s` is each phase's deadline, longer for a phase that awaits a seat of `seat_timeouts` (a
    person's); `pace_s` the minimum time between two phases' requests (0: none); `key`
    (`engine.game_key`) keeps the deal secret from anyone who knows the seed: a game with players who
    did not write this process should always have one. `hidden_turn_s` is the time each hidden turn
    is given so that timings do not show hidden information (`actors.cover`): None is automatic (0,
    nothing held, when every seat is an instant agent; else the longest deadline), 0 turns the cover
    off. The caller must `stop()` the returned game.
    """
    missing = set(config.players) - set(seats)
    if missing:
        raise ValueError(f"no agent for seat(s) {', '.join(sorted(missing))}")
    game = (
        Game.new(config, seed=seed, key=key)
        if roles is None
        else Game.with_roles(config, roles, seed=seed, key=key)
    )
    hidden_s = budget(hidden_turn_s, seats.values(), timeout_s=timeout_s, seat_timeouts=seat_timeouts)
    game_id = game_id or uuid.uuid4().hex[:12]
    clock = scheduler if scheduler is not None else ThreadingScheduler()
    done: pykka.ThreadingFuture[GameFinished] = pykka.ThreadingFuture()
    players: dict[PlayerId, pykka.ActorRef[Any]] = {}
    try:
        recipients: dict[PlayerId, Recipient] = {}
        for p in config.players:
            seat = seats[p]
            if isinstance(seat, Agent):  # has `decide` (a runtime-checkable protocol)
                if inline and is_instant(seat):
                    recipients[p] = InlineSeat(p, seat)
                else:
                    players[p] = PlayerActor.start(p, seat)
                    recipients[p] = players[p]
            else:
                recipients[p] = seat  # a Recipient: it answers RequestAction itself
        master = GameMasterActor.start(
            game,
            recipients,
            scheduler=clock,
            timeout_s=timeout_s,
            game_id=game_id,
            log=GameLog(log_path) if log_path is not None else None,
            on_finished=done.set,
            seat_timeouts=seat_timeouts,
            pace_s=pace_s,
            hidden_turn_s=hidden_s,
        )
    except BaseException:
        for ref in players.values():
            ref.stop()
        if scheduler is None and isinstance(clock, ThreadingScheduler):
            clock.close()
        raise
    for observer, view in observers:
        master.tell(Subscribe(subscriber=observer, view=view))
    return RunningGame(game_id, master, players, done, clock, scheduler is None)


def play_game(
    config: GameConfig,
    seats: Mapping[PlayerId, SeatOccupant],
    *,
    seed: int,
    wait_s: float | None = None,
    **options: Any,
) -> GameFinished:
    """Play one game to its end and stop every actor it started, whatever happens.

    `options` are those of `start_game`; `wait_s` bounds the whole game (raises GameTimeout).
    """
    running = start_game(config, seats, seed=seed, **options)
    try:
        return running.wait(wait_s)
    finally:
        running.stop()
