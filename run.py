"""Host a game of Loup-Garou in the terminal, or replay one from its log.

    python run.py [--preset classic-8] [--seed N] [--seat 3=random] ...   play a game
    python run.py replay runs/GAME.jsonl                                   re-run a logged game and check it
    python run.py tournament PLAN.toml                                     play (or resume) a tournament
    python run.py report PLAN.db                                           its report (Markdown + PNG)

Wiring only: parse arguments, build the config and the agents, start the actors, print.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from net.memory import use_system_allocator

    # First: a re-execution under the C allocator lets memory go back to the system after a flood
    # of connections (net/memory.py); the imports below would otherwise run twice.
    use_system_allocator()

import argparse
import logging
import secrets
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from actors.gamelog import GameLogError, load_record
from actors.host_secret import HostSecretError, load_host_secret
from actors.llm.probe import LLMUnavailable, list_models
from actors.messages import FULL_VIEW, PUBLIC_VIEW, Recipient, View
from actors.scripted import ScriptError
from actors.specs import build_config
from actors.transcript import TranscriptActor
from engine import DEFAULT_SEED_BITS, ConfigError, ReplayError, game_key, replay
from engine.narration import narrate
from net import cli, console
from net.console import Console
from net.hosting import Host, HostedGame, start_server
from net.server import NetworkServer

EXIT_USAGE = 2


def _open_viewer(
    game: HostedGame, server: NetworkServer, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    """Open the viewer on this game's full view, in its own process."""
    from viewer.app import launch  # noqa: PLC0415 - pygame is imported only when asked for

    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    extra = ("--until-over", str(args.viewer_snapshot)) if args.viewer_snapshot else ()
    return launch(game.url(local, "viewer", "ui"), server.lobby.admin_token, *extra)


def _start_server(args: argparse.Namespace, term: Console) -> NetworkServer:
    server = start_server(
        cli.server_config(args),
        certfile=args.certfile,
        keyfile=args.keyfile,
        any_port_if_taken=args.port is None,
    )
    if args.port is None and server.port != cli.DEFAULT_PORT:
        term.say(f"Port {cli.DEFAULT_PORT} is taken: listening on {server.port} instead.")
    console.announce(args, server, term)
    return server


def play(argv: Sequence[str]) -> int:
    """`run.py [options]`: host one game; returns the exit code."""
    parser = cli.play_parser()
    args = parser.parse_args(argv)
    problem = cli.check_timers(args)
    if problem is not None:
        parser.error(problem)
    term = Console(sys.stdout, sys.stderr)
    # 128 bits: a small default seed can be found by search from what spectators see (docs/security.md).
    seed = args.seed if args.seed is not None else secrets.randbits(DEFAULT_SEED_BITS)
    try:
        secret = load_host_secret(args.host_secret)
        config = build_config(args.preset, roles=args.roles, players=args.players, rules=args.rule)
        key = game_key(secret, seed)
        aiwolf = cli.aiwolf_seats(config, args)
        config = cli.aiwolf_opening(config, args, aiwolf)
        agents = cli.build_agents(config, args, seed, key)
        people = cli.people(config, args)
    except (ConfigError, ScriptError, ValueError, HostSecretError) as exc:
        parser.error(str(exc))
    if not console.check_llm_seats(agents, args, seed, key, term):
        return EXIT_USAGE
    try:
        server = _start_server(args, term)
    except ValueError as exc:
        parser.error(str(exc))
    game_id = uuid.uuid4().hex[:12]
    # The name says when and which game, never the seed (which, with the source, opens unkeyed games).
    log_path = args.log or Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{game_id}.jsonl"
    transcript = None
    viewer = None
    try:
        with Host(secret, server=server) as host:
            game = host.open_game(
                config, agents, seed=seed, game_id=game_id, grace_s=args.grace, aiwolf=aiwolf
            )
            print(f"Loup-Garou: {config.name}, {len(config.players)} players, seed {seed}, game {game_id}.")
            console.spectator_links(game, args, people, term)
            viewer = _open_viewer(game, server, args) if args.viewer else None
            console.seat_remote_agents(game, args, term, people)
            print(f"Agents: {console.describe_agents(game.seats)}.")
            observers: list[tuple[Recipient, View]] = []
            if not args.quiet:
                transcript = TranscriptActor.start(sys.stdout.write, colour=cli.use_colour(args.color))
                observers.append((transcript, FULL_VIEW if args.full else PUBLIC_VIEW))
            finished = game.play(
                timeout_s=args.deadline,
                log_path=log_path,
                observers=observers,
                seat_timeouts=people,
                pace_s=args.pace,
                hidden_turn_s=args.hidden_turn,
            )
    except KeyboardInterrupt:
        print("\nInterrupted: every actor was stopped.", file=sys.stderr)
        return 130
    finally:
        if transcript is not None:
            transcript.stop()
        console.wait_for_viewer(viewer, term)
        server.stop()
    console.report(finished, log_path, term)
    return 0


def replay_log(argv: Sequence[str]) -> int:
    """`run.py replay LOG`: re-run the engine from a log and check the outcome is identical."""
    args = cli.replay_parser().parse_args(argv)
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
    print(console.replay_verdict(game.outcome(), len(record["inputs"])))
    return 0


def list_llm_models(argv: Sequence[str]) -> int:
    """`run.py models [--ollama-host URL | --openai-base-url URL]`: the models a server has."""
    backend, host = cli.models_server(cli.models_parser().parse_args(argv))
    try:
        models = list_models(host, backend=backend)
    except LLMUnavailable as exc:
        print(f"{exc}.", file=sys.stderr)
        return 1
    empty = f"No model at {host}" + (" (ollama pull llama3.2)." if backend == "ollama" else ".")
    print(f"{len(models)} model(s) at {host}:" if models else empty)
    for name in models:
        print(f"  {name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: dispatch to `replay`, `models`, `tournament`, `report`, or play a game."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["replay"]:
        return replay_log(argv[1:])
    if argv[:1] == ["models"]:
        return list_llm_models(argv[1:])
    if argv[:1] == ["tournament"]:
        from tournament.cli import tournament_main  # noqa: PLC0415 - only this subcommand needs it

        return tournament_main(argv[1:], sys.stdout, sys.stderr)
    if argv[:1] == ["report"]:
        from tournament.cli import report_main  # noqa: PLC0415 - matplotlib and openskill only when asked

        return report_main(argv[1:], sys.stdout, sys.stderr)
    return play(argv)


if __name__ == "__main__":
    sys.exit(main())
