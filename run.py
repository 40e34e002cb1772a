"""Host a game of Loup-Garou in the terminal, or replay one from its log.

    python run.py [--preset classic-8] [--seed N] [--seat 3=random] ...   play a game
    python run.py replay runs/GAME.jsonl                                   re-run a logged game and check it

Wiring only: parse arguments, build the config and the agents, start the actors, print.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from actors.agents import Agent
from actors.gamelog import GameLogError, load_record
from actors.heuristic import HeuristicAgent
from actors.host_secret import HOST_SECRET_ENV, HostSecretError, load_host_secret
from actors.llm import LLMAgent, LLMSettings, default_host
from actors.llm.config import Backend
from actors.llm.probe import LLMUnavailable, list_models, missing_llm_seats
from actors.messages import FULL_VIEW, PUBLIC_VIEW, GameFinished, Recipient, View
from actors.scripted import ScriptError
from actors.specs import (
    AGENT_KINDS,
    LLMSettingsFor,
    build_config,
    parse_llm_options,
    seat_specs,
    validation_problems,
)
from actors.specs import build_agents as build_agents_from
from actors.transcript import TranscriptActor
from engine import (
    DEFAULT_SEED_BITS,
    PRESETS,
    ConfigError,
    GameConfig,
    PlayerId,
    ReplayError,
    Team,
    game_key,
    replay,
    seat_seed,
)
from engine.narration import narrate
from net.exposure import is_loopback, reachable_hosts
from net.hosting import Host, HostedGame, start_server
from net.server import NetworkServer, ServerConfig

EXIT_USAGE = 2
_WINNERS = {Team.VILLAGE: "the village wins", Team.WOLVES: "the wolves win", None: "no winner"}
DEFAULT_PORT = 8765
SHOWN_MODELS = 6  # model names listed in the one-line Ollama status


def _llm_settings(args: argparse.Namespace) -> LLMSettingsFor:
    def settings(model: str, backend: Backend = "ollama") -> LLMSettings:
        options = parse_llm_options(args.llm_option)  # only when a seat asks for a model, as documented
        try:
            return LLMSettings(
                model=model,
                backend=backend,
                host=(args.ollama_host or default_host()) if backend == "ollama" else default_host(backend),
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
    default = f"ollama:{args.model}" if args.model else args.agent
    specs = seat_specs(config, default, remote=args.remote, seats=args.seat)
    return build_agents_from(config, specs, seed=seed, key=key, llm_settings=_llm_settings(args))


def check_llm_seats(
    agents: dict[PlayerId, Agent | None], args: argparse.Namespace, seed: int, key: bytes | None = None
) -> bool:
    """Check each LLM seat's server and model; say plainly what is missing and seat the built-in agent
    instead (returns False instead when --require-llm). Without LLM seats, say whether Ollama is there."""
    llm = {p: a for p, a in agents.items() if isinstance(a, LLMAgent)}
    if not llm:
        host = args.ollama_host or default_host()
        try:
            models = list_models(host, timeout=2.0)
        except LLMUnavailable as exc:
            print(f"Ollama: {exc}; seats play built-in agents (with a server: --model NAME).")
        else:
            shown = ", ".join(models[:SHOWN_MODELS]) + (", ..." if len(models) > SHOWN_MODELS else "")
            print(f"Ollama at {host} has {len(models)} model(s) ({shown}): seat them with --model NAME.")
        return True
    problems = missing_llm_seats({p: a.settings for p, a in llm.items()})
    for problem, players in problems.items():
        if args.require_llm:
            print(f"error: {problem} (--require-llm)", file=sys.stderr)
            return False
        print(f"Ollama: {problem}: {', '.join(players)} play the built-in agent instead.")
        for player in map(PlayerId, players):
            agents[player] = HeuristicAgent(seat_seed(key, seed, list(agents).index(player)))
    return True


def _use_colour(choice: str) -> bool:
    if choice == "auto":
        return sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return choice == "always"


def _play_parser() -> argparse.ArgumentParser:
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
    p.add_argument(
        "--ollama-host", help="Ollama server URL (default: OLLAMA_HOST, else http://127.0.0.1:11434)"
    )
    p.add_argument(
        "--require-llm", action="store_true", help="exit 2 instead of falling back when Ollama fails"
    )
    p.add_argument(
        "--llm-timeout", type=float, default=60.0, metavar="SECONDS", help="timeout of each LLM call"
    )
    p.add_argument("--llm-retries", type=int, default=2, metavar="N", help="re-asks after an invalid reply")
    p.add_argument(
        "--llm-parallel", type=int, default=1, metavar="N", help="parallel requests per Ollama host"
    )
    p.add_argument(
        "--llm-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Ollama option, e.g. temperature=0.7",
    )
    p.add_argument(
        "--remote", type=int, default=0, metavar="N", help="reserve the first N seats for remote agents"
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
    p.add_argument("--log", type=Path, help="JSON Lines log path (default runs/<time>-<game id>.jsonl)")
    p.add_argument(
        "--host-secret",
        type=Path,
        metavar="PATH",
        help=f"the host's secret key file, made if missing (default: ${HOST_SECRET_ENV}, "
        "else ~/.local/state/loupgarou/host-secret)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the outcome")
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


def _replay_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py replay", description="Re-run a logged game and check its outcome."
    )
    p.add_argument("log", type=Path, help="a game log written by run.py")
    p.add_argument("--quiet", action="store_true", help="print only the verdict")
    p.add_argument("--full", action="store_true", help="show secrets too")
    return p


def _open_viewer(
    game: HostedGame, server: NetworkServer, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    """Open the viewer on this game's full view, in its own process."""
    from viewer.app import launch  # noqa: PLC0415 - pygame is imported only when asked for

    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    extra = ("--until-over", str(args.viewer_snapshot)) if args.viewer_snapshot else ()
    return launch(game.url(local, "viewer", "ui"), server.lobby.admin_token, *extra)


