"""What run.py says at the terminal (net/console.py), checked on string streams instead of a subprocess."""

from __future__ import annotations

import io
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.messages import GameFinished
from actors.specs import build_config
from engine import Outcome, PlayerId, Team, game_key, preset
from engine.outcome import Termination
from net import cli
from net.console import Console, announce, check_llm_seats, describe_agents, replay_verdict, report

A, B, C = PlayerId("Alice"), PlayerId("Bob"), PlayerId("Cleo")


def console() -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(out, err), out, err


def closed_url() -> str:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_agents_are_counted_by_kind():
    agents = {A: None, B: HeuristicAgent(1), C: HeuristicAgent(2)}
    assert describe_agents(agents) == "HeuristicAgent x2, remote x1"


def test_report_gives_usage_result_and_how_to_replay():
    term, out, _ = console()
    outcome = Outcome(winner=Team.WOLVES, termination=Termination.WOLF_PARITY, day=2, reason="wolves rule")
    finished = GameFinished(
        game_id="g", outcome=outcome, record={}, faults={}, usage={A: {"calls": 3, "latency_s": 1.25}}
    )
    report(finished, Path("runs/g.jsonl"), term)
    assert out.getvalue().splitlines() == [
        "Alice: 3 LLM calls, 0 retries, 0 tokens in, 0 out, 1.2 s",
        "Result: the wolves win (wolves rule). Log: runs/g.jsonl",
        "Replay it with: python run.py replay runs/g.jsonl",
    ]
    term, out, _ = console()
    report(GameFinished(game_id="g", outcome=None, record={}, faults={}), Path("x.jsonl"), term)
    assert "Result: aborted (game aborted). Log: x.jsonl" in out.getvalue()


def test_replay_verdicts():
    outcome = Outcome(winner=None, termination=Termination.MAX_DAYS, day=9, reason="day limit")
    assert replay_verdict(outcome, 10) == "Replay identical: no winner (day limit), day 9."
    assert replay_verdict(None, 4) == "Replayed 4 inputs: the log ends before the game does."


def test_a_wildcard_address_is_never_printed_and_plain_text_off_loopback_is_warned():
    term, out, err = console()
    args = cli.play_parser().parse_args(["--host", "0.0.0.0", "--public-name", "game.example"])
    server = SimpleNamespace(port=4321, config=SimpleNamespace(ssl_context=None))
    announce(args, server, term)  # type: ignore[arg-type]  # the attributes announce reads
    assert args.url_host == "game.example"
    assert "reachable at game.example" in out.getvalue()
    assert "URLs use game.example." in out.getvalue()
    assert "without TLS" in err.getvalue()

    term, out, err = console()
    args = cli.play_parser().parse_args([])
    announce(args, server, term)  # type: ignore[arg-type]
    assert (args.url_host, out.getvalue(), err.getvalue()) == ("127.0.0.1", "", "")


def test_without_llm_seats_the_ollama_status_is_one_line():
    term, out, err = console()
    args = cli.play_parser().parse_args(["--ollama-host", closed_url()])
    assert check_llm_seats({A: HeuristicAgent(1)}, args, 1, None, term)
    assert out.getvalue().startswith("Ollama: no Ollama server answers")
    assert out.getvalue().count("\n") == 1
    assert err.getvalue() == ""


def llm_seat_two(*options: str) -> tuple[dict[PlayerId, object], object]:
    """classic-8 with an Ollama model at seat 2 and the built-in agent elsewhere."""
    args = cli.play_parser().parse_args(["--seat", "2=ollama:llama3.2", *options])
    config = build_config("classic-8", roles=None, players=None, rules=[])
    return cli.build_agents(config, args, 1, game_key(b"k" * 32, 1)), args


def test_an_unreachable_llm_seat_falls_back_or_stops_when_required():
    host = closed_url()
    agents, args = llm_seat_two("--ollama-host", host)
    bob = list(agents)[1]
    assert isinstance(agents[bob], LLMAgent)
    term, out, _ = console()
    assert check_llm_seats(agents, args, 1, None, term)  # type: ignore[arg-type]
    assert isinstance(agents[bob], HeuristicAgent)
    assert f"{bob} play the built-in agent instead." in out.getvalue()

    agents, args = llm_seat_two("--ollama-host", host, "--require-llm")
    term, out, err = console()
    assert not check_llm_seats(agents, args, 1, None, term)  # type: ignore[arg-type]
    assert isinstance(agents[bob], LLMAgent)
    assert out.getvalue() == ""
    assert err.getvalue().startswith("error: no Ollama server answers")
    assert err.getvalue().endswith("(--require-llm)\n")


def test_llm_agents_are_counted_by_backend_and_model():
    config = preset("aiwolf-5")
    seats = {
        p: LLMAgent(
            LLMSettings(model="m", backend="openai" if i % 2 else "ollama", host="http://h:1/v1"),
            config,
            persona=PERSONAS[0],
            fallback=HeuristicAgent(0),
            limiter=threading.BoundedSemaphore(1),
        )
        for i, p in enumerate(config.players)
    }
    assert describe_agents(seats) == "ollama:m x3, openai:m x2"
