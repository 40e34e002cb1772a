"""PlayerActor: hosts one seat's agent in its own thread and answers the game master by message.

Every agent that may take time (an LLM seat, anything that does not declare itself instant) gets one,
so it thinks without holding up the game master or another seat; an instant agent is played by an
`actors.inline.InlineSeat` in the game master's thread instead.

Everything the agent may know comes in each `RequestAction`: its observation holds every event routed
to the seat so far, so the actor is not subscribed to the seat's events (the game master does not wake
it after every input) and keeps no copy of them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pykka

from actors.agents import Agent
from actors.inline import answer
from actors.messages import ActionRejected, AgentFailed, Recipient, RequestAction
from engine import PlayerId

logger = logging.getLogger(__name__)


class PlayerActor(pykka.ThreadingActor):
    """One seat. Thinks in its own thread, so slow agents think in parallel; never blocks anyone else.

    If the agent raises, the actor stays alive, tells the game master `AgentFailed` once, and ignores
    later requests: the game master then plays the seat's default actions.
    """

    def __init__(
        self, player: PlayerId, agent: Agent, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Host `agent` for `player`; runs in the caller's thread (pykka)."""
        super().__init__()
        self.player = player
        self._agent = agent
        self._clock = clock
        self._failed = False
        self._reply_to: Recipient | None = None
        self._last_phase = 0
        self._game_id = ""
        #: Reasons of answers the game master rejected.
        self.rejections: list[str] = []

    def __str__(self) -> str:
        return f"PlayerActor({self.player})"

    def on_receive(self, message: Any) -> None:
        """Handle one message (runs in this actor's thread)."""
        match message:
            case RequestAction():
                self._on_request(message)
            case ActionRejected(reason=reason):
                logger.info("%s: answer rejected: %s", self, reason)
                self.rejections.append(reason)
            case _:
                super().on_receive(message)

    def _on_request(self, request: RequestAction) -> None:
        self._reply_to = request.reply_to
        self._last_phase = request.phase_id
        self._game_id = request.game_id
        if self._failed:
            return
        # A report that cannot be read escapes `answer` and crashes this actor (see `on_failure`).
        reply = answer(self.player, self._agent, request, self._clock)
        self._failed = isinstance(reply, AgentFailed)
        request.reply_to.tell(reply)

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """The actor itself broke (not the agent): tell the game master so the seat plays defaults."""
        if self._reply_to is not None:
            with contextlib.suppress(pykka.ActorDeadError):
                self._reply_to.tell(
                    AgentFailed(
                        game_id=self._game_id,
                        phase_id=self._last_phase,
                        player=self.player,
                        error=f"player actor crashed: {exception_value!r}",
                    )
                )
