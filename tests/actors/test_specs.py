"""Agent specs, rule switches, role tables and seat names from strings (what run.py reads), in-process."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from actors.agents import RandomAgent
from actors.heuristic import HeuristicAgent
from actors.llm import LLMAgent, LLMSettings
from actors.llm.config import Backend
from actors.scripted import ScriptedAgent, ScriptError
from actors.specs import (
    REMOTE,
    agent_factory,
    build_agents,
    build_config,
    parse_llm_options,
    parse_roles,
    parse_rules,
    seat_name,
    seat_specs,
)
from engine import ConfigError, Role, preset, seat_seed

CONFIG = preset("classic-8")
KEY = bytes(32)


def test_each_kind_of_agent_spec():
    assert agent_factory("remote", CONFIG)(1, 0) is None
    assert isinstance(agent_factory("heuristic", CONFIG)(1, 0), HeuristicAgent)
    assert isinstance(agent_factory("random", CONFIG)(1, 0), RandomAgent)
    llm = agent_factory(
        "ollama:llama3.2", CONFIG, lambda model, backend: LLMSettings(model=model, host="http://h:1")
    )
    agent = llm(1, 0)
    assert isinstance(agent, LLMAgent)
    assert (agent.settings.model, agent.settings.host) == ("llama3.2", "http://h:1")


def test_an_openai_spec_makes_an_openai_compatible_seat():
    asked: list[tuple[str, str]] = []

    def settings(model: str, backend: Backend) -> LLMSettings:
        asked.append((model, backend))
        return LLMSettings(model=model, backend=backend, host="http://gpu:8000/v1")

    agent = agent_factory("openai:qwen3-8b", CONFIG, settings)(1, 0)
    assert isinstance(agent, LLMAgent)
    assert (agent.settings.backend, agent.settings.model) == ("openai", "qwen3-8b")
    assert agent.settings.host == "http://gpu:8000/v1"
    assert asked == [("qwen3-8b", "openai")]
    default = agent_factory("openai:m", CONFIG)(1, 0)  # without settings: the defaults of that backend
    assert isinstance(default, LLMAgent)
    assert default.settings.backend == "openai"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "robot",
            "unknown agent 'robot' (known: heuristic, random, scripted:PATH, ollama:MODEL, "
            "openai:MODEL, remote)",
        ),
        ("heuristic:x", "unknown agent 'heuristic:x'"),
        ("scripted", "scripted needs a path"),
        ("ollama", "ollama needs a model"),
        ("openai", "openai needs a model"),
    ],
)
def test_bad_agent_specs_say_what_is_accepted(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        agent_factory(spec, CONFIG)


def test_scripted_spec_reads_the_file_once_and_each_seat_plays_it_from_the_start(tmp_path: Path):
    script = tmp_path / "s.toml"
    script.write_text('steps = ["discussion: say I am only here to watch."]\n', encoding="utf-8")
    factory = agent_factory(f"scripted:{script}", CONFIG)
    first, second = factory(1, 0), factory(1, 1)
    assert isinstance(first, ScriptedAgent)
    assert isinstance(second, ScriptedAgent)
    assert first is not second
    assert first.steps == second.steps
    with pytest.raises(ScriptError, match="cannot read script"):
        agent_factory(f"scripted:{tmp_path / 'missing.toml'}", CONFIG)


def test_rule_switches_from_strings():
    base = CONFIG.rules
    rules = parse_rules(["last-words=no", "max_days=7"], base)
    assert rules.last_words is False
    assert rules.max_days == 7
    for items, message in [
        (["max_days"], "--rule takes KEY=VALUE"),
        (["nope=1"], "unknown rule 'nope'"),
        (["last_words=maybe"], "takes true or false"),
        (["max_days=many"], "takes an integer"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_rules(items, base)


def test_role_tables_and_configs():
    assert parse_roles("werewolf=2, seer=1,werewolf=1") == {"werewolf": 3, "seer": 1}
    with pytest.raises(ConfigError, match="--roles takes ROLE=COUNT"):
        parse_roles("werewolf")
    assert build_config("classic-8") == CONFIG
    wider = build_config("classic-8", players=10)  # the preset's powers, the rest villagers
    assert len(wider.players) == 10
    assert dict(wider.roles)[Role.WEREWOLF] == dict(CONFIG.roles)[Role.WEREWOLF]
    custom = build_config("classic-8", roles="werewolf=1,seer=1", players=5, rules=["max_days=3"])
    assert (custom.name, len(custom.players), custom.rules.max_days) == ("custom", 5, 3)


def test_llm_options():
    assert parse_llm_options(["temperature=0.5"]).model_dump(exclude_none=True)["temperature"] == 0.5
    with pytest.raises(ValueError, match="--llm-option takes KEY=VALUE"):
        parse_llm_options(["temperature"])


def test_seats_by_number_or_name_and_overrides():
    first, third = CONFIG.players[0], CONFIG.players[2]
    assert seat_name(CONFIG, "3") == third
    assert seat_name(CONFIG, first.upper()) == first
    with pytest.raises(ValueError, match="seat 9 does not exist"):
        seat_name(CONFIG, "9")
    with pytest.raises(ValueError, match="no seat named 'Zed'"):
        seat_name(CONFIG, "Zed")
    specs = seat_specs(CONFIG, "heuristic", remote=2, seats=["3=random", f"{first}=heuristic"])
    assert list(specs.values())[:4] == ["heuristic", REMOTE, "random", "heuristic"]
    with pytest.raises(ValueError, match="--remote must be between 0 and 8"):
        seat_specs(CONFIG, "heuristic", remote=9)
    with pytest.raises(ValueError, match="--seat takes SEAT=AGENT"):
        seat_specs(CONFIG, "heuristic", seats=["3"])


def test_every_seat_gets_its_own_seed_derived_stream():
    specs = seat_specs(CONFIG, "heuristic", remote=1)
    agents = build_agents(CONFIG, specs, seed=5, key=KEY)
    assert agents[CONFIG.players[0]] is None
    states = [a._rng.getstate() for a in agents.values() if isinstance(a, HeuristicAgent)]
    assert states == [random.Random(seat_seed(KEY, 5, i)).getstate() for i in range(1, 8)]
    assert len({seat_seed(KEY, 5, i) for i in range(8)}) == 8
