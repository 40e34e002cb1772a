"""AIWolf NLP agents take seats (net/aiwolf/): official-client agents play whole aiwolf-5 and aiwolf-13
games on `/ws`, every packet parses with `aiwolf_nlp_common`, and a mixed table plays to the end."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from aiwolf_nlp_common.packet import Packet, Request

from actors.messages import GameFinished
from engine import preset
from net.hosting import Host
from net.server import NetworkServer, ServerConfig
from tests.net.aiwolf_agent import AIWolfAgent, check_shape
from tests.net.netutil import HOST, WAIT_S

SECRET = bytes(range(32))
GAME_WAIT_S = 90.0


def play_aiwolf_game(
    server: NetworkServer, preset_name: str, seed: int, **rules: object
) -> tuple[GameFinished, list[AIWolfAgent], dict]:
    config = preset(preset_name).with_rules(**rules)
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, dict.fromkeys(config.players), seed=seed, aiwolf=config.players)
        url = game.aiwolf_url(HOST)
        agents = [
            AIWolfAgent(url, token, f"team{i}", rng=random.Random(i)).start()
            for i, (_, token) in enumerate(game.aiwolf_tokens.items())
        ]
        assert game.wait_for_agents(WAIT_S) == []
        game.start(timeout_s=10.0)
        finished = game.wait(GAME_WAIT_S)
        roles = finished.roles
    for agent in agents:
        agent.join(WAIT_S)
        assert agent.error is None, agent.error
    return finished, agents, roles


@pytest.mark.parametrize(("preset_name", "seed"), [("aiwolf-5", 1), ("aiwolf-13", 2)])
def test_official_client_agents_play_a_whole_game(
    make_server: Callable[[ServerConfig], NetworkServer], preset_name: str, seed: int
):
    finished, agents, roles = play_aiwolf_game(make_server(ServerConfig(port=0)), preset_name, seed)
    assert finished.outcome is not None
    assert sum(finished.faults.values()) == 0
    seen: Counter[Request] = Counter()
    for agent in agents:
        for data in agent.raw:
            check_shape(data)
            Packet.from_dict(data)
        seen.update(agent.requests)
        assert agent.requests[:3] == [Request.NAME, Request.INITIALIZE, Request.DAILY_INITIALIZE]
        assert agent.requests[-1] is Request.FINISH
        finish = agent.packets[-1]
        assert finish.info is not None
        assert len(finish.info.role_map) == len(roles)  # every role, at the end
    for request in (Request.TALK, Request.VOTE, Request.DIVINE, Request.ATTACK, Request.DAILY_FINISH):
        assert seen[request] > 0, request
    if preset_name == "aiwolf-13":
        assert seen[Request.WHISPER] > 0
        assert seen[Request.GUARD] > 0


@pytest.mark.parametrize("preset_name", ["aiwolf-5", "aiwolf-13"])
def test_with_day_zero_agents_talk_on_day_0_and_nobody_is_attacked_on_night_0(
    make_server: Callable[[ServerConfig], NetworkServer], preset_name: str
):
    finished, agents, _ = play_aiwolf_game(make_server(ServerConfig(port=0)), preset_name, 3, day_zero=True)
    assert finished.outcome is not None
    assert sum(finished.faults.values()) == 0
    for agent in agents:
        assert agent.requests[:3] == [Request.NAME, Request.INITIALIZE, Request.DAILY_INITIALIZE]
        day0 = [p for p in agent.packets if p.info is not None and p.info.day == 0]
        assert all(p.request is not Request.ATTACK and p.request is not Request.GUARD for p in day0)
        assert all(p.request is not Request.VOTE for p in day0)
        alive = agent.requests[3] is Request.TALK
        assert alive  # everybody is alive on day 0 and talks first
    first_night_deaths = [e for e in finished.record["events"] if e["type"] == "day_broke" and e["day"] == 1]
    assert first_night_deaths[0]["deaths"] == []
