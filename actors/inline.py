"""Seats whose agent is instantaneous: played in the game master's thread, behind the same messages.

An agent that declares itself instant (a class attribute `instant = True`: `RandomAgent`,
`HeuristicAgent`, `ScriptedAgent`) decides in a few microseconds to a few milliseconds of pure
computation, without I/O and without waiting for anything. Giving it a thread of its own costs more
than its decision: starting and stopping the thread with every game, and two thread hand-offs (a GIL
switch each) per action. Such a seat is an `InlineSeat` instead: a `Recipient` whose `tell` runs the
agent at once, in the caller's thread (the game master's), and tells its answer to `reply_to` like
any seat, so the answer still waits in the game master's mailbox and goes through the same checks
(late, illegal, given-up seat) as a threaded seat's.

Every agent that does not declare itself instant (an LLM seat, a wrapper, anything unknown) keeps its
own `PlayerActor`, so a slow or blocked agent never holds up the game master or another seat; a
remote seat is a recipient of its own. Isolation is unchanged where it matters: an agent, inline or
not, only ever sees the observation and menu of each request, its state is its own object, and one
that raises (or whose report cannot be read) is reported as `AgentFailed` without hurting anyone
else. What an instant agent gives up is a thread of its own, which it never needed: it must not block.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from actors.agents import Agent
from actors.messages import ActionRejected, AgentFailed, AgentReport, RequestAction, SubmitAction
from engine import PlayerId

logger = logging.getLogger(__name__)

#: A decision longer than this (seconds) from an agent that claims to be instant is logged: it held the
#: game master (and every other seat of its game) that long.
SLOW_INSTANT_S = 0.05


def is_instant(agent: object) -> bool:
    """Whether `agent`'s class declares that its `decide` is instant (class attribute `instant = True`).

    The claim is about one `decide`: a subclass that overrides `decide` (a test's gated agent, an agent
    that waits for something) does not inherit it unless it restates `instant = True` itself, and an
    instance attribute does not count. A wrapper that delegates to an instant agent does not have it.
    """
    mro = type(agent).__mro__
    claim = next((c for c in mro if "instant" in vars(c)), None)
    decider = next((c for c in mro if "decide" in vars(c)), None)
    if claim is None or decider is None or vars(claim)["instant"] is not True:
        return False
    return mro.index(claim) <= mro.index(decider)  # declared with (or below) the `decide` it vouches for


def answer(
    player: PlayerId, agent: Agent, request: RequestAction, clock: Callable[[], float]
) -> SubmitAction | AgentFailed:
    """Ask `agent` to decide `request`: its answer, or `AgentFailed` if `decide` raised.

    Reading the agent's `last_report` is not guarded here: its host decides what a failure there means.
    """
    started = clock()
    try:
        action = agent.decide(request.observation, request.choices)
    except (Exception, SystemExit) as exc:  # untrusted code: isolate it (a SystemExit reaching pykka
        # would stop every actor in the process), report, play defaults
        logger.warning("%s: agent failed in phase %d: %r", player, request.phase_id, exc)
        return AgentFailed(
            game_id=request.game_id,
            phase_id=request.phase_id,
            player=player,
            error=f"{type(exc).__name__}: {exc}",
        )
    # What `isinstance(agent, Reporting)` checks, without a runtime protocol check's cost per decision.
    report = getattr(agent, "last_report", None)
    return SubmitAction(
        game_id=request.game_id,
        phase_id=request.phase_id,
        player=player,
        action=action,
        thought_s=clock() - started,
        report=report if isinstance(report, AgentReport) else None,
    )


class InlineSeat:
    """Plays an instant agent's seat in the thread that tells it a `RequestAction` (the game master's).

    Same contract as a `PlayerActor`: answers each request by telling `reply_to` a `SubmitAction`, or
    `AgentFailed` once if the agent raises (later requests are ignored: the game master plays the
    seat's defaults); keeps the reasons of rejected answers in `rejections`.
    """

    def __init__(
        self, player: PlayerId, agent: Agent, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Host `agent` (which should be instant, see `is_instant`) for `player`."""
        self.player = player
        self._agent = agent
        self._clock = clock
        self._failed = False
        #: Reasons of answers the game master rejected.
        self.rejections: list[str] = []

    def __str__(self) -> str:
        return f"InlineSeat({self.player})"

    def tell(self, message: Any) -> None:
        """Handle one message at once, in the caller's thread; never raises."""
        match message:
            case RequestAction():
                self._on_request(message)
            case ActionRejected(reason=reason):
                logger.info("%s: answer rejected: %s", self, reason)
                self.rejections.append(reason)
            case _:
                logger.debug("%s: ignored %r", self, message)

    def _on_request(self, request: RequestAction) -> None:
        if self._failed:
            return
        try:
            reply = answer(self.player, self._agent, request, self._clock)
        except Exception as exc:  # the report could not be read: a PlayerActor would crash; so does the seat
            reply = AgentFailed(
                game_id=request.game_id,
                phase_id=request.phase_id,
                player=self.player,
                error=f"seat crashed: {exc!r}",
            )
        if isinstance(reply, AgentFailed):
            self._failed = True
        elif reply.thought_s > SLOW_INSTANT_S:
            logger.warning(
                "%s: an instant agent took %.3f s in phase %d: it held up its game master",
                self,
                reply.thought_s,
                request.phase_id,
            )
        request.reply_to.tell(reply)