def _describe_agents(agents: Mapping[PlayerId, object]) -> str:
    names = []
    for agent in agents.values():
        if agent is None:
            names.append("remote")
        elif isinstance(agent, LLMAgent):
            names.append(f"ollama:{agent.settings.model}")
        else:
            names.append(type(agent).__name__)
    return ", ".join(f"{n} x{names.count(n)}" for n in sorted(set(names)))


def _start_server(args: argparse.Namespace) -> NetworkServer:
    config = ServerConfig(
        host=args.host,
        port=args.port if args.port is not None else DEFAULT_PORT,
        allow_origins=tuple(args.allow_origin),
        public_names=tuple(args.public_name),
    )
    server = start_server(
        config, certfile=args.certfile, keyfile=args.keyfile, any_port_if_taken=args.port is None
    )
    if args.port is None and server.port != DEFAULT_PORT:
        print(f"Port {DEFAULT_PORT} is taken: listening on {server.port} instead.")
    _announce(args, server)
    return server


def _announce(args: argparse.Namespace, server: NetworkServer) -> None:
    """Pick the host printed URLs use (`args.url_host`): never a wildcard; say where else the server is
    reachable, and warn when tokens would cross the network in clear."""
    hosts = [*args.public_name, *reachable_hosts(args.host)]
    args.url_host = hosts[0]
    if len(hosts) > 1:
        print(
            f"Listening on {args.host}:{server.port}, reachable at {', '.join(hosts)}: URLs use {hosts[0]}."
        )
    if server.config.ssl_context is None and not is_loopback(args.host):
        print(
            f"Warning: listening on {args.host} without TLS: seat and admin tokens cross the network in "
            "clear. Pass --certfile (and --keyfile) to serve wss://.",
            file=sys.stderr,
        )


def _seat_remote_agents(game: HostedGame, args: argparse.Namespace) -> None:
    """Print where each remote seat connects, wait for them; the built-in agent takes each empty one."""
    players = game.config.players
    for player, token in game.tokens.items():
        print(
            f"Seat {players.index(player) + 1} ({player}): {game.url(args.url_host, player, 'agent', token)}"
        )
    if not game.tokens:
        return
    print(f"Waiting up to {args.join_timeout:g} s for {len(game.tokens)} remote agent(s)...", flush=True)
    for player in game.wait_for_agents(args.join_timeout):
        print(f"Seat {players.index(player) + 1} ({player}): nobody came; the built-in agent takes it.")


