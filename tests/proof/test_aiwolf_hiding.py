"""Information hiding for AIWolf seats: an AIWolf agent never gets more than its role may know.

Whole aiwolf-5 and aiwolf-13 games, every seat an official-client AIWolf agent (tests/net/aiwolf_agent.py),
wolves whispering a marker. For every agent, every packet as received is checked:

- `role_map` names only the agent itself, plus the werewolves if it is one, until FINISH, which names all;
- `divine_result` only to the seer, `medium_result` only to the medium, each about a real judgement (the
  species matches the target's role); `whisper_history` and `attack_vote_list` only to werewolves;
- the whisper marker never appears in the raw text of any packet to a non-wolf;
- `talk_history` carries exactly the game's public speeches, each once, in order;
- AIWolf agents never see our own protocol's frames (each packet has a `request`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from aiwolf_nlp_common.packet import Packet, Request, Status

from actors.messages import GameFinished
from engine import ROLE_SPECS, GameConfig, PlayerId, Role, preset
from net.aiwolf import agent_name
from net.hosting import Host
from net.server import NetworkServer, ServerConfig
from tests.net.aiwolf_agent import AIWolfAgent, check_shape, sample_policy
from tests.net.netutil import HOST, WAIT_S, start_server

SECRET = bytes(range(32))
MARK = "WHISPER-SECRET"
GAMES = [("aiwolf-5", seed) for seed in range(4)] + [("aiwolf-13", seed) for seed in range(4)]


@pytest.fixture(scope="module")
def server() -> Iterator[NetworkServer]:
    started = start_server(ServerConfig(port=0))
    try:
        yield started
    finally:
        started.stop()


def whispering(agent: AIWolfAgent, packet: Packet) -> str | None:
    if packet.request is Request.WHISPER:
        return f"{MARK} {agent.name}"
    return sample_policy(agent, packet)


def play(
    server: NetworkServer, config: GameConfig, seed: int
) -> tuple[GameFinished, dict[PlayerId, AIWolfAgent]]:
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, dict.fromkeys(config.players), seed=seed, aiwolf=config.players)
        url = game.aiwolf_url(HOST)
        agents = {
            p: AIWolfAgent(url, token, f"a{i}", rng=random.Random(seed * 100 + i), policy=whispering).start()
            for i, (p, token) in enumerate(game.aiwolf_tokens.items())
        }
        assert game.wait_for_agents(WAIT_S) == []
        game.start(timeout_s=10.0)
        finished = game.wait(90.0)
    return finished, agents


@pytest.mark.parametrize(("preset_name", "seed"), GAMES)
def test_an_aiwolf_agent_learns_only_what_its_role_may(server: NetworkServer, preset_name: str, seed: int):
    config = preset(preset_name)
    finished, agents = play(server, config, seed)
    assert finished.outcome is not None
    roles = finished.roles
    names = {agent_name(i): p for i, p in enumerate(config.players)}
    wolves = {agent_name(i) for i, p in enumerate(config.players) if ROLE_SPECS[roles[p]].is_wolf}
    speeches = [
        e["text"] for e in finished.record["events"] if e["type"] == "spoke" and e["phase"] == "discussion"
    ]
    whispered = False
    for player, agent in agents.items():
        agent.join(WAIT_S)
        assert agent.error is None, agent.error
        me = agent_name(config.players.index(player))
        role = roles[player]
        is_wolf = me in wolves
        heard: list[str] = []
        for data, packet in zip(agent.raw, agent.packets, strict=True):
            check_shape(data)
            assert Packet.from_dict(data) == packet
            info = packet.info
            if info is None:
                assert packet.request is Request.NAME
                continue
            assert info.agent == me
            if packet.request is Request.FINISH:
                assert {n: r.value for n, r in info.role_map.items()} == {
                    agent_name(i): ROLE_AIWOLF[roles[p]] for i, p in enumerate(config.players)
                }
                continue
            expected = {me: ROLE_AIWOLF[role]} | (dict.fromkeys(wolves, "WEREWOLF") if is_wolf else {})
            assert {n: r.value for n, r in info.role_map.items()} == expected
            if info.divine_result is not None:
                assert role is Role.SEER
                target = names[info.divine_result.target]
                assert (info.divine_result.result.value == "WEREWOLF") == ROLE_SPECS[
                    roles[target]
                ].seen_as_wolf
            if info.medium_result is not None:
                assert role is Role.MEDIUM
                target = names[info.medium_result.target]
                assert (info.medium_result.result.value == "WEREWOLF") == ROLE_SPECS[
                    roles[target]
                ].seen_as_wolf
            if not is_wolf:
                assert packet.whisper_history is None
                assert info.attack_vote_list is None
                assert MARK not in json.dumps(data)
            elif packet.whisper_history:
                whispered = True
            assert set(info.status_map.values()) <= {Status.ALIVE, Status.DEAD}
            heard += [t.text for t in packet.talk_history or []]
        assert heard == speeches[: len(heard)]  # each public speech once, in order, nothing else
    if preset_name == "aiwolf-13":
        assert whispered


ROLE_AIWOLF = {
    Role.VILLAGER: "VILLAGER",
    Role.WEREWOLF: "WEREWOLF",
    Role.SEER: "SEER",
    Role.BODYGUARD: "BODYGUARD",
    Role.POSSESSED: "POSSESSED",
    Role.MEDIUM: "MEDIUM",
}
