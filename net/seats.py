"""Trio-side actors the game master talks to: a remote seat, and a spectators' hub per view.

Both keep the frames of their view in order (`history`, indexed by sequence number), so a client
that reconnects gets everything it missed from its resume point, and a late spectator catches up.
Each event is serialised and framed once; a hub sends the same bytes to every connection it serves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import trio

from actors.messages import (
    ActionRejected,
    AgentFailed,
    Deliver,
    GameFinished,
    Recipient,
    RequestAction,
    SubmitAction,
    View,
)
from engine import PlayerId
from net.bridge import Bridge, TrioRecipient
from net.codec import event_dicts, game_over_dict, json_bytes, request_dict, text_frame, to_engine_action
from net.errors import CLOSE_GAME_OVER, CLOSE_REPLACED, CLOSE_SEAT_RELEASED
from net.protocol import Act, ErrorCode

if TYPE_CHECKING:
    from net.connection import Connection

logger = logging.getLogger(__name__)

SEAT_RELEASED = "nobody took this seat in time: the built-in agent plays it in this game"


class Client(Protocol):
    """What a seat or a hub needs of a client session."""

    connection: Connection

    def send_error(self, code: ErrorCode, message: str, *, close_code: int | None = None) -> None:
        """Send an `error` frame (and close with `close_code` if given)."""
        ...


def _frames(message: Deliver, history: list[bytes], owner: object) -> bytes:
    """Frame a delivery once, append it to `history`; returns the joined bytes to send."""
    if message.first_seq != len(history):
        logger.error("%s: delivery starts at %d, expected %d", owner, message.first_seq, len(history))
    frames = [text_frame(json_bytes(d)) for d in event_dicts(message.first_seq, message.events)]
    history.extend(frames)
    return b"".join(frames)


def _game_over(message: GameFinished) -> bytes:
    roles = {str(p): role.value for p, role in message.roles.items()}
    faults = {str(p): n for p, n in message.faults.items()}
    return text_frame(json_bytes(game_over_dict(message.game_id, message.outcome, roles, faults)))


class RemoteSeat(TrioRecipient):
    """A seat played over the network: the game master's recipient for that player.

    Holds the seat across connections: events and the open request wait for the agent; a newer
    connection with the same token replaces the older one; after `grace_s` without a connection the
    seat is given up (`AgentFailed`), and the game master plays its default actions from then on.
    """

    def __init__(
        self,
        bridge: Bridge,
        *,
        game_id: str,
        player: PlayerId,
        token: str,
        grace_s: float,
        spawn: Callable[[Callable[[], Any]], None],
        clock: Callable[[], float],
    ) -> None:
        """Build in any thread; everything else runs in the Trio thread."""
        super().__init__(bridge)
        self.game_id = game_id
        self.player = player
        self.token = token
        self.grace_s = grace_s
        self._spawn = spawn
        self._clock = clock
        self.history: list[bytes] = []
        self.client: Client | None = None
        self.master: Recipient | None = None
        self.connected = threading.Event()  # for the host, waiting for agents before the game starts
        self._request: RequestAction | None = None
        self._requested_at = 0.0
        self._finished: bytes | None = None
        self._given_up = False
        self._answered: int | None = None  # the phase of the last answer forwarded (until refused)
        self._lost: str | None = None
        self._generation = 0
        #: Given to a built-in agent before the game started: no game master will ever talk to it.
        self.released = False

    def __str__(self) -> str:
        return f"RemoteSeat({self.game_id}/{self.player})"

    def receive(self, message: Any) -> None:
        """Messages from the game master (Trio thread)."""
        match message:
            case Deliver():
                data = _frames(message, self.history, self)
                if self.client is not None:
                    self.client.connection.send_nowait(data)
            case RequestAction():
                if self.master is None:
                    self.bind(message.reply_to)
                self._request, self._requested_at = message, self._clock()
                self._send_request()
            case ActionRejected(phase_id=phase_id, reason=reason, retry=retry):
                if retry and self._answered == phase_id:  # illegal: open again until its deadline
                    self._answered = None
                if self.client is not None:
                    frame = {
                        "type": "rejected",
                        "message_type": "rejected",
                        "phase_id": phase_id,
                        "reason": reason,
                    }
                    self.client.connection.send_nowait(text_frame(json_bytes(frame)))
            case GameFinished():
                self._request = None
                self._finished = _game_over(message)
                if self.client is not None:
                    self.client.connection.send_nowait(self._finished)
                    self.client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
            case _:
                logger.warning("%s: unexpected message %r", self, message)

    def _send_request(self) -> None:
        # Only a request still worth answering: not answered (unless refused), not past its deadline.
        request = self._request
        if request is None or self.client is None or self._answered == request.phase_id:
            return
        if request.deadline <= self._clock():
            return
        frame = request_dict(request, seen=len(self.history), now=self._clock())
        self.client.connection.send_nowait(text_frame(json_bytes(frame)))

    def attach(self, client: Client, resume_from: int) -> None:
        """A connection with this seat's token said hello: replace any older one, catch it up."""
        if self.client is not None and self.client is not client:
            self.client.send_error(
                ErrorCode.REPLACED, "a newer connection took this seat", close_code=CLOSE_REPLACED
            )
        self.client = client
        self._generation += 1
        self.connected.set()
        client.connection.catch_up(self.history[resume_from:])
        if self._finished is not None:
            client.connection.send_nowait(self._finished)
            client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
        else:
            self._send_request()

    def release(self) -> None:
        """The host gave this seat to a built-in agent before the game started (Trio thread).

        An agent can have said hello in between (the host's wait ended while it was connecting): it
        is told why and closed, instead of staying welcomed to a seat nobody will ever ask anything.
        """
        self.released = True
        client, self.client = self.client, None
        if client is not None:
            client.send_error(ErrorCode.SEAT_RELEASED, SEAT_RELEASED, close_code=CLOSE_SEAT_RELEASED)

    def detach(self, client: Client) -> None:
        """That connection ended; keep the seat for `grace_s` seconds."""
        if self.client is not client:
            return
        self.client = None
        if self._finished is None and not self._given_up and not self.released:
            generation = self._generation
            try:
                self._spawn(lambda: self._grace(generation))
            except RuntimeError:  # the server is shutting down: no grace period to run
                logger.debug("%s: server closing, no grace timer", self)

    async def _grace(self, generation: int) -> None:
        await trio.sleep(self.grace_s)
        if self.client is None and generation == self._generation and self._finished is None:
            self.give_up(f"disconnected for more than {self.grace_s:g} s")

    def bind(self, master: Recipient) -> None:
        """Learn the game master (Trio thread); a seat lost before that is reported now."""
        self.master = master
        if self._lost is not None:
            self.give_up(self._lost)

    def give_up(self, reason: str) -> None:
        """Tell the game master this seat is lost; it plays default actions from now on."""
        if self._given_up:
            return
        if self.master is None:  # lost before the game started: report it once the master is known
            self._lost = reason
            return
        self._given_up = True
        phase_id = self._request.phase_id if self._request else 0
        self._request = None
        self.master.tell(
            AgentFailed(game_id=self.game_id, phase_id=phase_id, player=self.player, error=reason)
        )

    def act(self, client: Client, frame: Act) -> None:
        """An `act` frame from this seat's connection: check what only the seat knows, forward the rest."""
        if frame.player is not None and frame.player != self.player:
            client.send_error(
                ErrorCode.NOT_YOUR_SEAT,
                f"this connection plays {self.player}; it cannot act for {frame.player}",
            )
            return
        if self._given_up:
            reason = "this seat was given up after a disconnection: the game plays its default actions"
            frame_out = {
                "type": "rejected",
                "message_type": "rejected",
                "phase_id": frame.phase_id,
                "reason": reason,
            }
            client.connection.send_nowait(text_frame(json_bytes(frame_out)))
            return
        request = self._request
        if request is None or frame.phase_id != request.phase_id:
            current = f"the open request is for phase {request.phase_id}" if request else "no request is open"
            client.send_error(ErrorCode.STALE_PHASE, f"phase {frame.phase_id} is not open ({current})")
            return
        if self.master is None:
            return
        self._answered = frame.phase_id
        self.master.tell(
            SubmitAction(
                game_id=self.game_id,
                phase_id=frame.phase_id,
                player=self.player,
                action=to_engine_action(frame.action),
                thought_s=self._clock() - self._requested_at,
            )
        )


