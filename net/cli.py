"""The command line of run.py: its options, and the settings, agents and server config they ask for.

`play_parser`, `replay_parser` and `models_parser` are the option tables of `run.py`, `run.py replay` and
`run.py models` (the README documents every option). The helpers turn parsed play options into what
hosting a game needs, raising `ValueError` (or the engine's and the agents' errors) with a message fit
for `parser.error`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from actors.agents import Agent
from actors.host_secret import HOST_SECRET_ENV
from actors.llm import LLMSettings, default_host
from actors.llm.config import BACKENDS, Backend, Think
from actors.specs import (
    AGENT_KINDS,
    AIWOLF,
    LLMSettingsFor,
    parse_llm_options,
    seat_deadlines,
    seat_specs,
    validation_problems,
)
from actors.specs import build_agents as build_agents_from
from engine import PRESETS, GameConfig, PlayerId
from net.aiwolf import aiwolf_problem
from net.memory import MemoryPolicy
from net.server import ServerConfig

#: The longest `--pace`: a minimum time per phase beyond a person's patience is a mistake.
MAX_PACE_S = 600.0
#: The longest `--hidden-turn`: each night may wait several of them.
MAX_HIDDEN_TURN_S = 3600.0
#: The port `run.py` listens on unless `--port` says otherwise (another one if it is taken).
DEFAULT_PORT = 8765
_OLLAMA_HOST_HELP = "Ollama server URL (default: OLLAMA_HOST, else http://127.0.0.1:11434)"
_OPENAI_BASE_URL_HELP = (
    "OpenAI-compatible server base URL, ending in /v1 (default: OPENAI_BASE_URL, else "
    "https://api.openai.com/v1); the API key comes from OPENAI_API_KEY"
)
#: `--llm-think` values and what each sends (Ollama's `think`; see docs/llm.md for OpenAI-compatible servers).
THINK_CHOICES: dict[str, Think] = {"on": True, "off": False, "low": "low", "medium": "medium", "high": "high"}


def play_parser() -> argparse.ArgumentParser:
    """The options of `run.py` (host one game)."""
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Host a game of Loup-Garou (Werewolf) between agents and print it. "
        "'run.py replay LOG' re-runs a logged game and checks it.",
    )
    p.add_argument(
        "--preset", default="classic-8", choices=sorted(PRESETS), help="rules and roles (default classic-8)"
    )
    p.add_argument(
        "--seed", type=int, help="fixes roles, seating, speaking order and tie-breaks (default: random)"
    )
    p.add_argument("--players", type=int, help="number of seats (roles beyond the preset's are villagers)")
    p.add_argument("--roles", help="role counts, e.g. werewolf=2,seer=1,witch=1 (other seats are villagers)")
    p.add_argument(
        "--rule", action="append", default=[], metavar="KEY=VALUE", help="set a rule switch (repeatable)"
    )
    p.add_argument("--agent", default="heuristic", help=f"agent for every seat: {', '.join(AGENT_KINDS)}")
    p.add_argument(
        "--seat",
        action="append",
        default=[],
        metavar="SEAT=AGENT",
        help="agent for one seat, by number or name",
    )
    p.add_argument(
        "--deadline", type=float, default=30.0, metavar="SECONDS", help="time to answer each request"
    )
    p.add_argument("--model", help="seat an Ollama model at every built-in seat (e.g. llama3.2)")
    p.add_argument("--ollama-host", help=_OLLAMA_HOST_HELP)
    p.add_argument(
        "--openai-base-url", metavar="URL", help=f"for openai:MODEL seats: {_OPENAI_BASE_URL_HELP}"
    )
    p.add_argument(
        "--llm-think",
        choices=tuple(THINK_CHOICES),
        help="reasoning models: thinking on, off, or a level (default: the model's own)",
    )
    p.add_argument(
        "--require-llm", action="store_true", help="exit 2 instead of falling back when an LLM server fails"
    )
    p.add_argument(
        "--llm-timeout", type=float, default=60.0, metavar="SECONDS", help="timeout of each LLM call"
    )
    p.add_argument("--llm-retries", type=int, default=2, metavar="N", help="re-asks after an invalid reply")
    p.add_argument(
        "--llm-parallel", type=int, default=1, metavar="N", help="parallel requests per LLM server"
    )
    p.add_argument(
        "--llm-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="generation option (Ollama's names), e.g. temperature=0.7 or num_predict=300",
    )
    p.add_argument(
        "--remote", type=int, default=0, metavar="N", help="reserve the first N seats for remote agents"
    )
    p.add_argument(
        "--aiwolf",
        type=int,
        default=0,
        metavar="N",
        help="reserve the next N seats (after --remote) for AIWolf NLP agents (docs/aiwolf.md)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address the WebSocket server listens on (default loopback)"
    )
    p.add_argument(
        "--port", type=int, help=f"its port (default {DEFAULT_PORT}, or a free one if that is taken)"
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (e.g. http://localhost:3000) connect (repeatable)",
    )
    p.add_argument(
        "--public-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a DNS name clients use to reach this server (repeatable; printed URLs use the first)",
    )
    p.add_argument("--certfile", type=Path, help="PEM certificate chain: serve TLS (wss://)")
    p.add_argument("--keyfile", type=Path, help="PEM private key, if not in --certfile")
    p.add_argument(
        "--join-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for remote agents",
    )
    p.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a disconnected agent keeps its seat",
    )
    p.add_argument(
        "--pace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="minimum time per phase and speaking turn, so people can follow (default: none)",
    )
    p.add_argument(
        "--hidden-turn",
        type=float,
        metavar="SECONDS",
        help="time given to each hidden turn (wolves' chat, witch, hunter, the night phase) so that "
        "timings do not show hidden roles; 0: no cover (default: the longest deadline, or 0 when "
        "every seat is an instant built-in agent)",
    )
    p.add_argument(
        "--open", action="store_true", help="open the browser page: each human seat's, else the spectators'"
    )
    p.add_argument("--log", type=Path, help="JSON Lines log path (default runs/<time>-<game id>.jsonl)")
    p.add_argument(
        "--host-secret",
        type=Path,
        metavar="PATH",
        help=f"the host's secret key file, made if missing (default: ${HOST_SECRET_ENV}, "
        "else ~/.local/state/loupgarou/host-secret)",
    )
    p.add_argument("--quiet", action="store_true", help="no transcript: only the set-up lines and the result")
    p.add_argument("--viewer", action="store_true", help="open the Pygame viewer on this game (full view)")
    p.add_argument(
        "--viewer-snapshot",
        type=Path,
        metavar="PNG",
        help="with --viewer: save the last frame, close when over",
    )
    p.add_argument("--full", action="store_true", help="show secrets too: roles, wolves' chat, night actions")
    p.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the transcript"
    )
    return p


def replay_parser() -> argparse.ArgumentParser:
    """The options of `run.py replay LOG` (re-run a logged game and check it)."""
    p = argparse.ArgumentParser(
        prog="run.py replay", description="Re-run a logged game and check its outcome."
    )
    p.add_argument("log", type=Path, help="a game log written by run.py")
    p.add_argument("--quiet", action="store_true", help="print only the verdict")
    p.add_argument("--full", action="store_true", help="show secrets too")
    return p


def models_parser() -> argparse.ArgumentParser:
    """The options of `run.py models` (list the models of an Ollama or OpenAI-compatible server)."""
    parser = argparse.ArgumentParser(
        prog="run.py models", description="List the models of an Ollama or OpenAI-compatible server."
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="which server (default: openai with --openai-base-url, else ollama)",
    )
    parser.add_argument("--ollama-host", help=_OLLAMA_HOST_HELP)
    parser.add_argument("--openai-base-url", metavar="URL", help=_OPENAI_BASE_URL_HELP)
    return parser


def models_server(args: argparse.Namespace) -> tuple[Backend, str]:
    """The backend and server `run.py models` asks."""
    backend: Backend = args.backend or ("openai" if args.openai_base_url else "ollama")
    if backend == "openai":
        return backend, args.openai_base_url or default_host(backend)
    return backend, args.ollama_host or default_host(backend)


def check_timers(args: argparse.Namespace) -> str | None:
    """What is wrong with `--deadline`, `--join-timeout`, `--grace`, `--pace` and `--hidden-turn`, or None."""
    if args.deadline <= 0 or args.join_timeout < 0 or args.grace < 0:
        return "--deadline must be positive; --join-timeout and --grace must not be negative"
    if not 0 <= args.pace <= MAX_PACE_S:
        return f"--pace must be between 0 and {MAX_PACE_S:g} seconds"
    if args.hidden_turn is not None and not 0 <= args.hidden_turn <= MAX_HIDDEN_TURN_S:
        return f"--hidden-turn must be between 0 and {MAX_HIDDEN_TURN_S:g} seconds"
    return None


def llm_settings(args: argparse.Namespace) -> LLMSettingsFor:
    """The LLM settings of a seat that asks for a model, from the `--llm-*` options and its backend's
    server (`--ollama-host` or `--openai-base-url`).

    `--llm-option` is parsed only when a seat asks for a model, as the README documents."""

    def settings(model: str, backend: Backend = "ollama") -> LLMSettings:
        options = parse_llm_options(args.llm_option)
        try:
            return LLMSettings(
                model=model,
                backend=backend,
                host=(args.openai_base_url if backend == "openai" else args.ollama_host)
                or default_host(backend),
                think=THINK_CHOICES[args.llm_think] if args.llm_think else None,
                timeout_s=args.llm_timeout,
                max_retries=args.llm_retries,
                parallel=args.llm_parallel,
                options=options,
            )
        except ValidationError as exc:
            raise ValueError(f"LLM settings: {validation_problems(exc)}") from None

    return settings


def build_agents(
    config: GameConfig, args: argparse.Namespace, seed: int, key: bytes
) -> dict[PlayerId, Agent | None]:
    """One agent per seat (None: remote), from --agent (or --model), --remote and --seat."""
    specs = _specs(config, args)
    return build_agents_from(config, specs, seed=seed, key=key, llm_settings=llm_settings(args))


def people(config: GameConfig, args: argparse.Namespace) -> dict[PlayerId, float]:
    """The seats kept for people (`--seat N=human[:SECONDS]`), with each one's deadline."""
    return seat_deadlines(_specs(config, args))


