"""The hosting API (`net/hosting.py`): the example in docs/architecture.md runs, games share one server
and one scheduler, remote seats are keyed and clocked by the host, and every actor is stopped."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from actors.agents import RandomAgent
from actors.heuristic import HeuristicAgent
from actors.runner import RunningGame
from actors.scheduler import ManualScheduler
from engine import Game, preset, seat_seed
from net.hosting import Host, start_server
from net.server import NetworkServer, ServerConfig
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.netutil import HOST, WAIT_S

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
CONFIG = preset("aiwolf-5")
SECRET = bytes(range(32))


def test_the_architecture_example_hosts_two_games_at_once():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text[text.index("## Hosting games") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "docs/architecture.md lost its hosting example"
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)  # our own documentation, on purpose
    results, games, host = namespace["results"], namespace["games"], namespace["host"]
    assert len(results) == 2  # type: ignore[arg-type]
    assert all(finished.outcome is not None for finished in results)  # type: ignore[attr-defined]
    assert len({game.game_id for game in games}) == 2  # type: ignore[attr-defined]
    for game in games:  # type: ignore[attr-defined]
        assert game.host is host
        assert game.running is not None
        assert not game.running.master.is_alive()
        first = game.config.players[0]
        assert isinstance(game.seats[first], HeuristicAgent)  # nobody came: the built-in agent


def test_two_games_share_the_server_and_the_scheduler_and_a_remote_agent_plays_one(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    server = make_server(ServerConfig(port=0))
    with Host(SECRET, server=server) as host:
        remote = host.open_game(
            CONFIG, {p: None if i == 0 else RandomAgent(i) for i, p in enumerate(CONFIG.players)}, seed=3
        )
        local = host.open_game(CONFIG, {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}, seed=4)
        ((player, token),) = remote.tokens.items()
        client = RecordingAgent(remote.url(HOST, "sdk", "agent"), token=token, receive_timeout=0.2)
        agent = AgentThread(player, client, rng=random.Random(1)).start()
        assert remote.wait_for_agents(WAIT_S) == []
        for game in (remote, local):
            game.start(timeout_s=10.0)
        finished = [remote.wait(60.0), local.wait(60.0)]
        assert agent.thread is not None
        agent.thread.join(WAIT_S)
        assert agent.error is None
        assert agent.over is not None
        assert agent.over.game_id == remote.game_id
        assert remote.running is not None
        assert local.running is not None
        assert remote.running._scheduler is local.running._scheduler is host.scheduler
    assert all(f.outcome is not None for f in finished)
    assert not remote.running.master.is_alive()
    assert not local.running.master.is_alive()
    assert remote.key != local.key


def test_each_empty_remote_seat_gets_the_fallback_with_its_own_seed(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    seeds: list[int] = []

    def fallback(seed: int) -> RandomAgent:
        seeds.append(seed)
        return RandomAgent(seed)

    with Host(SECRET, server=make_server(ServerConfig(port=0))) as host:
        seats = {p: None if i in (1, 3) else RandomAgent(i) for i, p in enumerate(CONFIG.players)}
        game = host.open_game(CONFIG, seats, seed=9, fallback=fallback)
        assert len(game.tokens) == 2
        assert game.wait_for_agents(0.05) == [CONFIG.players[1], CONFIG.players[3]]
        assert game.tokens == {}  # released: a late agent is told so
        finished = game.play(wait_s=60.0)
    assert seeds == [seat_seed(game.key, 9, 1), seat_seed(game.key, 9, 3)]
    assert finished.outcome is not None


def test_remote_seats_take_the_hosts_clock():
    """The network side is given the scheduler's clock, never assumed to be time.monotonic."""
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    try:
        scheduler = ManualScheduler()
        host = Host(SECRET, server=server, scheduler=scheduler)
        game = host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=1)
        assert game.network is not None
        assert {seat._clock for seat in game.network.seats.values()} == {scheduler.now}
        host.close()
    finally:
        server.stop()


def test_the_deal_is_keyed_by_the_host_secret():
    with Host(SECRET) as host:
        game = host.open_game(CONFIG, {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}, seed=7)
        finished = game.play(wait_s=60.0)
        assert host.games == []  # stopped: a long-lived host does not keep every game it hosted
    keyed = Game.new(CONFIG, seed=7, key=host.key(7))
    assert finished.roles == {p: keyed.role_of(p) for p in CONFIG.players}
    assert finished.game_id == game.game_id


def test_bad_hosting_requests_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="host secret"):
        Host(b"short")
    with Host(SECRET) as host:
        with pytest.raises(ValueError, match="remote seats need a network server"):
            host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=1)
        with pytest.raises(ValueError, match="no agent for seat"):
            host.open_game(CONFIG, {CONFIG.players[0]: RandomAgent(0)}, seed=1)


def test_every_actor_is_stopped_when_the_host_block_fails():
    players = {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}
    started: list[RunningGame] = []

    def host_and_fail() -> None:
        with Host(SECRET) as host:
            started.append(host.open_game(CONFIG, players, seed=2).start(timeout_s=60.0))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        host_and_fail()
    (running,) = started
    assert not running.master.is_alive()
    assert not any(ref.is_alive() for ref in running.players.values())


def test_start_server_takes_a_free_port_only_when_asked_and_says_why_not(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    taken = make_server(ServerConfig(host=HOST, port=0)).port
    with pytest.raises(ValueError, match=f"cannot listen on {HOST}:{taken}"):
        start_server(ServerConfig(host=HOST, port=taken))
    other = start_server(ServerConfig(host=HOST, port=taken), any_port_if_taken=True)
    try:
        assert other.port not in (0, taken)
    finally:
        other.stop()
    with pytest.raises(ValueError, match="--keyfile needs --certfile"):
        start_server(ServerConfig(host=HOST, port=0), keyfile=Path("key.pem"))
