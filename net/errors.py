"""Protocol errors (h11 shape): whose fault it is, and what to tell or do to the peer."""

from __future__ import annotations

from engine import WerewolfError
from net.protocol import ErrorCode

#: WebSocket close codes we use (RFC 6455 section 7.4, plus our application range 4000-4999).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN_LATER = 1013  # the server is overloaded (here: the shared budget for unfinished messages)
CLOSE_GAME_OVER = 4000
CLOSE_REPLACED = 4001
CLOSE_SEAT_RELEASED = 4002  # the host gave the seat to a built-in agent before the game started
CLOSE_BAD_TOKEN = 4003


class ProtocolError(WerewolfError):
    """Abstract: something is wrong with a frame. Never raised directly.

    Attributes:
        detail: plain words for the peer.
        code: the `error` frame's code.
        close_code: the WebSocket close code to use if the connection must end (None: keep it open).
    """

    def __init__(self, detail: str, *, code: ErrorCode, close_code: int | None = None) -> None:
        super().__init__(detail)
        if type(self) is ProtocolError:
            raise TypeError("raise LocalProtocolError or RemoteProtocolError, not ProtocolError")
        self.detail = detail
        self.code = code
        self.close_code = close_code


class LocalProtocolError(ProtocolError):
    """We tried to send something invalid: our bug, so it is loud."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something invalid: tell it (`error` frame) and maybe close."""
