"""What run.py tells the person at the terminal while it hosts a game, and the verdicts it prints.

Everything goes through a `Console` (the terminal's output and error streams, given by the caller): the
package itself never prints. The wording is what the README and the tests of run.py expect.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from actors.agents import Agent
from actors.heuristic import HeuristicAgent
from actors.llm import LLMAgent, default_host
from actors.llm.probe import LLMUnavailable, list_models, missing_llm_seats
from actors.messages import GameFinished
from engine import Outcome, PlayerId, Team, seat_seed
from net.exposure import is_loopback, reachable_hosts
from net.hosting import HostedGame
from net.server import NetworkServer

WINNERS = {Team.VILLAGE: "the village wins", Team.WOLVES: "the wolves win", None: "no winner"}
SHOWN_MODELS = 6  # model names listed in the one-line Ollama status


@dataclass(frozen=True, slots=True)
class Console:
    """The terminal: lines for the user go to `out`, errors and warnings to `err`."""

    out: TextIO
    err: TextIO

    def say(self, line: str, *, flush: bool = False) -> None:
        """Write one line to `out` (flushed when someone waits on what it says)."""
        self.out.write(line + "\n")
        if flush:
            self.out.flush()

    def warn(self, line: str) -> None:
        """Write one line to `err`."""
        self.err.write(line + "\n")


def check_llm_seats(
    agents: dict[PlayerId, Agent | None],
    args: argparse.Namespace,
    seed: int,
    key: bytes | None,
    term: Console,
) -> bool:
    """Check each LLM seat's server and model; say plainly what is missing and seat the built-in agent
    instead (returns False instead when --require-llm). Without LLM seats, say whether Ollama is there."""
    llm = {p: a for p, a in agents.items() if isinstance(a, LLMAgent)}
    if not llm:
        host = args.ollama_host or default_host()
        try:
            models = list_models(host, timeout=2.0)
        except LLMUnavailable as exc:
            term.say(f"Ollama: {exc}; seats play built-in agents (with a server: --model NAME).")
        else:
            shown = ", ".join(models[:SHOWN_MODELS]) + (", ..." if len(models) > SHOWN_MODELS else "")
            term.say(f"Ollama at {host} has {len(models)} model(s) ({shown}): seat them with --model NAME.")
        return True
    problems = missing_llm_seats({p: a.settings for p, a in llm.items()})
    label = "Ollama" if all(a.settings.backend == "ollama" for a in llm.values()) else "LLM"
    for problem, players in problems.items():
        if args.require_llm:
            term.warn(f"error: {problem} (--require-llm)")
            return False
        term.say(f"{label}: {problem}: {', '.join(players)} play the built-in agent instead.")
        for player in map(PlayerId, players):
            agents[player] = HeuristicAgent(seat_seed(key, seed, list(agents).index(player)))
    return True


def describe_agents(agents: Mapping[PlayerId, object]) -> str:
    """How many seats each kind of agent plays, e.g. `HeuristicAgent x6, remote x2`."""
    names = []
    for agent in agents.values():
        if agent is None:
            names.append("remote")
        elif isinstance(agent, LLMAgent):
            names.append(f"{agent.settings.backend}:{agent.settings.model}")
        else:
            names.append(type(agent).__name__)
    return ", ".join(f"{n} x{names.count(n)}" for n in sorted(set(names)))


def announce(args: argparse.Namespace, server: NetworkServer, term: Console) -> None:
    """Pick the host printed URLs use (`args.url_host`): never a wildcard; say where else the server is
    reachable, and warn when tokens would cross the network in clear."""
    hosts = [*args.public_name, *reachable_hosts(args.host)]
    args.url_host = hosts[0]
    if len(hosts) > 1:
        term.say(
            f"Listening on {args.host}:{server.port}, reachable at {', '.join(hosts)}: URLs use {hosts[0]}."
        )
    if server.config.ssl_context is None and not is_loopback(args.host):
        term.warn(
            f"Warning: listening on {args.host} without TLS: seat and admin tokens cross the network in "
            "clear. Pass --certfile (and --keyfile) to serve wss://."
        )


def seat_remote_agents(game: HostedGame, args: argparse.Namespace, term: Console) -> None:
    """Print where each remote seat connects, wait for them; the built-in agent takes each empty one."""
    players = game.config.players
    for player, token in game.tokens.items():
        term.say(
            f"Seat {players.index(player) + 1} ({player}): {game.url(args.url_host, player, 'agent', token)}"
        )
    if not game.tokens:
        return
    term.say(f"Waiting up to {args.join_timeout:g} s for {len(game.tokens)} remote agent(s)...", flush=True)
    for player in game.wait_for_agents(args.join_timeout):
        term.say(f"Seat {players.index(player) + 1} ({player}): nobody came; the built-in agent takes it.")


def wait_for_viewer(viewer: subprocess.Popen[bytes] | None, term: Console) -> None:
    """Keep the server up until the user closes the viewer's window."""
    if viewer is not None and viewer.poll() is None:  # the game may be over before the window opens
        term.say("The viewer is open: close its window (q) to stop the server.", flush=True)
        viewer.wait()


def report(finished: GameFinished, log_path: Path, term: Console) -> None:
    """The LLM usage of each seat, the result, and how to replay the log."""
    for player, usage in finished.usage.items():
        term.say(
            f"{player}: {usage.get('calls', 0):g} LLM calls, {usage.get('retries', 0):g} retries, "
            f"{usage.get('prompt_tokens', 0):g} tokens in, {usage.get('completion_tokens', 0):g} out, "
            f"{usage.get('latency_s', 0):.1f} s"
        )
    outcome = finished.outcome
    verdict = "aborted" if outcome is None else WINNERS[outcome.winner]
    term.say(f"Result: {verdict} ({outcome.reason if outcome else 'game aborted'}). Log: {log_path}")
    term.say(f"Replay it with: python run.py replay {log_path}")


def replay_verdict(outcome: Outcome | None, inputs: int) -> str:
    """The last line of `run.py replay`: the checked outcome, or where the log stops."""
    if outcome is None:
        return f"Replayed {inputs} inputs: the log ends before the game does."
    return f"Replay identical: {WINNERS[outcome.winner]} ({outcome.reason}), day {outcome.day}."
