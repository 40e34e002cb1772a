"""Tournament throughput: local vs Ray, and an LLM-bound tournament against its ideal wall time.

    python -m bench.tournament [--games 1000] [--llm-games 12] [--latency 0.1] [--hosts 3] [--parallel 2]
                               [--skip-ray] [--write-docs]

1. A heuristic-vs-random tournament on classic-8 (8 games a block, `--games` rounded up to blocks),
   played by the local executor (games at once = cores) and by Ray on a local instance (one CPU a
   game). Games/min, the mean time inside a game, and the overhead per game: the time a slot spends
   not playing (dispatch, pickling, the store's transaction), `wall * slots / games - mean game`.
2. An LLM-bound tournament: two `ollama:` contestants spread over `--hosts` fake Ollama servers
   (tests/llm/fake_ollama.py: real HTTP on loopback) that answer every chat after `--latency` s,
   `--parallel` requests in flight per host. The ideal wall time is calls * latency / (hosts *
   parallel): every host slot busy all the time. The goal is within 1.2x of it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.docs import replace_section
from bench.engine_bench import machine
from tests.llm.fake_ollama import KNOWN_MODEL, Reply, running_fake, valid_content
from tournament import parse_plan, run_tournament
from tournament.store import Store

SECRET = b"bench-tournament-secret-32-bytes"
COMMAND = "python -m bench.tournament --write-docs"
DEFAULT_GAMES = 1000


def builtin_plan(games: int, slots: int) -> str:
    """Heuristic vs random, enough blocks for `games`."""
    blocks = max(1, -(-games // 8))
    return f"""
name = "heuristic vs random"
seed = 1
blocks = {blocks}
[[contestant]]
name = "heuristic"
agent = "heuristic"
[[contestant]]
name = "random"
agent = "random"
[limits]
games_at_once = {slots}
phase_deadline_s = 30
game_deadline_s = 300
"""


def llm_plan(games: int, hosts: Sequence[str], parallel: int, slots: int) -> str:
    """Two LLM contestants over the same hosts (the model the fake serves)."""
    blocks = max(1, -(-games // 8))
    host_list = ", ".join(f'"{h}"' for h in hosts)
    contestants = "".join(
        f"""
[[contestant]]
name = "{name}"
agent = "ollama:{KNOWN_MODEL}"
hosts = [{host_list}]
options = {{ timeout_s = 60, parallel = {parallel} }}
"""
        for name in ("model-a", "model-b")
    )
    return f"""
