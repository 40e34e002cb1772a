"""Abuse: findings 2-4 of issue 11 replayed against a hosted game, next to a control run.

    python -m bench.abuse                          # 3 repeats of the three attacks (under 10 minutes)
    python -m bench.abuse --quick                  # one repeat, a tenth of the connections, short windows
    python -m bench.abuse --attacks cpu --scale 0.5
    python -m bench.abuse --write-docs             # also rewrite the `abuse` section of docs/benchmarks.md
    python -m bench.abuse --save run.json / --load run.json

Each pair (bench/abuse/runner.py) is a fresh server process hosting classic-8 games whose eight seats
are remote agents over WebSockets, all games with one fixed seed: games back to back with nobody
attacking (control), then the same with an attacker process at work (bench/abuse/attacks.py), then
one more game once the attackers have left. `/healthz` is probed and the server's RSS and open files
read every ~100 ms throughout (bench/abuse/measure.py). The verdicts (bench/abuse/report.py): the
game's wall time under attack within 1.5x of control, `/healthz` p99 under 100 ms under attack, the
server's RSS after the attackers left within 10% of control.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.abuse.attacks import KINDS, Plan
from bench.abuse.report import attack_words, reading, repeats_table, summarise, table
from bench.abuse.runner import Settings, cpus, measure
from bench.docs import replace_section
from bench.engine_bench import commit, machine
from bench.fanout.harness import reproduce

QUICK_SCALE, QUICK_WINDOW_S = 0.1, 3.0


def sources(addresses: str) -> str:
    """The attack's source addresses, in words."""
    every = addresses.split(",")
    return every[0] if len(every) == 1 else f"{len(every)} addresses, {every[0]} to {every[-1]}"


def method(args: argparse.Namespace, plan: dict[str, Any]) -> str:
    """How the figures were made, for the docs."""
    return (
        "Method: each pair is a fresh server process (`bench/abuse/host.py`: one `NetworkServer` with "
        "the defaults `run.py` uses, on 127.0.0.1) hosting classic-8 games one after another, seed "
        f"{args.seed} every time, all eight seats played over WebSockets by `bench/agentpool.py` (another "
        "process: a random legal answer as soon as a request comes); a game is forgotten only once the "
        "next one is hosted, so a spectator who comes between two games joins the next (as with "
        "`run.py`'s one long game) instead of being told `no_game`. A warm-up game, then the **control**: "
        f"games back to back for {args.window:g} s; then the **attack**: an attacker process "
        f"(`bench/abuse/attacks.py`, from {sources(args.source)}, raw sockets, hand-built frames, masked "
        "as a client's must be) starts, and once it is in place games are played back to back for another "
        f"{args.window:g} s while it goes on; then the attacker stops and closes everything, the bench "
        "waits until the server holds no more open files than after the control games (plus 16), plays "
        "one game (RSS *at once*), then games back to back for another "
        f"{args.window:g} s: **after** (the server gives memory back a few seconds after a crowd of "
        "connections has gone: `net/memory.py`). *Game wall ms* is the median over a window's games of "
        "`start_game` to the game's end (median over repeats); *not finished*: a game did not end "
        "within 60 s, or its agents could not join. `/healthz` is asked every ~100 ms from 127.0.0.1 "
        "on a fresh connection, 1 s timeout (a probe that times out or fails counts as 1 s); the "
        "attack's probes run from the attacker's start to its stop. RSS (`VmRSS` of "
        "`/proc/<pid>/status`) and open files (`/proc/<pid>/fd`) of the server process are read every "
        "~100 ms; *peak* is the highest while the attack ran, *control* after the control games, *at once* "
        "after the first game once the attackers left, *after* after the last game. "
        "*Server CPU*: its CPU time over a window's wall time. The attacks: "
        + "; ".join(f"{kind}: {attack_words(kind, plan)}" for kind in args.kinds)
        + ". Attackers that the server ends come back: the pingers at their next beat, the idle "
        "connections after a back-off (0.25 s, doubling to 4 s while the server ends them at once), so "
        "each attack keeps its pressure for the whole window. How each attacker connection *ended*: "
        "`held` (still open when the attacker stopped; it then reset it), `close N` (the server's close "
        "frame, code N), `http N` (an HTTP answer instead of an upgrade, or to a raw connection), `eof` / "
        "`reset` (dropped without a close frame), `refused` (no TCP connection), `attacker out of fds` "
        "(the attacker's own limit: both it and the server raise their open-file soft limit to the hard "
        "limit first). *Open files at ready* and *`/stats` clients at ready* are read once the attack "
        "is in place (-: `/stats` did not answer within 5 s). The attacker runs at nice 10: it shares "
        "its core with the agents and the probe, and at the same priority the probe's own wait for CPU "
        "was counted as the server's latency (p99 650 ms under the memory attack, 244 ms under the "
        "connection attack, while the server's core was 40% idle); an attacker on another machine takes "
        "none of their CPU. The connection attack opens its spectators first: opened first, its raw "
        "connections take the address's handshake slots and every spectator gets 503."
    )