def aiwolf_seats(config: GameConfig, args: argparse.Namespace) -> list[PlayerId]:
    """The seats reserved for AIWolf NLP agents by --aiwolf and `--seat SEAT=aiwolf`; ValueError if the
    game cannot seat one (a role or a discussion AIWolf does not have)."""
    seats = [p for p, spec in _specs(config, args).items() if spec == AIWOLF]
    problem = aiwolf_problem(config) if seats else None
    if problem is not None:
        raise ValueError(problem)
    return seats


def aiwolf_opening(config: GameConfig, args: argparse.Namespace, aiwolf: list[PlayerId]) -> GameConfig:
    """With AIWolf seats in an AIWolf preset, AIWolf's own opening (rule `day_zero`: day 0 talk, a night 0
    without attack) unless `--rule day_zero=...` says otherwise: their agents expect it."""
    explicit = any(item.partition("=")[0].strip().replace("-", "_") == "day_zero" for item in args.rule)
    if not aiwolf or explicit or not config.name.startswith("aiwolf-"):
        return config
    return config.with_rules(day_zero=True)


def _specs(config: GameConfig, args: argparse.Namespace) -> dict[PlayerId, str]:
    default = f"ollama:{args.model}" if args.model else args.agent
    return seat_specs(config, default, remote=args.remote, seats=args.seat, aiwolf=args.aiwolf)


def server_config(args: argparse.Namespace) -> ServerConfig:
    """The server's address and exposure from `--host`, `--port`, `--allow-origin` and `--public-name`."""
    return ServerConfig(
        host=args.host,
        port=args.port if args.port is not None else DEFAULT_PORT,
        allow_origins=tuple(args.allow_origin),
        public_names=tuple(args.public_name),
        # run.py's process is the server's alone: freezing its start-up objects is safe (net/memory.py).
        memory=MemoryPolicy(freeze_at_start=True),
    )


def use_colour(choice: str) -> bool:
    """`--color`: `auto` colours a terminal unless NO_COLOR is set (https://no-color.org)."""
    if choice == "auto":
        return sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return choice == "always"
