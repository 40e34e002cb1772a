"""Hosting games: the one entry point `run.py`, the tests and the benchmarks use to host a game.

A `Host` holds what its games share: the host secret (every game it hosts is keyed with
`engine.game_key`, so its deal stays secret from anyone who knows the seed), one scheduler and its
clock, and optionally a started `NetworkServer`. `Host.open_game` puts one game on it and returns a
`HostedGame`, which owns everything that game needs:

- its remote seats (a seat given as None) with their secret tokens and the spectator hubs, registered
  with the server (`net.game_network.GameNetwork`, told the scheduler's clock: request deadlines are in it);
- `wait_for_agents`: waits for the remote agents and gives every seat nobody took to a built-in agent,
  each seeded from its own stream (`engine.seat_seed`);
- `start`: the game's actors (`actors.runner.start_game`) on the shared scheduler, its log, its
  observers; `stop` stops every actor it started, and `close` also makes the server forget the game.

Several games at once share the host's server and scheduler: open them, start them, wait for each.
`with Host(...)` and `with host.open_game(...)` stop everything on the way out, whatever happens.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import threading
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

from actors.agents import Agent
from actors.heuristic import HeuristicAgent
from actors.messages import GameFinished, Recipient, View
from actors.runner import RunningGame, SeatOccupant, start_game
from actors.scheduler import Scheduler, ThreadingScheduler
from engine import GameConfig, PlayerId, Role, game_key, seat_seed
from net.aiwolf import AIWolfSeat, aiwolf_problem
from net.exposure import tls_context, url_host
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig

logger = logging.getLogger(__name__)

#: Seed -> the built-in agent that takes a remote seat nobody came to.
Fallback = Callable[[int], Agent]
FORGET_WAIT_S = 10.0  # bound on waiting for the server to forget a closed game


def start_server(
    config: ServerConfig,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    any_port_if_taken: bool = False,
) -> NetworkServer:
    """Start the server games are hosted on: TLS (wss://) from a PEM certificate chain and key; with
    `any_port_if_taken`, a free port when `config.port` is taken. Raises ValueError saying why not."""
    if keyfile and not certfile:
        raise ValueError("--keyfile needs --certfile")
    try:
        tls = tls_context(certfile, keyfile) if certfile else None
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"--certfile/--keyfile: {exc}") from None
    ports = [config.port, 0] if any_port_if_taken else [config.port]
    last: OSError | None = None
    for port in ports:
        server = NetworkServer(dataclasses.replace(config, port=port, ssl_context=tls))
        try:
            server.start()
        except OSError as exc:
            last = exc
            continue
        return server
    reason = (last.strerror or last) if last is not None else "unknown"
    raise ValueError(f"cannot listen on {config.host}:{ports[-1]}: {reason}")


class Host:
    """What the games of one process share: the host secret, a scheduler, optionally a server.

    The server (if any) is the caller's: started before, stopped after. The scheduler is made here
    unless one is given, and then closed by `close`.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        server: NetworkServer | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        """`secret`: the host's secret (`actors.host_secret.load_host_secret`), at least 16 bytes."""
        game_key(secret, 0)  # refuses a secret too short now, not at the first game
        self._secret = secret
        self.server = server
        self._own_scheduler = scheduler is None
        self.scheduler: Scheduler = scheduler if scheduler is not None else ThreadingScheduler()
        self.games: list[HostedGame] = []  # opened and not yet stopped

    def key(self, seed: int) -> bytes:
        """The secret key of game `seed` on this host."""
        return game_key(self._secret, seed)

    def open_game(
        self,
        config: GameConfig,
        seats: Mapping[PlayerId, SeatOccupant | None],
        *,
        seed: int,
        game_id: str | None = None,
        grace_s: float = 30.0,
        fallback: Fallback = HeuristicAgent,
        aiwolf: Collection[PlayerId] = (),
    ) -> HostedGame:
        """Put one game on this host: `seats` maps every player to an agent, a recipient that answers
        requests itself, or None for a remote seat (which needs the server); the remote seats in `aiwolf`
        are for AIWolf NLP agents (docs/aiwolf.md). Nothing runs yet."""
        game = HostedGame(
            self, config, seats, seed=seed, game_id=game_id, grace_s=grace_s, fallback=fallback, aiwolf=aiwolf
        )
        self.games.append(game)
        return game

    def close(self) -> None:
        """Stop every game's actors, then an own scheduler. Idempotent."""
        for game in list(self.games):
            game.stop()
        if self._own_scheduler and isinstance(self.scheduler, ThreadingScheduler):
            self.scheduler.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HostedGame:
    """One game on a `Host`: its seats, its network side, its actors once started."""

    def __init__(
        self,
        host: Host,
        config: GameConfig,
        seats: Mapping[PlayerId, SeatOccupant | None],
        *,
        seed: int,
        game_id: str | None,
        grace_s: float,
        fallback: Fallback,
        aiwolf: Collection[PlayerId] = (),
    ) -> None:
        missing = set(config.players) - set(seats)
        if missing:
            raise ValueError(f"no agent for seat(s) {', '.join(sorted(missing))}")
        remote = [p for p in config.players if seats[p] is None]
        if set(aiwolf) - set(remote):
            raise ValueError("an AIWolf seat must be a remote seat (given as None)")
        problem = aiwolf_problem(config) if aiwolf else None
        if problem is not None:
            raise ValueError(problem)
        if remote and host.server is None:
            raise ValueError("remote seats need a network server")
        self.host = host
        self.config = config
        self.seed = seed
        self.key = host.key(seed)
        self.game_id = game_id or uuid.uuid4().hex[:12]
        self.seats: dict[PlayerId, SeatOccupant | None] = {p: seats[p] for p in config.players}
        self._fallback = fallback
        self.network: GameNetwork | None = None
        if host.server is not None:
            self.network = GameNetwork(
                host.server,
                self.game_id,
                remote,
                grace_s=grace_s,
                clock=host.scheduler.now,
                aiwolf=aiwolf,
                config=config,
            )
        self.running: RunningGame | None = None

    @property
    def tokens(self) -> dict[PlayerId, str]:
        """The secret token of each remote seat still open."""
        return {p: s.token for p, s in self.network.seats.items()} if self.network else {}

    @property
    def aiwolf_tokens(self) -> dict[PlayerId, str]:
        """The secret token of each remote seat still open for an AIWolf NLP agent."""
        seats = self.network.seats if self.network else {}
        return {p: s.token for p, s in seats.items() if isinstance(s, AIWolfSeat)}

    def aiwolf_url(self, host: str) -> str:
        """The URL AIWolf NLP agents connect to (`ws://HOST:PORT/ws`); each gives its seat's token."""
        if self.network is None:
            raise ValueError("this game has no network server")
        return self.network.aiwolf_url(host)

    def url(self, host: str, client_id: str, client_type: str, token: str | None = None) -> str:
        """A WebSocket URL to this game's server (see `GameNetwork.url`)."""
        if self.network is None:
            raise ValueError("this game has no network server")
        return self.network.url(host, client_id, client_type, token)

    def page_url(self, host: str, *, token: str | None = None, seat: PlayerId | None = None) -> str:
        """A link to the browser page served by this game's server (net/web.py): with a seat's token and
        name, the page plays that seat; with the admin token, it shows the full view. The token goes in
        the fragment, which browsers never send to any server: the page reads it and sends it only in
        its `hello`."""
        if self.network is None:
            raise ValueError("this game has no network server")
        server = self.network.server
        scheme = "https" if server.config.ssl_context is not None else "http"
        fragment = urlencode({k: v for k, v in (("seat", seat), ("token", token)) if v is not None})
        return f"{scheme}://{url_host(host)}:{server.port}/" + (f"#{fragment}" if fragment else "")

    def wait_for_agents(self, timeout: float) -> list[PlayerId]:
        """Wait (not from an actor or the Trio thread) up to `timeout` s for every remote agent; give
        each seat nobody took to the fallback agent (its own seat seed). Returns those seats."""
        if self.network is None or not self.network.seats:
            return []
        missing = self.network.wait_for_agents(timeout)
        self.network.release(missing)
        for player in missing:
            index = self.config.players.index(player)
            self.seats[player] = self._fallback(seat_seed(self.key, self.seed, index))
        return missing

    def start(
        self,
        *,
        timeout_s: float = 30.0,
        log_path: Path | None = None,
        observers: Sequence[tuple[Recipient, View]] = (),
        roles: Mapping[PlayerId, Role] | None = None,
        seat_timeouts: Mapping[PlayerId, float] | None = None,
        pace_s: float = 0.0,
        hidden_turn_s: float | None = None,
    ) -> RunningGame:
        """Start the game's actors on the host's scheduler: `timeout_s` is each phase's deadline (a seat
        of `seat_timeouts` has its own: a person's); `pace_s` the minimum time between two public
        phases' requests, for people watching (0: none); `hidden_turn_s` the time each hidden turn is
        given so that timings hide what it hides (`actors.cover`; None: automatic, 0: off); the
        spectator hubs and `observers` subscribe to their views."""
        if self.running is not None:
            raise RuntimeError(f"game {self.game_id} is already started")
        remote = self.network.seats if self.network else {}
        for remote_seat in remote.values():
            if isinstance(remote_seat, AIWolfSeat):  # before any message: its `setting` tells the deadline
                remote_seat.action_timeout_s = timeout_s
        seats: dict[PlayerId, SeatOccupant] = {}
        for player, seat in self.seats.items():
            seats[player] = seat if seat is not None else remote[player]
        hubs = self.network.observers if self.network else []
        self.running = start_game(
            self.config,
            seats,
            seed=self.seed,
            key=self.key,
            timeout_s=timeout_s,
            scheduler=self.host.scheduler,
            log_path=log_path,
            observers=[*hubs, *observers],
            roles=roles,
            game_id=self.game_id,
            seat_timeouts={p: t for p, t in (seat_timeouts or {}).items() if p in remote},
            pace_s=pace_s,
            hidden_turn_s=hidden_turn_s,
        )
        if self.network is not None:
            self.network.bind(self.running.master)
        return self.running

    def wait(self, timeout: float | None = None) -> GameFinished:
        """Block until the game is over; raises `actors.runner.GameTimeout` after `timeout` s."""
        if self.running is None:
            raise RuntimeError(f"game {self.game_id} is not started")
        return self.running.wait(timeout)

    def play(
        self,
        *,
        join_timeout_s: float = 0.0,
        wait_s: float | None = None,
        timeout_s: float = 30.0,
        log_path: Path | None = None,
        observers: Sequence[tuple[Recipient, View]] = (),
        seat_timeouts: Mapping[PlayerId, float] | None = None,
        pace_s: float = 0.0,
        hidden_turn_s: float | None = None,
    ) -> GameFinished:
        """Wait for the remote agents, start, wait for the end (at most `wait_s`), stop every actor
        whatever happens."""
        self.wait_for_agents(join_timeout_s)
        try:
            self.start(
                timeout_s=timeout_s,
                log_path=log_path,
                observers=observers,
                seat_timeouts=seat_timeouts,
                pace_s=pace_s,
                hidden_turn_s=hidden_turn_s,
            )
            return self.wait(wait_s)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the game's actors (the server keeps the game for late readers). Idempotent."""
        if self.running is not None:
            self.running.stop()
        if self in self.host.games:  # a long-lived host does not keep every game it hosted
            self.host.games.remove(self)

    def close(self, *, wait: bool = False) -> None:
        """Stop, then make the server forget the game (a long-lived server must not keep every game's
        frames); with `wait`, return once it has."""
        self.stop()
        server = self.host.server
        if self.network is None or server is None:
            return
        self.network.close()
        if wait:
            done = threading.Event()
            server.call_soon(done.set)  # the Trio thread runs its callbacks in order: close came first
            if not done.wait(FORGET_WAIT_S):
                raise RuntimeError(f"the server did not forget game {self.game_id}")

    def __enter__(self) -> HostedGame:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
