"""Many games at once: N concurrent classic-8 games in one server, every seat a remote agent.

    python -m bench.many_games [--games 50] [--rounds 3] [--write-docs]

One `NetworkServer` in this process and one `net.hosting.Host` (as `run.py` hosts games: spectator
hubs, one shared `ThreadingScheduler`, keyed games). Each round: N games are registered, the agent
pool (`bench.agentpool`: another process, one Trio loop, N x 8 WebSockets; random legal answers sent
as soon as a request arrives, ~400-character speeches) connects every seat, then all N games start
together and run to their end.
With two or more cores this process is pinned to CPU 0 and the pool to CPU 1, so the agents never
take the server's core.

Why not 400 SDK agents (`net.client.AgentClient`) in threads: 800 threads on 2 cores, one GIL; the
load generator would be what is measured.

Reported per round: games per minute (N / the time from starting the first game to the end of the
last), answers per second, and three latencies, p50 and p99 over every accepted answer:
- **game master** (the figure asked for): request-to-answer as the game master saw it, from each game's
  JSONL log: the `answer` line's time minus the `request` line's time for the same seat and phase
  (the request is logged just before it is told to the seat). It covers the game master's mailbox,
  the hop to the Trio thread, framing and sending, the agent, and the way back.
- **seat**: `thought_s` of the same lines: from the request reaching the seat in the Trio thread to the
  answer reaching it; the network part only.
- **agent**: at the agent, from the `request` frame's arrival to the first event after its answer
  (its acknowledgement): agent -> server -> game master -> agent.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.agentpool import AgentPool
from bench.docs import replace_section
from bench.engine_bench import commit, machine
from engine import preset
from net.hosting import Host, HostedGame
from net.server import NetworkServer, ServerConfig

CONFIG = preset("classic-8")
BENCH_SECRET = hashlib.sha256(b"loupgarou/bench").digest()  # fixed: the same games on every run
JOIN_WAIT_S = 60.0
GAME_WAIT_S = 300.0
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def log_latencies(path: Path) -> tuple[list[float], list[float], int]:
    """Game master's request-to-answer (ms), seat's thought (ms), faults, from one game's log."""
    asked: dict[tuple[str, int], float] = {}
    master: list[float] = []
    seat: list[float] = []
    faults = 0
    with path.open(encoding="utf-8") as log:
        for raw in log:
            line = json.loads(raw)
            kind = line["kind"]
            if kind == "request":
                asked[(line["player"], line["phase_id"])] = line["t"]
            elif kind == "answer" and line["status"] == "accepted":
                sent = asked.pop((line["player"], line["phase_id"]), None)
                if sent is not None:
                    master.append((line["t"] - sent) * 1000)
                seat.append(line["thought_s"] * 1000)
            elif kind == "finished":
                faults = sum(line["faults"].values())
    return master, seat, faults


def run_round(host: Host, pool: AgentPool, *, games: int, first_seed: int, folder: Path) -> dict[str, Any]:
    """Play `games` games at once on `host`; returns the round's figures."""
    assert host.server is not None
    hosted: list[HostedGame] = []
    for seed in range(first_seed, first_seed + games):
        game = host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=seed, game_id=f"many-{seed}")
        hosted.append(game)
        pool.play(game.game_id, host.server.port, seed, list(game.tokens.items()))
    for game in hosted:
        if missing := game.wait_for_agents(JOIN_WAIT_S):
            raise RuntimeError(f"{game.game_id}: agents missing: {missing}")
    cpu0, pool0 = os.times(), process_cpu_s(pool.process.pid)
    start = time.perf_counter()
    try:
        for game in hosted:
            game.start(log_path=folder / f"{game.game_id}.jsonl", hidden_turn_s=0.0)  # no timing cover
        finished = [game.wait(GAME_WAIT_S) for game in hosted]
        elapsed = time.perf_counter() - start
    finally:
        for game in hosted:
            game.stop()
    cpu1, pool1 = os.times(), process_cpu_s(pool.process.pid)
    reports = [pool.report(JOIN_WAIT_S) for _ in hosted]
    for game in hosted:
        game.close()  # forget the round's games: the next round starts from a clean lobby
    problems = [
        f"{r['game']}/{p}: {s['error'] or 'no game_over'}"
        for r in reports
        for p, s in r["seats"].items()
        if s["error"] or not s["over"]
    ]
    aborted = [f.game_id for f in finished if f.outcome is None]
    if problems or aborted:
        raise RuntimeError(f"aborted: {aborted}; agent problems: {problems[:5]}")
    master: list[float] = []
    seat: list[float] = []
    faults = 0
    for game in hosted:
        m, s, f = log_latencies(folder / f"{game.game_id}.jsonl")
        master += m
        seat += s
        faults += f
    agent = [ms for r in reports for ms in r["ack_ms"]]
    server_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return {
        "games": games,
        "seconds": round(elapsed, 2),
        "games_per_min": round(games / elapsed * 60, 1),
        "answers": len(master),
        "answers_per_s": round(len(master) / elapsed, 1),
        "faults": faults,
        "master_ms": (round(percentile(master, 50), 2), round(percentile(master, 99), 2)),
        "seat_ms": (round(percentile(seat, 50), 2), round(percentile(seat, 99), 2)),
        "agent_ms": (round(percentile(agent, 50), 2), round(percentile(agent, 99), 2)),
        "server_busy": round(server_cpu / elapsed, 2),
        "pool_busy": round((pool1 - pool0) / elapsed, 2),
    }


