"""A remote seat played by an AIWolf NLP agent: our game master's recipient, AIWolf packets on the wire.

To the game master it is a `RemoteSeat` like any other: same deadlines (a request not answered in time
gets the seat's default action and a fault), same faults for an illegal answer, same grace period and
`AgentFailed` after a disconnection, same view (the seat's player view only). What differs is the wire:
each event and request goes through the seat's `AIWolfView`, and the agent's text replies come back as
actions.

Replies are matched to requests in order: AIWolf agents answer every TALK, WHISPER, VOTE, DIVINE, GUARD
and ATTACK once, in the order asked. A reply to a request whose phase is over is late: dropped.

A reconnection (a new `/ws` connection with the seat's token) replaces the older connection: the new one
gets INITIALIZE with the current state, then the open request (if any) with the whole talk of the day.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from actors.messages import (
    ActionRejected,
    Deliver,
    GameFinished,
    RequestAction,
    SubmitAction,
)
from engine import Abstain, Action, GameConfig
from net.aiwolf.packets import AIWolfView, Packet, Pending
from net.codec import json_bytes, text_frame
from net.errors import CLOSE_GAME_OVER, CLOSE_POLICY, CLOSE_REPLACED
from net.protocol import Act, ErrorCode
from net.seats import Client, RemoteSeat

logger = logging.getLogger(__name__)

#: Requests kept waiting for a reply (an agent that never answers must not make the seat hold more).
MAX_UNANSWERED = 64
WRONG_PROTOCOL = "this seat is reserved for an AIWolf NLP agent: connect to /ws"


def packet_frame(packet: Packet) -> bytes:
    """One packet as a WebSocket text frame."""
    return text_frame(json_bytes(packet))


class AIWolfSeat(RemoteSeat):
    """A seat whose agent speaks the AIWolf NLP protocol (see the module docstring)."""

    def __init__(self, *args: Any, config: GameConfig, **kwargs: Any) -> None:
        """As `RemoteSeat`, plus the game's (public) config, which the AIWolf `setting` describes."""
        super().__init__(*args, **kwargs)
        self.config = config
        #: Each request's deadline, as AIWolf's `setting.timeout.action` (set by the host before the game).
        self.action_timeout_s = 30.0
        self._view: AIWolfView | None = None
        self._open: Pending | None = None  # the request of the current phase still to be answered
        self._asked: deque[Pending] = deque()  # sent to the agent, not yet answered, oldest first

    def __str__(self) -> str:
        return f"AIWolfSeat({self.game_id}/{self.player})"

    @property
    def view(self) -> AIWolfView:
        """This seat's AIWolf view (made at the first message, when the deadline setting is known)."""
        if self._view is None:
            self._view = AIWolfView(self.config, self.player, self.game_id, self.action_timeout_s)
        return self._view

    def receive(self, message: Any) -> None:
        """Messages from the game master (Trio thread)."""
        match message:
            case Deliver(events=events):
                self._send(self.view.on_events(events))
            case RequestAction(phase_id=phase_id, observation=obs, choices=choices):
                if self.master is None:
                    self.bind(message.reply_to)
                self._request, self._requested_at = message, self._clock()
                asked = self.view.request(obs.phase, phase_id, choices)
                if isinstance(asked, Pending):
                    self._open = asked
                    self._ask(asked)
                else:
                    self._open = None
                    self._submit(phase_id, asked)
            case ActionRejected(phase_id=phase_id, retry=True) if self._request is not None:
                # An illegal answer (the fault is counted by the game master): AIWolf agents are not
                # asked twice, so the seat abstains now instead of holding the phase to its deadline.
                if phase_id == self._request.phase_id:
                    self._submit(phase_id, Abstain())
            case ActionRejected():
                pass
            case GameFinished():
                self._request = self._open = None
                self._finished = b"finished"
                if self.client is not None:
                    self.client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
            case _:
                logger.warning("%s: unexpected message %r", self, message)

    def _send(self, packets: list[Packet]) -> None:
        if self.client is not None and packets:
            self.client.connection.send_nowait(b"".join(packet_frame(p) for p in packets))

    def _ask(self, pending: Pending) -> None:
        if self.client is None or self._request is None or self._request.deadline <= self._clock():
            return
        if len(self._asked) >= MAX_UNANSWERED:
            self.client.send_error(
                ErrorCode.RATE_LIMITED, "too many requests left unanswered", close_code=CLOSE_POLICY
            )
            return
        self._asked.append(pending)
        self._send([self.view.request_packet(pending)])

    def _submit(self, phase_id: int, action: Action) -> None:
        if self.master is None or self._given_up:
            return
        self.master.tell(
            SubmitAction(
                game_id=self.game_id,
                phase_id=phase_id,
                player=self.player,
                action=action,
                thought_s=self._clock() - self._requested_at,
            )
        )

    def reply(self, client: Client, text: str) -> None:
        """A text frame from this seat's agent: the answer to the oldest request it has not answered."""
        if client is not self.client:
            return
        if not self._asked:
            logger.info("%s: a reply to no request was dropped", self)
            return
        pending = self._asked.popleft()
        if pending is not self._open or self._given_up:
            return  # late: its phase is over
        self._open = None
        self._submit(pending.phase_id, self.view.reply(pending, text))

    def attach(self, client: Client, resume_from: int = 0) -> None:
        """A connection presented this seat's token: replace any older one and bring it up to date."""
        if not getattr(client, "aiwolf", False):
            client.send_error(ErrorCode.NOT_YOUR_SEAT, WRONG_PROTOCOL, close_code=CLOSE_POLICY)
            return
        if self.client is not None and self.client is not client:
            self.client.send_error(
                ErrorCode.REPLACED, "a newer connection took this seat", close_code=CLOSE_REPLACED
            )
        self.client = client
        self._generation += 1
        self._asked.clear()
        self.connected.set()
        self._send(self.view.resync())
        if self._finished is not None:
            client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
        elif self._open is not None:
            self._ask(self._open)

    def act(self, client: Client, frame: Act) -> None:
        """Our protocol's `act` frames have no place on an AIWolf seat."""
        client.send_error(ErrorCode.NOT_YOUR_SEAT, WRONG_PROTOCOL, close_code=CLOSE_POLICY)

    def give_up(self, reason: str) -> None:
        """As `RemoteSeat.give_up`; the open request is abandoned too."""
        self._open = None
        super().give_up(reason)