class ViewHub(TrioRecipient):
    """The spectators of one view of one game: frames each event once, sends the bytes to all."""

    def __init__(self, bridge: Bridge, *, game_id: str, view: View) -> None:
        """Build in any thread; subscribe it to the game master for `view`."""
        super().__init__(bridge)
        self.game_id = game_id
        self.view = view
        self.history: list[bytes] = []
        self.clients: list[Client] = []
        self._finished: bytes | None = None

    def __str__(self) -> str:
        return f"ViewHub({self.game_id}/{self.view})"

    def receive(self, message: Any) -> None:
        """Messages from the game master (Trio thread)."""
        match message:
            case Deliver():
                data = _frames(message, self.history, self)
                for client in self.clients:
                    client.connection.send_nowait(data)
            case GameFinished():
                self._finished = _game_over(message)
                for client in self.clients:
                    client.connection.send_nowait(self._finished)
                    client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
            case _:
                logger.warning("%s: unexpected message %r", self, message)

    def attach(self, client: Client, resume_from: int) -> None:
        """A spectator said hello: catch it up from `resume_from`, then keep it posted."""
        client.connection.catch_up(self.history[resume_from:])
        if self._finished is not None:
            client.connection.send_nowait(self._finished)
            client.connection.close_nowait(CLOSE_GAME_OVER, "game over")
        self.clients.append(client)

    def detach(self, client: Client) -> None:
        """That spectator left."""
        if client in self.clients:
            self.clients.remove(client)