def run(games: int, rounds: int, *, pin: bool = True) -> tuple[list[dict[str, Any]], bool]:
    pinned = pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2  # noqa: PLR2004
    if pinned:
        os.sched_setaffinity(0, {0})
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    pool = AgentPool(cpu=1 if pinned else None)
    host = Host(BENCH_SECRET, server=server)  # one shared scheduler; every game keyed
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="many-games-") as folder:
            for r in range(rounds):
                result = run_round(
                    host,
                    pool,
                    games=games,
                    first_seed=1 + r * games,
                    folder=Path(folder),
                )
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    finally:
        host.close()
        pool.close()
        server.stop()
    return results, pinned


def section(results: list[dict[str, Any]], games: int, pinned: bool, command: str, host: str) -> str:
    today = datetime.date.today().isoformat()
    where = "this process (server) pinned to CPU 0, the agent pool to CPU 1; " if pinned else ""
    rows = [
        "| round | games | wall s | games/min | answers/s | game master p50 / p99 ms | seat p50 / p99 ms "
        "| agent p50 / p99 ms | faults | CPU busy, server / agents |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, r in enumerate(results, 1):
        cells = [
            str(i),
            str(r["games"]),
            f"{r['seconds']:.1f}",
            f"{r['games_per_min']:,.0f}",
            f"{r['answers_per_s']:,.0f}",
            *(f"{r[k][0]:.1f} / {r[k][1]:.1f}" for k in ("master_ms", "seat_ms", "agent_ms")),
            str(r["faults"]),
            f"{r['server_busy']:.0%} / {r['pool_busy']:.0%}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    gpm = statistics.median(r["games_per_min"] for r in results)
    p99 = statistics.median(r["master_ms"][1] for r in results)
    p50 = statistics.median(r["master_ms"][0] for r in results)
    faults = sum(r["faults"] for r in results)
    missed = "no deadline missed" if faults == 0 else f"{faults} faults (missed deadlines)"
    busy = statistics.median(r["server_busy"] for r in results)
    saturated = (
        ": the server's core is the limit, so the latency is mostly its queue (with one game at a time "
        "`--games 1` measures p50 under 2 ms) and the games per minute are what one core of Python hosts."
        if busy >= 0.9  # noqa: PLR2004
        else "."
    )
    return "\n".join(
        [
            f"Measured {today} on {host}; commit {commit()}; {where}loopback. Reproduce with `{command}`.",
            "",
            f"{games} classic-8 games at once in one `NetworkServer` (this process: spectator hubs, one "
            f"shared `ThreadingScheduler`, a JSONL log per game), all {games * 8} seats played over "
            "WebSockets by `bench/agentpool.py` (another process, one Trio loop; each agent answers a "
            "random legal action as soon as its request arrives, speeches of ~400 characters). 400 SDK "
            "agents would be 800 threads on 2 cores: the load generator, not the server, would be "
            "measured. Games per minute: games / (start of the first game to the end of the last). "
            "Latencies over every accepted answer: **game master** = request-to-answer as the game "
            "master saw it (its log's `answer` time minus its `request` time, same seat and phase: mailbox, "
            "hop to the Trio thread, framing, network, agent, and back); **seat** = `thought_s` (request "
            "at the seat in the Trio thread to the answer there: the network part); **agent** = at the "
            "agent, request frame to the first event after its answer (its acknowledgement).",
            "",
            *rows,
            "",
            f"Median over {len(results)} rounds: **{gpm:,.0f} games/min**, request-to-answer "
            f"**p50 {p50:.1f} ms, p99 {p99:.1f} ms** (game master's view); {missed} in "
            f"{sum(r['games'] for r in results)} games. The server's process was {busy:.0%} busy "
            f"(median; one core, one GIL) and the agents' "
            f"{statistics.median(r['pool_busy'] for r in results):.0%}{saturated}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=50, help="concurrent games per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true", help="rewrite the many-games section of docs")
    parser.add_argument("--no-pin", action="store_true", help="let both processes use every core")
    args = parser.parse_args(argv)
    host = machine()  # before pinning this process to one CPU
    results, pinned = run(args.games, args.rounds, pin=not args.no_pin)
    command = f"python -m bench.many_games --games {args.games} --rounds {args.rounds}"
    text = section(results, args.games, pinned, command, host)
    print(text)
    if args.write_docs:
        replace_section("many-games", f"Many games at once: {args.games} concurrent classic-8 games", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
