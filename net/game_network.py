"""The network side of one hosted game: its remote seats (with their secret tokens) and spectator hubs.

The network half of `net.hosting.HostedGame` (the API that hosts games): reserve seats before the game
starts, wait for the agents (seats nobody took can be released and given to built-in agents), then
pass the seats and the hubs to `actors.runner.start_game` like any other seats and subscribers.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection, Iterable

from actors.messages import FULL_VIEW, PUBLIC_VIEW, Recipient, View
from engine import GameConfig, PlayerId
from net.aiwolf.seat import AIWolfSeat
from net.exposure import url_host
from net.lobby import GameEntry
from net.seats import RemoteSeat, ViewHub
from net.server import NetworkServer


class GameNetwork:
    """Remote seats and spectator hubs of one game, registered with a running `NetworkServer`."""

    def __init__(
        self,
        server: NetworkServer,
        game_id: str,
        remote_players: Iterable[PlayerId],
        *,
        grace_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        aiwolf: Collection[PlayerId] = (),
        config: GameConfig | None = None,
    ) -> None:
        """Create the seats (one secret token each) and the hubs, and register them with the server.

        `clock` must be the game's scheduler clock: requests carry deadlines in it. The seats of `aiwolf`
        (among `remote_players`) are for AIWolf NLP agents (net/aiwolf/), which need the game's `config`.
        """
        assert server.bridge is not None  # the server must be started
        self.server = server
        self.game_id = game_id
        self.seats: dict[PlayerId, RemoteSeat] = {}
        for p in remote_players:
            kind: type[RemoteSeat] = RemoteSeat
            extra: dict[str, GameConfig] = {}
            if p in aiwolf:
                if config is None:
                    raise ValueError("AIWolf seats need the game's config")
                kind, extra = AIWolfSeat, {"config": config}
            self.seats[p] = kind(
                server.bridge,
                game_id=game_id,
                player=p,
                token=secrets.token_urlsafe(12),
                grace_s=grace_s,
                spawn=server.spawn,
                clock=clock,
                **extra,
            )
        self.hubs: dict[View, ViewHub] = {
            view: ViewHub(server.bridge, game_id=game_id, view=view) for view in (PUBLIC_VIEW, FULL_VIEW)
        }
        entry = GameEntry(game_id, {s.token: s for s in self.seats.values()}, dict(self.hubs))
        # Waited for: a spectator who connects once this returns (a URL just printed) must find this
        # game, not the one before it.
        server.call(server.lobby.add_game, entry)

    def url(self, host: str, client_id: str, client_type: str, token: str | None = None) -> str:
        """A WebSocket URL of this server (`wss://` when it serves TLS)."""
        query = f"?client_type={client_type}" + (f"&token={token}" if token else "")
        scheme = "wss" if self.server.config.ssl_context is not None else "ws"
        return f"{scheme}://{url_host(host)}:{self.server.port}/ws/{client_id}{query}"

    def aiwolf_url(self, host: str) -> str:
        """The URL AIWolf NLP agents connect to (the seat's token goes in `?token=` or a Bearer header)."""
        scheme = "wss" if self.server.config.ssl_context is not None else "ws"
        return f"{scheme}://{url_host(host)}:{self.server.port}/ws"

    def wait_for_agents(self, timeout: float) -> list[PlayerId]:
        """Block (not in an actor or the Trio thread) until every remote seat is taken or `timeout`
        passes; returns the seats still empty."""
        deadline = time.monotonic() + timeout
        for seat in self.seats.values():
            seat.connected.wait(max(0.0, deadline - time.monotonic()))
        return [p for p, seat in self.seats.items() if not seat.connected.is_set()]

    def release(self, players: Iterable[PlayerId]) -> None:
        """Give up these seats before the game starts (built-in agents play them): an agent holding one
        now, or coming later with its token, gets `seat_released` and is closed."""
        for player in list(players):
            seat = self.seats.pop(player)
            self.server.call_soon(self.server.lobby.release_seat, seat.token)

    def bind(self, master: Recipient) -> None:
        """Tell the seats who the game master is (so a lost seat can be reported before any request)."""
        for seat in self.seats.values():
            self.server.call_soon(seat.bind, master)

    def close(self) -> None:
        """Forget this game on the server (after it ended): a long-lived server must not keep every
        game's frames. Clients still connected keep what they have; new ones get `no_game`."""
        self.server.call_soon(self.server.lobby.remove_game, self.game_id)

    @property
    def observers(self) -> list[tuple[Recipient, View]]:
        """The hubs, as `start_game` observers."""
        return [(hub, view) for view, hub in self.hubs.items()]
