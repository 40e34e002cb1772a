"""AIWolf NLP agents take seats (net/aiwolf/): official-client agents play whole aiwolf-5 and aiwolf-13
games on `/ws`, every packet parses with `aiwolf_nlp_common`, and a mixed table plays to the end."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from aiwolf_nlp_common.packet import Packet, Request
from aiwolf_nlp_common.packet.setting import Setting

from actors.messages import GameFinished
from engine import preset
from net.aiwolf.packets import setting_dict
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


def test_the_setting_describes_our_rules_in_aiwolf_terms():
    config = preset("aiwolf-13")
    data = setting_dict(config, 2.5)
    parsed = Setting.from_dict(data)
    assert parsed.agent_count == 13
    assert {r.value: n for r, n in parsed.role_num_map.items()} == {
        "VILLAGER": 6, "WEREWOLF": 3, "SEER": 1, "BODYGUARD": 1, "POSSESSED": 1, "MEDIUM": 1,
    }  # fmt: skip
    assert (parsed.talk.max_count.per_agent, parsed.whisper.max_count.per_agent) == (3, 1)
    assert parsed.talk.max_length.per_talk == config.rules.max_speech_chars
    assert (parsed.vote.max_count, parsed.vote.allow_self_vote) == (1, config.rules.allow_self_vote)
    assert (parsed.timeout.action, parsed.max_day) == (2500, config.rules.max_days)
    assert setting_dict(preset("aiwolf-5"), 1.0)["whisper"]["max_count"]["per_agent"] == 0  # one wolf


def test_over_ends_the_agents_talk_for_the_day_and_skip_does_not(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    _, agents, _ = play_aiwolf_game(make_server(ServerConfig(port=0)), "aiwolf-13", 4)
    overs = skips = 0
    for agent in agents:
        talks = [p for p in agent.packets if p.request is Request.TALK]
        answers = [text for request, text in agent.replies if request is Request.TALK]
        assert len(talks) == len(answers)
        for i, (packet, text) in enumerate(zip(talks, answers, strict=True)):
            assert packet.info is not None
            later = [p for p in talks[i + 1 :] if p.info is not None and p.info.day == packet.info.day]
            if text == "Over":
                overs += 1
                assert later == []
            elif text == "Skip" and packet.info.remain_count and packet.info.remain_count > 1:
                skips += 1
                assert later != []
    assert overs > 0
    assert skips > 0
