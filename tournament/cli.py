"""`run.py tournament PLAN.toml` and `run.py report DB`: option tables and what they print.

Everything is written to the streams given (`out`, `err`), so the package never prints by itself.
On a terminal the progress is one line redrawn in place; otherwise one line per game that ends (what
a log file or a parent process reads).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from actors.host_secret import HostSecretError, load_host_secret
from tournament.plan import PlanError, load_plan
from tournament.ratings import Rate, Summary, load_games, summarise
from tournament.runner import Progress, run_tournament
from tournament.schedule import build_schedule, describe
from tournament.store import Store, StoreError

EXIT_USAGE = 2


def tournament_parser() -> argparse.ArgumentParser:
    """The options of `run.py tournament`."""
    p = argparse.ArgumentParser(
        prog="run.py tournament",
        description="Play a tournament plan (TOML); run it again to resume where it stopped.",
    )
    p.add_argument("plan", type=Path, help="the plan (TOML), see README 'Tournaments'")
    p.add_argument("--db", type=Path, help="results database (default: the plan's path with .db)")
    p.add_argument("--log-dir", type=Path, help="game logs (default: DB-logs/ beside the database)")
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="where games run")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument(
        "--ray-cpus-per-game", type=float, default=1.0, metavar="N", help="CPUs a game's Ray task reserves"
    )
    p.add_argument("--host-secret", type=Path, help="host secret file (games are keyed with it)")
    p.add_argument("--dry-run", action="store_true", help="print the schedule and stop")
    p.add_argument("--report", action="store_true", help="write the report when the tournament is over")
    return p


def report_parser() -> argparse.ArgumentParser:
    """The options of `run.py report`."""
    p = argparse.ArgumentParser(
        prog="run.py report", description="Write a tournament's report (Markdown + PNG)."
    )
    p.add_argument("db", type=Path, help="the tournament's results database")
    p.add_argument("--out", type=Path, help="report folder (default: DB-report/ beside the database)")
    p.add_argument(
        "--bootstrap", type=int, default=200, metavar="N", help="bootstrap resamples for rank intervals"
    )
    return p


def tournament_main(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """`run.py tournament`: returns the exit code."""
    parser = tournament_parser()
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.plan)
    except PlanError as exc:
        err.write(f"plan refused: {exc}\n")
        return EXIT_USAGE
    games = build_schedule(plan)
    out.write("\n".join(describe(plan, games)) + "\n")
    if args.dry_run:
        return 0
    db = args.db or args.plan.with_suffix(".db")
    try:
        secret = load_host_secret(args.host_secret)
        final = run_tournament(
            plan,
            db,
            secret=secret,
            executor=args.executor,
            address=args.address,
            log_dir=args.log_dir,
            progress=ProgressLine(out),
            ray_cpus_per_game=args.ray_cpus_per_game,
        )
    except (StoreError, HostSecretError, ValueError) as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write(f"\nInterrupted: finished games are in {db}; run the same command to resume.\n")
        return 130
    with Store(db) as store:
        summary = summarise(load_games(store), [c.name for c in plan.contestant], bootstrap=100)
    out.write("\n".join(summary_lines(summary, final, db)) + "\n")
    if args.report:
        from tournament.report import write_report  # noqa: PLC0415 - matplotlib only when asked for

        path = write_report(db)
        out.write(f"Report: {path}\n")
    return 0


def report_main(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """`run.py report DB`: returns the exit code."""
    args = report_parser().parse_args(argv)
    if not args.db.exists():
        err.write(f"no database at {args.db}\n")
        return EXIT_USAGE
    from tournament.report import write_report  # noqa: PLC0415 - matplotlib only when asked for

    try:
        path = write_report(args.db, args.out, bootstrap=args.bootstrap)
    except StoreError as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    out.write(f"Report: {path}\n")
    return 0


class ProgressLine:
    """Progress with an ETA: redrawn in place on a terminal, one line per ended game elsewhere."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.shown = -1

    def __call__(self, p: Progress) -> None:
        """Show `p` (called by the runner after every change)."""
        eta = "?" if p.eta_s is None else _duration(p.eta_s)
        width = 24
        filled = int(width * p.done / p.total) if p.total else width
        bar = "#" * filled + "." * (width - filled)
        line = f"[{bar}] {p.done}/{p.total} done, {p.running} running, {p.failed} failed, ETA {eta}"
        if self.tty:
            self.out.write("\r" + line + ("\n" if p.done == p.total and not p.running else ""))
            self.out.flush()
        elif p.done != self.shown:
            self.shown = p.done
            last = p.last
            what = f" (game {last.index}: {last.status}, {last.winner or '-'})" if last else ""
            self.out.write(line + what + "\n")
            self.out.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def summary_lines(summary: Summary, final: Progress, db: Path) -> list[str]:
    """The one-screen summary: standings with intervals, side win rates, failures."""
    elapsed = _duration(time.monotonic() - final.started_at)
    lines = [
        f"{final.done}/{final.total} games recorded ({final.failed} failed), "
        f"{final.done - final.resumed} played now in {elapsed}. Results: {db}",
        "",
        f"{'rank':<8} {'contestant':<16} {'ordinal':>7} {'mu±sigma':>12} {'games':>5} "
        f"{'village win':>17} {'wolf win':>17} {'faults/dec':>10}",
    ]
    for s in summary.standings:
        lo, hi = s.rank_interval
        lines.append(
            f"{s.rank} [{lo}-{hi}]".ljust(8)
            + f" {s.name:<16} {s.ordinal:>7.2f} {f'{s.mu:.1f}±{s.sigma:.1f}':>12} {s.games:>5} "
            f"{_rate(s.by_side.get('village')):>17} {_rate(s.by_side.get('wolves')):>17} "
            f"{s.fault_rate:>10.3f}"
        )
    selfs = [s for s in summary.standings if s.self_play.n]
    if selfs:
        lines.append(
            "Self-play (not rated): " + ", ".join(f"{s.name} village {_rate(s.self_play)}" for s in selfs)
        )
    return lines


def _rate(rate: Rate | None) -> str:
    if rate is None or rate.n == 0:
        return "-"
    lo, hi = rate.interval
    return f"{rate.value:.0%} [{lo:.0%}-{hi:.0%}]"
