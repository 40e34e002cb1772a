"""The server process of the abuse benchmark: one `NetworkServer` hosting classic-8 games, one at a
time, every seat a remote agent.

    python -m bench.abuse.host [--cpu 0] [--pool-cpu 1]

Everything the server needs lives here, so that this process's RSS and CPU time are the server's
own: the `NetworkServer` with the defaults `run.py` uses (loopback, port chosen by the kernel), one
`ThreadingScheduler`, and each game's actors. The agents are `bench.agentpool` (another process, one
Trio loop, eight WebSockets a game from 127.0.0.1, a random legal answer as soon as a request comes).
The process raises its own open-file soft limit to the hard limit, as a host expecting thousands of
connections would.

It prints `{"port": ..., "pid": ..., "pool_pid": ..., "open_files_limit": ...}`, then reads
commands on stdin, one JSON object a line, and answers each with one line:
- `{"cmd": "games", "window_s": W, "seed": S, "max_games": M}`: games one after another, all with
  seed S (the same deal and the same answers each time), until W seconds have passed (at least one
  game, at most M) -> `{"games": [{"seconds", "join_s", "events", "error"}, ...]}`. `seconds` is the
  wall time from `start_game` to the game's end; `join_s` from registering the game to every seat
  taken. After a game that could not be played the pool may be stuck: later games are not tried.
- `{"cmd": "quit"}`: stop everything and exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

from actors.runner import GameTimeout, start_game
from actors.scheduler import ThreadingScheduler
from bench.abuse.attacks import raise_open_files
from bench.agentpool import AgentPool
from engine import preset
from net.game_network import GameNetwork
from net.memory import MemoryPolicy, use_system_allocator
from net.server import NetworkServer, ServerConfig

CONFIG = preset("classic-8")
JOIN_WAIT_S = 20.0
GAME_WAIT_S = 60.0  # a game that takes longer (0.1 s unattacked) is recorded as not finished
CLOSE_WAIT_S = 10.0


class Host:
    """The server, its scheduler and the agent pool; plays games on request."""

    def __init__(self, pool_cpu: int | None) -> None:
        """Start the server and the pool."""
        self.server = NetworkServer(ServerConfig(port=0, memory=MemoryPolicy(freeze_at_start=True)))
        self.server.start()
        self.pool = AgentPool(cpu=pool_cpu)
        self.scheduler = ThreadingScheduler()
        self.played = 0
        self.stuck: str | None = None
        self._previous: GameNetwork | None = None

    def games(self, window_s: float, seed: int, max_games: int) -> list[dict[str, Any]]:
        """Play games back to back until `window_s` has passed (at least one, at most `max_games`)."""
        results: list[dict[str, Any]] = []
        start = time.perf_counter()
        while len(results) < max(1, max_games):
            if self.stuck is not None:
                results.append({"seconds": None, "join_s": None, "events": 0, "error": self.stuck})
                break
            results.append(self.play(seed))
            if time.perf_counter() - start >= window_s:
                break
        return results

    def play(self, seed: int) -> dict[str, Any]:
        """One game; its figures, or what went wrong."""
        self.played += 1
        game_id = f"abuse-{self.played}"
        registered = time.perf_counter()
        net = GameNetwork(self.server, game_id, CONFIG.players, clock=self.scheduler.now)
        # The last game is forgotten only now that this one is hosted: a spectator who comes between
        # two games joins the next one (run.py hosts one long game) instead of being told `no_game`.
        self._forget_previous()
        result: dict[str, Any] = {"seconds": None, "join_s": None, "events": 0, "error": None}
        try:
            self.pool.play(game_id, self.server.port, seed, [(p, s.token) for p, s in net.seats.items()])
            missing = net.wait_for_agents(JOIN_WAIT_S)
            result["join_s"] = round(time.perf_counter() - registered, 4)
            if missing:
                self.stuck = f"agents could not join within {JOIN_WAIT_S:.0f} s: {len(missing)} seats empty"
                result["error"] = self.stuck
                return result
            start = time.perf_counter()
            running = start_game(
                CONFIG,
                dict(net.seats),
                seed=seed,
                scheduler=self.scheduler,
                observers=net.observers,
                game_id=game_id,
                hidden_turn_s=0.0,  # throughput, not secrecy: the cover would hold nights for deadlines
            )
            try:
                net.bind(running.master)
                finished = running.wait(GAME_WAIT_S)
                result["seconds"] = round(time.perf_counter() - start, 4)
            finally:
                running.stop()
            report = self.pool.report(JOIN_WAIT_S)
            problems = [
                f"{p}: {s['error'] or 'no game_over'}"
                for p, s in report["seats"].items()
                if s["error"] or not s["over"]
            ]
            result["events"] = sum(s["events"] for s in report["seats"].values())
            if finished.outcome is None or any(finished.faults.values()) or problems:
                result["error"] = f"outcome {finished.outcome}, faults {finished.faults}, {problems[:3]}"
        except (GameTimeout, TimeoutError, RuntimeError) as exc:
            self.stuck = f"{type(exc).__name__}: {exc}"
            result["error"] = self.stuck
        finally:
            self._previous = net
        return result

    def _forget_previous(self) -> None:
        if self._previous is None:
            return
        self._previous.close()
        self._previous = None
        done = threading.Event()
        self.server.call_soon(done.set)  # Trio runs callbacks in order: the close is done when this is
        done.wait(CLOSE_WAIT_S)

    def close(self) -> None:
        """Stop the scheduler, the pool (killed if it does not answer) and the server."""
        self._forget_previous()
        self.scheduler.close()
        self.pool.close(timeout=5.0)
        self.server.stop()


def emit(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    use_system_allocator()  # as run.py does (net/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, help="pin this process (the server) to this CPU")
    parser.add_argument("--pool-cpu", type=int, help="pin the agent pool to this CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    limit = raise_open_files()
    host = Host(args.pool_cpu)
    try:
        emit(
            {
                "port": host.server.port,
                "pid": os.getpid(),
                "pool_pid": host.pool.process.pid,
                "open_files_limit": limit,
            }
        )
        for line in sys.stdin:
            command = json.loads(line)
            if command["cmd"] == "quit":
                break
            if command["cmd"] == "games":
                emit({"games": host.games(command["window_s"], command["seed"], command["max_games"])})
    finally:
        host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
