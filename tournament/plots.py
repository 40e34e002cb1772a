"""The report's plots (matplotlib, Agg backend: no display needed). Each function writes one PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from tournament.ratings import Rate, Summary

DPI = 110
SIDE_COLOURS = {"village": "#3b7dd8", "wolves": "#c0392b"}


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _errors(rates: list[Rate | None]) -> tuple[list[float], list[list[float]]]:
    values, low, high = [], [], []
    for rate in rates:
        if rate is None or rate.n == 0:
            values.append(0.0)
            low.append(0.0)
            high.append(0.0)
            continue
        lo, hi = rate.interval
        values.append(rate.value)
        low.append(rate.value - lo)
        high.append(hi - rate.value)
    return values, [low, high]


def ratings_plot(summary: Summary, path: Path) -> Path:
    """OpenSkill mu with a ±2 sigma bar and the ordinal (mu - 3 sigma), best at the top."""
    standings = summary.standings[::-1]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(standings)))
    ys = list(range(len(standings)))
    ax.errorbar(
        [s.mu for s in standings], ys, xerr=[2 * s.sigma for s in standings], fmt="o", capsize=4,
        color="#2c3e50", label="mu ± 2 sigma",
    )  # fmt: skip
    ax.scatter(
        [s.ordinal for s in standings], ys, marker="|", s=200, color="#e67e22", label="ordinal (mu - 3 sigma)"
    )
    ax.set_yticks(ys, [f"{s.name}  (rank {s.rank_interval[0]}-{s.rank_interval[1]})" for s in standings])
    ax.set_xlabel("OpenSkill rating (mixed games; self-play excluded)")
    ax.axvline(25, color="#bbb", lw=0.8, ls="--")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Ratings with uncertainty (95 % bootstrap rank interval in brackets)")
    return _save(fig, path)


def roles_plot(summary: Summary, path: Path) -> Path:
    """Win rate by role per contestant, with Wilson 95 % intervals."""
    roles = sorted({r for s in summary.stats.values() for r in s.by_role})
    names = [s.name for s in summary.standings]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(roles) * max(1, len(names)) / 2), 4))
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        values, errors = _errors([summary.stats[name].by_role.get(r) for r in roles])
        xs = [i + k * width for i in range(len(roles))]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=name)
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(roles))], roles)
    ax.set_ylim(0, 1)
    ax.set_ylabel("games won holding this role")
    ax.set_title("Win rate by role (95 % Wilson intervals)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def pairwise_plot(summary: Summary, path: Path) -> Path:
    """Heatmap: how often A's side beat B's side when they were opponents (count in each cell)."""
    names = [s.name for s in summary.standings]
    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * len(names), 1.2 + 0.8 * len(names)))
    grid = [[float("nan")] * len(names) for _ in names]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            rate = summary.pairwise.get((a, b))
            if rate is not None and rate.n:
                grid[i][j] = rate.value
                ax.text(j, i, f"{rate.value:.0%}\n({rate.n})", ha="center", va="center", fontsize=8)
    image = ax.imshow(grid, cmap="RdBu", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("opponent (B)")
    ax.set_ylabel("contestant (A)")
    ax.set_title("A's side beat B's side")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _save(fig, path)


def deceiver_detector_plot(summary: Summary, path: Path) -> Path:
    """x: win rate as a wolf (deceiving); y: share of its village-side votes that hit a wolf (detecting)."""
    fig, ax = plt.subplots(figsize=(6, 5))
    for s in summary.standings:
        wolf = s.by_side.get("wolves") or Rate()
        (x,), xerr = _errors([wolf])
        (y,), yerr = _errors([s.detection])
        ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", capsize=3)
        ax.annotate(s.name, (x, y), textcoords="offset points", xytext=(6, 6))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("deceiver: games won as a wolf")
    ax.set_ylabel("detector: village votes cast against a wolf")
    ax.set_title("Deceiver vs detector (95 % Wilson intervals)")
    return _save(fig, path)


def costs_plot(summary: Summary, path: Path) -> Path:
    """Faults per decision and tokens per game, per contestant."""
    standings = summary.standings
    names = [s.name for s in standings]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.bar(names, [s.fault_rate for s in standings], color="#c0392b")
    left.set_title("faults per decision")
    right.bar(names, [s.tokens / s.games if s.games else 0 for s in standings], color="#16a085")
    right.set_title("LLM tokens per game")
    for ax in (left, right):
        ax.tick_params(axis="x", rotation=30)
    return _save(fig, path)


def survival_plot(summary: Summary, path: Path) -> Path:
    """Share of each contestant's seats still alive at the end of each day."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for s in summary.standings:
        days = sorted(s.alive_by_day)
        ax.plot(days, [s.alive_by_day[d].value for d in days], marker="o", label=s.name)
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("seats alive")
    ax.set_title("Survival by day")
    ax.legend(fontsize=8)
    return _save(fig, path)
