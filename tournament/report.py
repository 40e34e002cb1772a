"""A tournament's report: `report.md` and its PNG plots, from the results database alone.

Mixed games make the ratings; self-play games are summarised apart. Every number that is an estimate
comes with its interval; failures stand next to each rating (a contestant that wins because its rivals
crash shows it); every game links to its log (`run.py replay LOG` replays it).
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from tournament import plots
from tournament.ratings import Rate, Summary, load_games, summarise
from tournament.store import Store


def write_report(db: Path, out: Path | None = None, *, bootstrap: int = 200) -> Path:
    """Write the report of the tournament in `db` into `out` (default: DB-report/); returns report.md."""
    out = out or db.with_name(db.stem + "-report")
    out.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        plan = store.plan()
        games = load_games(store)
    summary = summarise(games, [c.name for c in plan.contestant], bootstrap=bootstrap)
    figures = {
        "ratings": plots.ratings_plot(summary, out / "ratings.png"),
        "roles": plots.roles_plot(summary, out / "win_rate_by_role.png"),
        "pairwise": plots.pairwise_plot(summary, out / "pairwise.png"),
        "deceiver": plots.deceiver_detector_plot(summary, out / "deceiver_vs_detector.png"),
        "costs": plots.costs_plot(summary, out / "faults_and_tokens.png"),
        "survival": plots.survival_plot(summary, out / "survival.png"),
    }
    path = out / "report.md"
    path.write_text(markdown(plan.name, summary, figures, out), encoding="utf-8")
    return path


def _rate(rate: Rate | None) -> str:
    if rate is None or rate.n == 0:
        return "-"
    lo, hi = rate.interval
    return f"{rate.value:.0%} [{lo:.0%}, {hi:.0%}] (n={rate.n})"


def markdown(name: str, summary: Summary, figures: dict[str, Path], out: Path) -> str:
    """The report's text."""
    done = [g for g in summary.games if g.status == "done"]
    mixed = [g for g in done if g.kind == "mixed"]
    failed = [g for g in summary.games if g.status != "done"]
    lines = [
        f"# Tournament report: {name}",
        "",
        f"{len(summary.games)} games recorded: {len(mixed)} mixed (rated), "
        f"{len(done) - len(mixed)} self-play (not rated), {len(failed)} failed.",
        "",
        f"![ratings]({figures['ratings'].name})",
        "",
        "## Standings",
        "",
        "Rank interval: 95 % bootstrap over games. Win rates: one trial per game in which the contestant "
        "held that side, with 95 % Wilson intervals.",
        "",
        "| rank | contestant | ordinal | mu ± sigma | games | village win | wolf win | faults/decision "
        "| fallbacks | timeouts | LLM retries | failed games | tokens/game |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary.standings:
        per_game = s.tokens / s.games if s.games else 0
        lines.append(
            f"| {s.rank} [{s.rank_interval[0]}-{s.rank_interval[1]}] | {s.name} | {s.ordinal:.2f} | "
            f"{s.mu:.2f} ± {s.sigma:.2f} | {s.games} | {_rate(s.by_side.get('village'))} | "
            f"{_rate(s.by_side.get('wolves'))} | {s.fault_rate:.3f} ({s.faults}/{s.decisions}) | "
            f"{s.fallbacks} | {s.timeouts} | {s.retries} | {s.failed_games} | {per_game:.0f} |"
        )
    village, wolves = summary.sides["side:village"], summary.sides["side:wolves"]
    lines += [
        "",
        f"Side advantage (the sides' own OpenSkill players): village {village[0]:.2f} ± {village[1]:.2f}, "
        f"wolves {wolves[0]:.2f} ± {wolves[1]:.2f}.",
        "",
        "## Win rate by role",
        "",
        f"![win rate by role]({figures['roles'].name})",
        "",
    ]
    roles = sorted({r for s in summary.stats.values() for r in s.by_role})
    lines += ["| contestant | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
    lines += [
        f"| {s.name} | " + " | ".join(_rate(s.by_role.get(r)) for r in roles) + " |"
        for s in summary.standings
    ]
    lines += ["", "## Head to head", "", f"![pairwise]({figures['pairwise'].name})", ""]
    lines += _pairwise_table(summary)
    lines += [
        "",
        "## Role play (no judge model)",
        "",
        f"![deceiver vs detector]({figures['deceiver'].name})",
        "",
        "Detection: share of the day votes it cast from the village side that named a wolf. Wolves executed: "
        "its wolf seats exiled by the village, and on which day. Seer claims are free speech and are not "
        "scored (no structured claim to check).",
        "",
        "| contestant | detection | wolves executed | mean day executed |",
        "|---|---|---|---|",
    ]
    for s in summary.standings:
        days = s.wolf_execution_days
        mean_day = f"{statistics.mean(days):.1f}" if days else "-"
        lines.append(f"| {s.name} | {_rate(s.detection)} | {_rate(s.wolves_executed)} | {mean_day} |")
    lines += ["", f"![survival by day]({figures['survival'].name})", ""]
    lines += ["## Failures and cost", "", f"![faults and tokens]({figures['costs'].name})", ""]
    lines += _self_play(summary)
    lines += ["## Games", "", "Replay any game with `python run.py replay LOG`.", ""]
    lines += ["| game | table | kind | winner | days | seats | log |", "|---|---|---|---|---|---|---|"]
    for g in summary.games:
        seats = " ".join(f"{s.contestant}:{s.role}" for s in g.seats)
        log = f"[log]({_relative(g.log_path, out)})" if g.log_path else "-"
        result = g.winner or ("draw" if g.status == "done" else g.status)
        lines.append(f"| {g.index} | {g.table} | {g.kind} | {result} | {g.days} | {seats} | {log} |")
    return "\n".join(lines) + "\n"


def _pairwise_table(summary: Summary) -> list[str]:
    names = [s.name for s in summary.standings]
    lines = ["| A \\ B | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for a in names:
        cells = [_rate(summary.pairwise.get((a, b))) if a != b else "" for b in names]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return lines


def _self_play(summary: Summary) -> list[str]:
    selfs = [s for s in summary.standings if s.self_play.n]
    if not selfs:
        return []
    lines = ["## Self-play (not rated)", "", "| contestant | games | village wins |", "|---|---|---|"]
    lines += [f"| {s.name} | {s.self_play.n} | {_rate(s.self_play)} |" for s in selfs]
    return [*lines, ""]


def _relative(path: str, out: Path) -> str:
    try:
        return os.path.relpath(path, out)
    except ValueError:  # another drive (Windows)
        return path
