"""Soak: many games in a row in one server process, every seat a remote agent; threads and memory.

    python -m bench.soak [--games 1000] [--every 50] [--variants closed,kept] [--write-docs]

Each variant runs in a fresh process (`--one VARIANT`): one `NetworkServer` (in-process) and one
`net.hosting.Host` (as `run.py` hosts games: spectator hubs, one shared `ThreadingScheduler`);
classic-8 games one after another, seeds 1..N, every seat played over loopback by the agent pool
(`bench.agentpool`: one other process, one Trio loop, random legal answers at once, ~400-character
speeches). With two or more cores the server process is pinned to CPU 0 and the pool to CPU 1.

Every `--every` games (and before the first) the server process samples: its thread count; its RSS
as it is (`/proc/self/statm`); its RSS after `gc.collect()` and `malloc_trim(0)` (live memory: the
server raises the collector's generation-2 threshold to 1000, so garbage can wait long); and how many
games the lobby still holds. Variants:

- `closed`: each game is closed after its end (`HostedGame.close()`), as a long-lived host should.
- `kept`: games are never closed; the lobby keeps each one with every frame of every view (what the
  server did before `GameNetwork.close` existed, and what a host that forgets to close gets).

Each game is checked: a real outcome, no fault, every agent got `game_over`, no sequence gap.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import gc
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.agentpool import AgentPool
from bench.docs import replace_section
from bench.engine_bench import commit, machine
from engine import preset
from net.hosting import Host
from net.server import NetworkServer, ServerConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIG = preset("classic-8")
BENCH_SECRET = hashlib.sha256(b"loupgarou/bench").digest()  # fixed: the same games on every run
VARIANTS = ("closed", "kept")
PAGE = os.sysconf("SC_PAGE_SIZE")
GAME_WAIT_S = 120.0
JOIN_WAIT_S = 30.0


def rss_mib() -> float:
    """Resident set size of this process."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def live_rss_mib() -> float:
    """RSS after a full collection and giving free heap pages back (glibc `malloc_trim`)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def pin(cpu: int) -> bool:
    """Pin this process (its threads to come) to one CPU when there are two or more."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2:  # noqa: PLR2004
        os.sched_setaffinity(0, {cpu})
        return True
    return False


def play_one(host: Host, pool: AgentPool, number: int, *, close: bool) -> dict[str, Any]:
    """Host game `number` with every seat played by the pool; returns the pool's report."""
    assert host.server is not None
    game = host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=number, game_id=f"soak-{number}")
    game_id = game.game_id
    pool.play(game_id, host.server.port, number, list(game.tokens.items()))
    if missing := game.wait_for_agents(JOIN_WAIT_S):
        raise RuntimeError(f"{game_id}: agents missing: {missing}")
    finished = game.play(wait_s=GAME_WAIT_S, hidden_turn_s=0.0)  # no timing cover: it holds for deadlines
    report = pool.report(JOIN_WAIT_S)
    if close:
        game.close(wait=True)
    problems = [
        f"{p}: {s['error'] or 'no game_over'}"
        for p, s in report["seats"].items()
        if s["error"] or not s["over"]
    ]
    if finished.outcome is None or any(finished.faults.values()) or problems:
        raise RuntimeError(f"{game_id}: outcome {finished.outcome}, faults {finished.faults}, {problems}")
    return report


def run_variant(variant: str, games: int, every: int) -> dict[str, Any]:
    """Play `games` games in this process; samples every `every` games."""
    pinned = pin(0)
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    pool = AgentPool(cpu=1 if pinned else None)
    host = Host(BENCH_SECRET, server=server)  # one shared scheduler; every game keyed
    samples: list[dict[str, Any]] = []
    start = time.perf_counter()

    def sample(number: int) -> None:
        names = sorted(t.name for t in threading.enumerate())
        raw = rss_mib()
        samples.append(
            {
                "game": number,
                "seconds": round(time.perf_counter() - start, 2),
                "threads": len(names),
                "thread_names": names,
                "rss_mib": round(raw, 1),
                "live_rss_mib": round(live_rss_mib(), 1),
                "games_held": len(server.lobby.games),
            }
        )
        print(json.dumps({k: v for k, v in samples[-1].items() if k != "thread_names"}), file=sys.stderr)

    try:
        sample(0)
        start = time.perf_counter()
        for number in range(1, games + 1):
            play_one(host, pool, number, close=variant == "closed")
            if number % every == 0 or number == games:
                sample(number)
        elapsed = time.perf_counter() - start
    finally:
        host.close()
        pool_cpu = pool.close()
        server.stop()
    usage = os.times()
    return {
        "variant": variant,
        "games": games,
        "seconds": round(elapsed, 2),
        "games_per_min": round(games / elapsed * 60, 1),
        "server_cpu_s": round(usage.user + usage.system, 1),
        "pool_cpu_s": pool_cpu,
        "pinned": pinned,
        "samples": samples,
    }


# ---------------------------------------------------------------------------------------- report


