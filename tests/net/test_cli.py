"""run.py's option table and the settings it derives (net/cli.py), without a subprocess."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from actors.llm import LLMAgent
from actors.specs import build_config
from engine import game_key
from net import cli

ROOT = Path(__file__).resolve().parents[2]


def test_play_defaults_are_the_documented_ones():
    args = cli.play_parser().parse_args([])
    assert (args.preset, args.agent, args.seed, args.remote) == ("classic-8", "heuristic", None, 0)
    assert (args.deadline, args.join_timeout, args.grace) == (30.0, 120.0, 30.0)
    assert (args.llm_timeout, args.llm_retries, args.llm_parallel) == (60.0, 2, 1)
    assert (args.host, args.port, args.color) == ("127.0.0.1", None, "auto")
    assert args.seat == args.rule == args.llm_option == args.allow_origin == args.public_name == []


def test_every_option_of_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"--[a-z][a-z-]+", readme))
    for parser in (cli.play_parser(), cli.replay_parser(), cli.models_parser()):
        options = {o for a in parser._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
        assert options - documented == set(), parser.prog


def test_repeatable_options_accumulate():
    args = cli.play_parser().parse_args(["--seat", "1=random", "--seat", "Bob=remote", "--rule", "a=b"])
    assert args.seat == ["1=random", "Bob=remote"]
    assert args.rule == ["a=b"]


def test_replay_and_models_options():
    replay = cli.replay_parser().parse_args(["runs/g.jsonl", "--quiet"])
    assert (replay.log, replay.quiet, replay.full) == (Path("runs/g.jsonl"), True, False)
    assert cli.models_parser().parse_args(["--ollama-host", "http://h:1"]).ollama_host == "http://h:1"


@pytest.mark.parametrize(
    ("argv", "bad"),
    [
        ([], False),
        (["--deadline", "0"], True),
        (["--join-timeout", "-1"], True),
        (["--grace", "-0.5"], True),
        (["--join-timeout", "0", "--grace", "0"], False),
    ],
)
def test_timers_are_checked(argv, bad):
    problem = cli.check_timers(cli.play_parser().parse_args(argv))
    assert (problem is not None) == bad
    if bad:
        assert "--deadline must be positive" in problem


def test_server_config_from_options():
    config = cli.server_config(cli.play_parser().parse_args(["--public-name", "game.example"]))
    assert (config.host, config.port, config.public_names) == (
        "127.0.0.1",
        cli.DEFAULT_PORT,
        ("game.example",),
    )
    assert cli.server_config(cli.play_parser().parse_args(["--port", "0"])).port == 0
    with pytest.raises(ValueError, match="is not an origin"):
        cli.server_config(cli.play_parser().parse_args(["--allow-origin", "localhost:3000"]))


def test_llm_settings_are_checked_only_when_a_seat_asks_for_a_model():
    args = cli.play_parser().parse_args(["--llm-parallel", "0", "--llm-option", "temperature=0.5"])
    settings = cli.llm_settings(args)  # nothing asked yet: nothing checked
    with pytest.raises(ValueError, match="LLM settings"):
        settings("llama3.2")
    args = cli.play_parser().parse_args(["--ollama-host", "http://h:1", "--llm-retries", "0"])
    made = cli.llm_settings(args)("llama3.2")
    assert (made.model, made.host, made.max_retries) == ("llama3.2", "http://h:1", 0)


def test_agents_from_agent_model_remote_and_seat_options():
    config = build_config("classic-8", roles=None, players=None, rules=[])
    key = game_key(b"k" * 32, 1)
    args = cli.play_parser().parse_args(["--remote", "1", "--model", "llama3.2", "--seat", "3=random"])
    agents = cli.build_agents(config, args, 1, key)
    kinds = [type(a).__name__ if a is not None else None for a in agents.values()]
    assert kinds[0] is None  # remote
    assert kinds[2] == "RandomAgent"
    assert all(isinstance(agents[p], LLMAgent) for i, p in enumerate(config.players) if i not in (0, 2))


def test_colour_choice(monkeypatch):
    assert cli.use_colour("always") is True
    assert cli.use_colour("never") is False
    monkeypatch.setattr("sys.stdout", io.StringIO())  # not a terminal
    assert cli.use_colour("auto") is False


@pytest.mark.parametrize(
    ("given", "think"), [([], None), (["on"], True), (["off"], False), (["high"], "high"), (["low"], "low")]
)
def test_llm_think_reaches_every_llm_seat(given, think):
    argv = ["--llm-think", *given] if given else []
    settings = cli.llm_settings(cli.play_parser().parse_args(argv))
    assert settings("qwen3", "ollama").think == think
    assert settings("qwen3", "openai").think == think


def test_llm_think_refuses_other_values(capsys):
    with pytest.raises(SystemExit):
        cli.play_parser().parse_args(["--llm-think", "maybe"])
    assert "--llm-think" in capsys.readouterr().err


def test_openai_seats_take_the_openai_base_url_and_ollama_seats_the_ollama_host(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    args = cli.play_parser().parse_args(
        ["--openai-base-url", "http://gpu:8000/v1", "--ollama-host", "http://h:1", "--llm-timeout", "9"]
    )
    openai_seat = cli.llm_settings(args)("qwen3-8b", "openai")
    ollama_seat = cli.llm_settings(args)("llama3.2", "ollama")
    assert (openai_seat.backend, openai_seat.host) == ("openai", "http://gpu:8000/v1")
    assert openai_seat.timeout_s == 9
    assert (ollama_seat.backend, ollama_seat.host) == ("ollama", "http://h:1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env:8000/v1")
    default = cli.llm_settings(cli.play_parser().parse_args([]))("m", "openai")
    assert default.host == "http://env:8000/v1"


def test_an_openai_agent_spec_seats_openai_compatible_llm_agents():
    config = build_config("classic-8", roles=None, players=None, rules=[])
    args = cli.play_parser().parse_args(["--agent", "openai:qwen3-8b", "--openai-base-url", "http://g:1/v1"])
    agents = cli.build_agents(config, args, 1, game_key(b"k" * 32, 1))
    assert all(isinstance(a, LLMAgent) and a.settings.backend == "openai" for a in agents.values())
    assert "openai:MODEL" in cli.play_parser().format_help()


def test_models_lists_either_backend(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert cli.models_server(cli.models_parser().parse_args([])) == ("ollama", "http://127.0.0.1:11434")
    args = cli.models_parser().parse_args(["--openai-base-url", "http://g:1/v1"])
    assert cli.models_server(args) == ("openai", "http://g:1/v1")
    args = cli.models_parser().parse_args(["--backend", "openai"])
    assert cli.models_server(args) == ("openai", "https://api.openai.com/v1")


def test_aiwolf_and_seat_aiwolf_reserve_remote_seats_for_aiwolf_agents():
    config = build_config("aiwolf-5", roles=None, players=None, rules=[])
    key = game_key(b"k" * 32, 1)
    args = cli.play_parser().parse_args(["--remote", "1", "--aiwolf", "1", "--seat", "4=aiwolf"])
    agents = cli.build_agents(config, args, 1, key)
    assert [p for p, a in agents.items() if a is None] == [*config.players[:2], config.players[3]]
    assert cli.aiwolf_seats(config, args) == [config.players[1], config.players[3]]
    with pytest.raises(ValueError, match="--aiwolf must be between 0 and 4"):
        cli.build_agents(config, cli.play_parser().parse_args(["--remote", "1", "--aiwolf", "5"]), 1, key)


def test_aiwolf_seats_are_refused_in_a_game_aiwolf_agents_cannot_play():
    bidding = build_config("classic-8", roles=None, players=None, rules=[])
    with pytest.raises(ValueError, match="discussion=round_robin"):
        cli.aiwolf_seats(bidding, cli.play_parser().parse_args(["--aiwolf", "1"]))
    witch = build_config("agentscope-9", roles=None, players=None, rules=[])
    with pytest.raises(ValueError, match="AIWolf agents know no hunter, witch"):
        cli.aiwolf_seats(witch, cli.play_parser().parse_args(["--seat", "2=aiwolf"]))
    assert cli.aiwolf_seats(witch, cli.play_parser().parse_args([])) == []


def test_aiwolf_seats_in_an_aiwolf_preset_get_aiwolfs_day_zero_unless_the_rule_is_given():
    config = build_config("aiwolf-5", roles=None, players=None, rules=[])
    assert config.rules.day_zero is False
    args = cli.play_parser().parse_args(["--aiwolf", "2"])
    assert cli.aiwolf_opening(config, args, cli.aiwolf_seats(config, args)).rules.day_zero is True
    assert cli.aiwolf_opening(config, args, []).rules.day_zero is False  # no AIWolf seat: the preset as is
    explicit = cli.play_parser().parse_args(["--aiwolf", "2", "--rule", "day_zero=false"])
    assert cli.aiwolf_opening(config, explicit, cli.aiwolf_seats(config, explicit)).rules.day_zero is False
    custom = build_config("aiwolf-5", roles="werewolf=1,seer=1", players=6, rules=[])
    assert cli.aiwolf_opening(custom, args, cli.aiwolf_seats(custom, args)).rules.day_zero is False


def test_hidden_turn_defaults_to_automatic_and_refuses_negative_values():
    parser = cli.play_parser()
    assert parser.parse_args([]).hidden_turn is None  # automatic: actors.cover.budget decides
    assert cli.check_timers(parser.parse_args(["--hidden-turn", "0"])) is None
    assert cli.check_timers(parser.parse_args(["--hidden-turn", "45.5"])) is None
    for bad in ("-0.5", "nan", "1e9"):
        problem = cli.check_timers(parser.parse_args(["--hidden-turn", bad]))
        assert problem == f"--hidden-turn must be between 0 and {cli.MAX_HIDDEN_TURN_S:g} seconds"