def play(argv: Sequence[str]) -> int:
    """`run.py [options]`: host one game; returns the exit code."""
    parser = _play_parser()
    args = parser.parse_args(argv)
    if args.deadline <= 0 or args.join_timeout < 0 or args.grace < 0:
        parser.error("--deadline must be positive; --join-timeout and --grace must not be negative")
    # 128 bits: a small default seed can be found by search from what spectators see (docs/security.md).
    seed = args.seed if args.seed is not None else secrets.randbits(DEFAULT_SEED_BITS)
    try:
        secret = load_host_secret(args.host_secret)
        config = build_config(args.preset, roles=args.roles, players=args.players, rules=args.rule)
        key = game_key(secret, seed)
        agents = build_agents(config, args, seed, key)
    except (ConfigError, ScriptError, ValueError, HostSecretError) as exc:
        parser.error(str(exc))
    if not check_llm_seats(agents, args, seed, key):
        return EXIT_USAGE
    try:
        server = _start_server(args)
    except ValueError as exc:
        parser.error(str(exc))
    game_id = uuid.uuid4().hex[:12]
    # The name says when and which game, never the seed (which, with the source, opens unkeyed games).
    log_path = args.log or Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{game_id}.jsonl"
    transcript = None
    viewer = None
    try:
        with Host(secret, server=server) as host:
            game = host.open_game(config, agents, seed=seed, game_id=game_id, grace_s=args.grace)
            print(f"Loup-Garou: {config.name}, {len(config.players)} players, seed {seed}, game {game_id}.")
            print(f"Spectators: {game.url(args.url_host, 'YOUR-NAME', 'ui')}")
            admin = server.lobby.admin_token
            print(f"Full view (secrets): {game.url(args.url_host, 'YOUR-NAME', 'ui', admin)}")
            viewer = _open_viewer(game, server, args) if args.viewer else None
            _seat_remote_agents(game, args)
            print(f"Agents: {_describe_agents(game.seats)}.")
            observers: list[tuple[Recipient, View]] = []
            if not args.quiet:
                transcript = TranscriptActor.start(sys.stdout.write, colour=_use_colour(args.color))
                observers.append((transcript, FULL_VIEW if args.full else PUBLIC_VIEW))
            finished = game.play(timeout_s=args.deadline, log_path=log_path, observers=observers)
    except KeyboardInterrupt:
        print("\nInterrupted: every actor was stopped.", file=sys.stderr)
        return 130
    finally:
        if transcript is not None:
            transcript.stop()
        _wait_for_viewer(viewer)
        server.stop()
    _report(finished, log_path)
    return 0


def _wait_for_viewer(viewer: subprocess.Popen[bytes] | None) -> None:
    if viewer is not None and viewer.poll() is None:  # the game may be over before the window opens
        print("The viewer is open: close its window (q) to stop the server.", flush=True)
        viewer.wait()


def _report(finished: GameFinished, log_path: Path) -> None:
    for player, usage in finished.usage.items():
        print(
            f"{player}: {usage.get('calls', 0):g} LLM calls, {usage.get('retries', 0):g} retries, "
            f"{usage.get('prompt_tokens', 0):g} tokens in, {usage.get('completion_tokens', 0):g} out, "
            f"{usage.get('latency_s', 0):.1f} s"
        )
    outcome = finished.outcome
    verdict = "aborted" if outcome is None else _WINNERS[outcome.winner]
    print(f"Result: {verdict} ({outcome.reason if outcome else 'game aborted'}). Log: {log_path}")
    print(f"Replay it with: python run.py replay {log_path}")


def replay_log(argv: Sequence[str]) -> int:
    """`run.py replay LOG`: re-run the engine from a log and check the outcome is identical."""
    args = _replay_parser().parse_args(argv)
    try:
        record = load_record(args.log)
        game = replay(record, check=True)
    except (GameLogError, ReplayError) as exc:
        print(f"replay failed: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        for event in game.events if args.full else game.public_events():
            line = narrate(event)
            if line is not None:
                print(line)
    outcome = game.outcome()
    if outcome is None:
        print(f"Replayed {len(record['inputs'])} inputs: the log ends before the game does.")
    else:
        print(f"Replay identical: {_WINNERS[outcome.winner]} ({outcome.reason}), day {outcome.day}.")
    return 0


def list_llm_models(argv: Sequence[str]) -> int:
    """`run.py models [--ollama-host URL]`: the models the Ollama server has."""
    parser = argparse.ArgumentParser(prog="run.py models", description="List the models of an Ollama server.")
    parser.add_argument(
        "--ollama-host", help="Ollama server URL (default: OLLAMA_HOST, else http://127.0.0.1:11434)"
    )
    args = parser.parse_args(argv)
    host = args.ollama_host or default_host()
    try:
        models = list_models(host)
    except LLMUnavailable as exc:
        print(f"{exc}.", file=sys.stderr)
        return 1
    print(f"{len(models)} model(s) at {host}:" if models else f"No model at {host} (ollama pull llama3.2).")
    for name in models:
        print(f"  {name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: dispatch to `replay` or play a game."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["replay"]:
        return replay_log(argv[1:])
    if argv[:1] == ["models"]:
        return list_llm_models(argv[1:])
    return play(argv)


if __name__ == "__main__":
    sys.exit(main())