def table(results: dict[str, dict[str, Any]]) -> str:
    variants = list(results)
    head = ["game"]
    for v in variants:
        head += [f"{v}: threads", f"{v}: RSS MiB (live)", f"{v}: games held"]
    lines = ["| " + " | ".join(head) + " |", "|" + " ---: |" * len(head)]
    rows = zip(*(results[v]["samples"] for v in variants), strict=True)
    for row in rows:
        cells = [f"{row[0]['game']:,}"]
        for s in row:
            cells += [
                str(s["threads"]),
                f"{s['rss_mib']:.1f} ({s['live_rss_mib']:.1f})",
                f"{s['games_held']:,}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> str:
    samples = result["samples"]
    first, last = samples[0], samples[-1]
    half = min(samples, key=lambda s: abs(s["game"] - last["game"] / 2))  # the sample nearest mid-run
    games = last["game"] - half["game"]
    per_game = (last["live_rss_mib"] - half["live_rss_mib"]) / games * 1024 if games else 0.0
    threads = "/".join(map(str, sorted({s["threads"] for s in samples})))
    return (
        f"- **{result['variant']}**: {result['games']:,} games in {result['seconds'] / 60:.1f} min, "
        f"**{result['games_per_min']:,.0f} games/min**; threads at every sample: {threads} "
        f"({', '.join(first['thread_names'])}); live RSS {first['live_rss_mib']:.1f} MiB before the "
        f"first game, {half['live_rss_mib']:.1f} MiB at game {half['game']:,}, {last['live_rss_mib']:.1f} "
        f"MiB at game {last['game']:,}: **{per_game:+.0f} KiB a game** over the second half; CPU: "
        f"server process {result['server_cpu_s']:.0f} s, agent pool {result['pool_cpu_s']:.0f} s."
    )


def section(results: dict[str, dict[str, Any]], command: str, every: int) -> str:
    today = datetime.date.today().isoformat()
    pinned = next(iter(results.values()))["pinned"]
    where = "server process pinned to CPU 0, agent pool to CPU 1; " if pinned else ""
    parts = [
        f"Measured {today} on {machine()}; commit {commit()}; {where}loopback. Reproduce with `{command}`.",
        "",
        "One `NetworkServer` in the bench's process (with its spectator hubs, one shared "
        "`ThreadingScheduler`), classic-8 games one after another (seeds 1..N), all 8 seats of each "
        "played over WebSockets by `bench/agentpool.py` (another process, one Trio loop: random legal "
        "answers at once, ~400-character speeches). Each game is checked: an outcome, no fault, "
        "`game_over` for every agent, no gap in any agent's events. Samples before the first game and "
        f"every {every} games: thread count, RSS as it is and, in parentheses, after `gc.collect()` and "
        "`malloc_trim(0)` (live memory; the server sets the collector's generation-2 threshold to 1000, "
        "so garbage may wait long), games still held by the lobby. `closed`: each game is closed after "
        "its end (`HostedGame.close()`, as a long-lived host should); `kept`: never closed, so the "
        "lobby keeps every game with every frame of every view (the server before `GameNetwork.close` "
        "existed); everything else identical. Between games the server process runs the main thread, "
        "the server's Trio thread (`network`), the shared scheduler and the bench's reader of the "
        "agent pool's reports (`agentpool-reports`).",
        "",
        table(results),
        "",
        *(summary(r) for r in results.values()),
    ]
    if {"closed", "kept"} <= set(results):
        kept = results["kept"]["samples"][-1]
        closed = results["closed"]["samples"]
        parts += [
            "",
            f"Reading: with each game closed, live RSS stays at {closed[-1]['live_rss_mib']:.0f} MiB after "
            f"{closed[-1]['game']:,} games ({min(c['live_rss_mib'] for c in closed[1:]):.0f} to "
            f"{max(c['live_rss_mib'] for c in closed[1:]):.0f} MiB from game {closed[1]['game']} on) and the "
            f"thread count never moves; a host that never closes its games reaches "
            f"{kept['live_rss_mib']:.0f} MiB ({kept['games_held']:,} games held) and runs at "
            f"{results['kept']['games_per_min']:,.0f} games/min instead of "
            f"{results['closed']['games_per_min']:,.0f}.",
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="sample every N games")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--write-docs", action="store_true", help="rewrite the soak section of docs")
    parser.add_argument("--json", type=Path, help="also save the raw results here")
    parser.add_argument("--from-json", type=Path, help="render results saved by --json (no run)")
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)  # internal: one variant, JSON out
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_variant(args.one, args.games, args.every)))
        return 0
    results: dict[str, dict[str, Any]] = {}
    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        args.games = max(r["games"] for r in results.values())
        args.variants = ",".join(results)
    for variant in args.variants.split(",") if not results else ():
        print(f"{variant}: {args.games} games ...", file=sys.stderr, flush=True)
        one = [sys.executable, "-m", "bench.soak", "--one", variant, "--games", str(args.games)]
        one += ["--every", str(args.every)]
        done = subprocess.run(one, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    command = f"python -m bench.soak --games {args.games}" + (
        f" --variants {args.variants}" if args.variants != ",".join(VARIANTS) else ""
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    text = section(results, command, args.every)
    print(text)
    if args.write_docs:
        replace_section("soak", f"Soak: {args.games:,} games in one server process", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