def render(pairs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The docs section."""
    plan = pairs[0]["plan"]
    summary = summarise(pairs)
    return "\n".join(
        [
            f"Measured {args.date} on {args.machine}; commit {args.commit}; {args.pinning}; loopback; "
            f"{args.repeats} repeat(s), each a control-and-attack pair per attack in a fresh server "
            f"process; medians over repeats. Load average when the run started: {args.loadavg}.",
            "",
            f"Reproduce with `{args.command}` (part of `make bench`).",
            "",
            *table(summary),
            "",
            *reading(summary, plan),
            "",
            "Each pair:",
            "",
            *repeats_table(pairs),
            "",
            method(args, plan),
        ]
    )


def progress(pair: dict[str, Any], repeat: int) -> None:
    c, a, after = pair["control"], pair["attack"], pair["after"]
    print(
        f"repeat {repeat} {pair['kind']:11}: game {c['game_s'] * 1000:.0f} -> {a['game_s'] * 1000:.0f} ms "
        f"({len(c['games'])} / {len(a['games'])} games, {a['failed']} failed); /healthz p99 "
        f"{c['health']['p99_ms']:.0f} -> {a['health']['p99_ms']:.0f} ms, max {a['health']['max_ms']:.0f}; "
        f"RSS {c['rss_kib'] / 1024:.0f} / peak {a['peak']['rss_kib'] / 1024:.0f} / after "
        f"{after['rss_kib'] / 1024:.0f} MiB; open files peak {a['peak']['fds']:,}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure (or load), print the table; with --write-docs, rewrite the docs section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attacks", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--repeats", type=int, help="default: 3, or 1 with --quick")
    parser.add_argument("--scale", type=float, help="times the findings' connection counts (default 1)")
    parser.add_argument("--window", type=float, help="seconds of games per window (default 8)")
    parser.add_argument("--quick", action="store_true", help="one repeat, 0.1 scale, 3 s windows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sources", type=int, default=1, help="loopback addresses the attacks come from (127.0.0.2 on)"
    )
    parser.add_argument("--no-pin", action="store_true", help="let every process use every core")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--save", type=Path, help="also keep every pair's figures in this JSON file")
    parser.add_argument("--load", type=Path, help="report a saved run instead of measuring")
    args = parser.parse_args(argv)
    if args.load:
        saved = json.loads(args.load.read_text(encoding="utf-8"))
        vars(args).update(saved["args"])
        pairs = saved["pairs"]
    else:
        args.kinds = [k for k in args.attacks.split(",") if k]
        unknown = set(args.kinds) - set(KINDS)
        if unknown:
            parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
        args.repeats = args.repeats or (1 if args.quick else 3)
        args.scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
        args.window = args.window or (QUICK_WINDOW_S if args.quick else 8.0)
        args.source = ",".join(f"127.0.0.{2 + i}" for i in range(max(1, min(args.sources, 200))))
        args.date, args.machine, args.commit = datetime.date.today().isoformat(), machine(), commit()
        args.loadavg = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
        args.command = reproduce("bench.abuse", argv if argv is not None else sys.argv[1:])
        server_cpu, other_cpu = cpus(not args.no_pin)
        args.pinning = (
            f"server process pinned to CPU {server_cpu}, agent pool, attacker and bench to CPU {other_cpu}"
            if other_cpu is not None
            else "no CPU pinning"
        )
        if other_cpu is not None:
            os.sched_setaffinity(0, {other_cpu})  # the bench's samplers stay off the server's core
        settings = Settings(
            plan=Plan().scaled(args.scale), window_s=args.window, seed=args.seed, source=args.source,
            pin=not args.no_pin,
        )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="abuse-") as tmp:
            pairs = measure(args.kinds, args.repeats, settings, Path(tmp), progress)
        if args.save:
            keep = ["kinds", "repeats", "scale", "window", "seed", "source", "date", "machine", "commit"]
            keep += ["loadavg", "command", "pinning"]
            saved = {"args": {k: getattr(args, k) for k in keep}, "pairs": pairs}
            args.save.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    summary = summarise(pairs)
    print("\n".join(["", *table(summary), "", *reading(summary, pairs[0]["plan"])]))
    if args.write_docs:
        replace_section("abuse", "Abuse: findings 2-4 replayed against a hosted game", render(pairs, args))
        print("\ndocs/benchmarks.md: abuse section rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
