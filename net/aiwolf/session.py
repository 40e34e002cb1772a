"""One AIWolf NLP agent's connection (`GET /ws`): the NAME handshake, the seat's token, then its replies.

The server speaks first, as AIWolf's does: `{"request":"NAME"}` right after the upgrade. The agent's first
text frame is its name (kept for logs and `/stats`, not used in the game: the in-game name is the seat's
`Agent[NN]`). The token comes from the URL (`?token=`) or an `Authorization: Bearer` header, and must be
the token of a seat reserved for an AIWolf agent. Every limit of our own connections holds: the name
must arrive within the hello timeout and fit the pre-hello message limit; a bad token counts against the
address like ours. AIWolf has no error packet, so a complaint is the close frame's code and reason.
"""

from __future__ import annotations

import logging
import re

import trio

from net.admission import Ticket
from net.aiwolf.seat import AIWolfSeat, packet_frame
from net.connection import Connection
from net.errors import CLOSE_POLICY
from net.lobby import ClientSession, Lobby
from net.protocol import ClientType, ErrorCode

logger = logging.getLogger(__name__)

CLOSE_UNSUPPORTED_DATA = 1003  # RFC 6455 7.4.1: a binary frame where only text is accepted
MAX_NAME = 64  # characters of the agent's name kept (in `/stats` and logs)
_NOT_ID = re.compile(r"[^A-Za-z0-9_.\-]")
NAME_REQUEST = {"request": "NAME"}


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, if any."""
    for name, value in headers:
        if name.lower() == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].decode("latin-1").strip()
    return None


class AIWolfSession(ClientSession):
    """An AIWolf agent's socket: asks its NAME, binds it to its seat, passes its replies on."""

    #: Seats check this: an AIWolf seat takes only AIWolf connections.
    aiwolf = True

    def __init__(
        self, lobby: Lobby, connection: Connection, token: str | None, *, ticket: Ticket | None
    ) -> None:
        """Wire the connection to this session (Trio thread)."""
        # await_hello: an AIWolf agent is bound by its NAME reply, never from its URL's token at once.
        super().__init__(
            lobby, connection, "aiwolf", ClientType.AGENT, token, ticket=ticket, await_hello=True
        )
        self.name: str | None = None

    def __str__(self) -> str:
        return f"AIWolfSession({self.client_id})"

    async def run(self) -> None:
        """Ask the name, then serve the socket until it closes."""
        self.connection.send_nowait(packet_frame(NAME_REQUEST))
        await super().run()

    async def _hello_deadline(self) -> None:
        await trio.sleep(self.lobby.hello_timeout)
        if not self._greeted:
            self.send_error(ErrorCode.HELLO_REQUIRED, "no reply to NAME in time", close_code=CLOSE_POLICY)

    def send_error(self, code: ErrorCode, message: str, *, close_code: int | None = None) -> None:
        """AIWolf agents read only packets: a complaint is logged, and closing ones close with the reason."""
        logger.info("%s: %s: %s", self, code, message)
        if close_code is not None:
            self.connection.close_nowait(close_code, message[:120])

    def _on_text(self, text: str) -> None:
        self._dropped = 0
        if self._greeted:
            if isinstance(self.seat, AIWolfSeat):
                self.seat.reply(self, text)
            return
        self._greeted = True
        self.name = text.strip()[:MAX_NAME]
        self.client_id = _NOT_ID.sub("_", self.name) or "aiwolf"
        seat = self._open_seat(self._url_token)
        if seat is None:
            return
        if not isinstance(seat, AIWolfSeat):
            self.send_error(
                ErrorCode.NOT_YOUR_SEAT,
                "this seat speaks the Loup-Garou protocol: connect to /ws/{client_id}",
                close_code=CLOSE_POLICY,
            )
            return
        if self.ticket is not None:
            self.ticket.settle()
        self.connection.lift_message_limit()
        self.seat = seat
        seat.attach(self, 0)

    def _on_binary(self) -> None:
        self.send_error(
            ErrorCode.BINARY_NOT_SUPPORTED,
            "AIWolf agents answer in text frames",
            close_code=CLOSE_UNSUPPORTED_DATA,
        )