name = "llm-bound"
seed = 2
blocks = {blocks}
{contestants}
[limits]
games_at_once = {slots}
phase_deadline_s = 120
game_deadline_s = 1800
"""


def measure(plan_text: str, folder: Path, label: str, **options: object) -> dict[str, float]:
    """Play one tournament; its wall time, games, mean game time and LLM calls."""
    plan = parse_plan(plan_text)
    db = folder / f"{label}.db"
    start = time.perf_counter()
    final = run_tournament(plan, db, secret=SECRET, **options)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    with Store(db) as store:
        [(mean_game,)] = store.db.execute("SELECT AVG(wall_s) FROM games WHERE status = 'done'")
        [(calls,)] = store.db.execute("SELECT COALESCE(SUM(calls), 0) FROM seats")
    return {
        "wall": wall,
        "games": final.done,
        "failed": final.failed,
        "mean_game": mean_game or 0.0,
        "calls": calls,
        "slots": plan.limits.games_at_once,
    }


def builtin_rows(games: int, skip_ray: bool, folder: Path) -> list[str]:
    """Local vs Ray on the built-in agents."""
    cores = len(os.sched_getaffinity(0))
    runs = {"local (threads)": measure(builtin_plan(games, cores), folder, "local")}
    started = ""
    if not skip_ray:
        import ray  # noqa: PLC0415 - optional extra

        start = time.perf_counter()
        root = str(Path(__file__).resolve().parents[1])
        ray.init(
            num_cpus=cores, include_dashboard=False, log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": root}},
        )  # fmt: skip
        started = f"Starting the local Ray instance took {time.perf_counter() - start:.1f} s (not counted)."
        try:
            runs["Ray (local instance)"] = measure(builtin_plan(games, cores), folder, "ray", executor="ray")
        finally:
            ray.shutdown()
    rows = [
        "| executor | games | wall (s) | games/min | mean game (s) | overhead per game (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in runs.items():
        overhead = (r["wall"] * r["slots"] / r["games"] - r["mean_game"]) * 1000
        rows.append(
            f"| {label} | {r['games']:.0f} | {r['wall']:.1f} | {r['games'] / r['wall'] * 60:.0f} | "
            f"{r['mean_game']:.3f} | {overhead:.0f} |"
        )
    return [*rows, "", started] if started else rows


def llm_rows(games: int, latency: float, hosts: int, parallel: int, folder: Path) -> list[str]:
    """The LLM-bound tournament against its ideal."""

    def responder(request: dict[str, object], n: int) -> Reply:
        return Reply(content=valid_content(request, n), delay=latency)

    with ExitStack() as stack:
        fakes = [stack.enter_context(running_fake(responder)) for _ in range(hosts)]
        slots = 2 * hosts * parallel  # enough games that every host slot has a request waiting
        r = measure(llm_plan(games, [f.url for f in fakes], parallel, slots), folder, "llm")
        per_host = [len(f.chats) for f in fakes]
    ideal = r["calls"] * latency / (hosts * parallel)
    return [
        "| games | LLM calls | calls per host | latency (s) | hosts x parallel | wall (s) | ideal (s) | "
        "wall / ideal |",
        "|---|---|---|---|---|---|---|---|",
        f"| {r['games']:.0f} | {r['calls']:.0f} | {'/'.join(map(str, per_host))} | {latency} | "
        f"{hosts} x {parallel} | {r['wall']:.1f} | {ideal:.1f} | {r['wall'] / ideal:.2f}x |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run both parts, print, optionally rewrite the docs section."""
    p = argparse.ArgumentParser(prog="python -m bench.tournament", description=__doc__)
    p.add_argument(
        "--games", type=int, default=DEFAULT_GAMES, help="games of the built-in tournament (default 1000)"
    )
    p.add_argument("--llm-games", type=int, default=24, help="games of the LLM-bound tournament (default 24)")
    p.add_argument("--latency", type=float, default=0.1, help="seconds per fake chat call (default 0.1)")
    p.add_argument("--hosts", type=int, default=3, help="fake Ollama hosts (default 3)")
    p.add_argument("--parallel", type=int, default=2, help="requests in flight per host (default 2)")
    p.add_argument("--skip-ray", action="store_true", help="local executor only")
    p.add_argument("--write-docs", action="store_true", help="rewrite the section in docs/benchmarks.md")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        builtin = builtin_rows(args.games, args.skip_ray, folder)
        print("\n".join(builtin), flush=True)
        llm = llm_rows(args.llm_games, args.latency, args.hosts, args.parallel, folder)
        print("\n".join(llm))
    section = "\n".join(
        [
            f"Machine: {machine()}. Reproduce: `{COMMAND}`"
            + ("." if args.games == DEFAULT_GAMES else f" (this run: `--games {args.games}`)."),
            "",
            "Heuristic vs random on classic-8, every game recorded in SQLite (WAL) as it ends. Overhead per "
            "game: what a slot spends outside the game (dispatch, pickling, the store's transaction): "
            "`wall * slots / games - mean game`.",
            "",
            *builtin,
            "",
            f"LLM-bound: two `ollama:` contestants spread over {args.hosts} fake Ollama hosts "
            f"(tests/llm/fake_ollama.py) answering after {args.latency} s, {args.parallel} in flight per "
            "host; ideal = calls x latency / (hosts x parallel). Goal: within 1.2x.",
            "",
            *llm,
        ]
    )
    if args.write_docs:
        replace_section("tournament", "Tournaments: local vs Ray, LLM-bound", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
