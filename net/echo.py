"""The echo route, for WebSocket conformance testing only (off unless `ServerConfig(echo=True)`).

`GET /ws/{id}?client_type=echo` gets an `EchoSession`: every complete text or binary message comes
back unchanged, framed by `net.codec` and queued on the same `Connection` the game uses, so the
Autobahn|Testsuite fuzzing client (conformance/) exercises our real reassembly, limits and close
handling. No hello, no game: the session lives as long as its connection.
"""

from __future__ import annotations

from net.codec import binary_frame, text_frame
from net.connection import Connection
from net.lobby import Lobby

#: The `client_type` that asks for an echo session.
ECHO = "echo"


class EchoSession:
    """One echo connection (Trio thread)."""

    def __init__(self, lobby: Lobby, connection: Connection) -> None:
        """Wire the connection's callbacks to echo what arrives."""
        self.lobby = lobby
        self.connection = connection
        connection.on_message = self._on_text
        connection.on_bytes = self._on_bytes
        connection.lift_message_limit()  # no hello here: every message may be `max_message` bytes

    def _on_text(self, text: str) -> None:
        self.connection.send_nowait(text_frame(text.encode()))

    def _on_bytes(self, data: bytes) -> None:
        self.connection.send_nowait(binary_frame(data))

    async def run(self) -> None:
        """Echo until the connection ends; the server's shutdown closes it like any other (1001)."""
        self.lobby.echoes.add(self.connection)
        try:
            await self.connection.run()
        finally:
            self.lobby.echoes.discard(self.connection)
