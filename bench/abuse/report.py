"""The abuse benchmark's figures: medians over repeats, the verdicts against issue 11's three goals,
the printed table and the docs section.

Goals, per attack, against the control run of the same server process:
- **wall**: the game's median wall time under attack at most 1.5x the control's, and every game
  under attack played to its end;
- **healthz**: `/healthz` p99 under 100 ms while the attack runs (a probe that fails or takes over
  1 s counts as 1 s);
- **rss**: the server's RSS, once the attackers have left and one more game was played, within 10%
  of its RSS after the control games (lower is fine).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

GOAL_WALL_RATIO = 1.5
GOAL_HEALTHZ_P99_MS = 100.0
GOAL_RSS_GROWTH = 0.10
MIB = 1024  # KiB

LABELS = {
    "memory": "memory (finding 2)",
    "cpu": "CPU (finding 3)",
    "connections": "connections (finding 4)",
}


def med(values: Sequence[float]) -> float:
    """Median; NaN for no values."""
    return float(statistics.median(values)) if values else math.nan


def verdicts(*, wall_ratio: float, failed: int, p99_ms: float, rss_ratio: float) -> dict[str, bool]:
    """The three goals met or not (NaN figures meet nothing)."""
    return {
        "wall": failed == 0 and wall_ratio <= GOAL_WALL_RATIO,
        "healthz": p99_ms < GOAL_HEALTHZ_P99_MS,
        "rss": rss_ratio <= 1 + GOAL_RSS_GROWTH,
    }


def ratio(a: float, b: float) -> float:
    """a / b; infinite when a is and NaN when b is zero."""
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


def summarise_kind(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """One attack's figures over its repeats (medians, sums of counts)."""
    control, attack, after = ([p[k] for p in pairs] for k in ("control", "attack", "after"))
    wall_ratios = [ratio(a["game_s"], c["game_s"]) for a, c in zip(attack, control, strict=True)]
    rss_ratios = [ratio(a["rss_kib"], c["rss_kib"]) for a, c in zip(after, control, strict=True)]
    tallies: dict[str, Counter[str]] = {}
    ends: dict[str, Counter[str]] = {}
    for a in attack:
        for name, tally in a["attacker"]["tallies"].items():
            counts = tallies.setdefault(name, Counter())
            for key in ("attempts", "accepted", "messages", "bytes_sent", "rounds"):
                counts[key] += tally.get(key, 0)
            counts["peak_open"] = max(counts["peak_open"], tally["peak_open"])
            ends.setdefault(name, Counter()).update(tally["ends"])
    summary = {
        "repeats": len(pairs),
        "control_ms": med([c["game_s"] * 1000 for c in control]),
        "attack_ms": med([a["game_s"] * 1000 for a in attack]),
        "wall_ratio": med(wall_ratios),
        "games": (med([len(c["games"]) for c in control]), med([len(a["games"]) for a in attack])),
        "failed": sum(a["failed"] for a in attack),
        "p50_ms": med([a["health"]["p50_ms"] for a in attack]),
        "p99_ms": med([a["health"]["p99_ms"] for a in attack]),
        "max_ms": max(a["health"]["max_ms"] for a in attack),
        "control_p99_ms": med([c["health"]["p99_ms"] for c in control]),
        "probes": sum(a["health"]["probes"] for a in attack),
        "timeouts": sum(a["health"]["timeouts"] for a in attack),
        "errors": sum(a["health"]["errors"] for a in attack),
        "rss_mib": (
            med([c["rss_kib"] / MIB for c in control]),
            med([a["peak"]["rss_kib"] / MIB for a in attack]),
            med([a["rss_kib"] / MIB for a in after]),
        ),
        "rss_ratio": med(rss_ratios),
        "fds": (med([c["fds"] for c in control]), med([a["peak"]["fds"] for a in attack])),
        "busy": (med([c["server_busy"] for c in control]), med([a["server_busy"] for a in attack])),
        "clients_at_ready": [a["at_ready"]["clients"] for a in attack],
        "settle_s": max(a["settle_s"] for a in after),
        "tallies": {name: dict(counts) for name, counts in tallies.items()},
        "ends": {name: dict(counts) for name, counts in ends.items()},
    }
    summary["verdicts"] = verdicts(
        wall_ratio=summary["wall_ratio"],
        failed=summary["failed"],
        p99_ms=summary["p99_ms"],
        rss_ratio=summary["rss_ratio"],
    )
    return summary


def summarise(pairs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per attack kind, in the order first met."""
    kinds = list(dict.fromkeys(p["kind"] for p in pairs))
    return {kind: summarise_kind([p for p in pairs if p["kind"] == kind]) for kind in kinds}


# ---------------------------------------------------------------------------------------- text


def ms(value: float) -> str:
    """Milliseconds for a table cell ("not finished" for infinity)."""
    if math.isinf(value):
        return "not finished"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"  # noqa: PLR2004


def times(value: float) -> str:
    """A ratio as `1.23x` (`348x` when large)."""
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"  # noqa: PLR2004


def mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def attack_words(kind: str, plan: dict[str, Any]) -> str:
    """What the attack does, in a few words."""
    if kind == "memory":
        return (
            f"{plan['spectators']:,} spectators a round, each sending {plan['message_bytes']:,} bytes of a "
            f"text message never finished, held {plan['hold_s']:g} s, then a TCP reset"
        )
    if kind == "cpu":
        return (
            f"{plan['pingers']:,} connections each sending a ping with {plan['ping_keys']:,} extra keys "
            f"{plan['ping_hz']:g} times a second before hello, reconnecting when closed"
        )
    return (
        f"{plan['raw_idle']:,} idle TCP connections and {plan['ws_idle']:,} WebSocket spectators that "
        "never say hello, each reopened when the server ends it"
    )


def tally_words(summary: dict[str, Any]) -> str:
    """What the attacker got, over all repeats."""
    parts = []
    for name, counts in summary["tallies"].items():
        ends = ", ".join(
            f"{end} {n:,}" for end, n in sorted(summary["ends"][name].items(), key=lambda e: -e[1])
        )
        text = (
            f"{name}: {counts['attempts']:,} connections tried, {counts.get('accepted', 0):,} upgraded, "
            f"at most {counts['peak_open']:,} open at once"
        )
        if counts.get("messages"):
            text += (
                f", {counts['messages']:,} messages written in full ({counts['bytes_sent'] / 1e6:,.0f} MB)"
            )
        if counts.get("rounds"):
            text += f" in {counts['rounds']:,} rounds"
        parts.append(f"{text}; ended: {ends or 'nothing'}")
    return "; ".join(parts)


def table(summary: dict[str, dict[str, Any]]) -> list[str]:
    """The main table, one row per attack."""
    rows = [
        "| attack | games, control / attack | game wall ms, control / attack | ratio (goal <= 1.5) "
        "| `/healthz` under attack p50 / p99 / max ms (goal p99 < 100) | probes timed out / failed "
        "| server RSS MiB, control / peak / after | after / control (goal <= 110%) "
        "| server open files, control / peak | server CPU, control / attack |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, s in summary.items():
        v = s["verdicts"]
        failed = f" ({s['failed']} not finished)" if s["failed"] else ""
        cells = [
            LABELS.get(kind, kind),
            f"{s['games'][0]:.0f} / {s['games'][1]:.0f}{failed}",
            f"{ms(s['control_ms'])} / {ms(s['attack_ms'])}",
            f"{times(s['wall_ratio'])} {mark(v['wall'])}",
            f"{ms(s['p50_ms'])} / {ms(s['p99_ms'])} / {ms(s['max_ms'])} {mark(v['healthz'])}",
            f"{s['timeouts']} / {s['errors']} of {s['probes']:,}",
            " / ".join(f"{x:,.0f}" for x in s["rss_mib"]),
            f"{s['rss_ratio']:.0%} {mark(v['rss'])}",
            f"{s['fds'][0]:,.0f} / {s['fds'][1]:,.0f}",
            f"{s['busy'][0]:.0%} / {s['busy'][1]:.0%}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def repeats_table(pairs: list[dict[str, Any]]) -> list[str]:
    """Every pair's own figures."""
    rows = [
        "| attack | repeat | control: games, median ms | attack: games, median ms "
        "| `/healthz` p99 ms, control / attack | RSS MiB, control / peak / at once / after "
        "| open files at ready "
        "| `/stats` clients at ready | attack in place after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in pairs:
        c, a, after = p["control"], p["attack"], p["after"]
        ready = a["at_ready"]
        rss = (c["rss_kib"], a["peak"]["rss_kib"], after.get("rss_at_once_kib", 0), after["rss_kib"])
        cells = [
            LABELS.get(p["kind"], p["kind"]),
            str(p["repeat"]),
            f"{len(c['games'])}, {ms(c['game_s'] * 1000)}",
            f"{len(a['games'])}, {ms(a['game_s'] * 1000)}",
            f"{ms(c['health']['p99_ms'])} / {ms(a['health']['p99_ms'])}",
            " / ".join(f"{x / MIB:,.0f}" for x in rss),
            f"{ready['fds']:,}",
            "-" if ready["clients"] is None else f"{ready['clients']:,}",
            f"{ready['after_s']:.1f} s" + ("" if ready["ready"] else " (not all in place)"),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def reading(summary: dict[str, dict[str, Any]], plan: dict[str, Any]) -> list[str]:
    """One bullet per attack: what it did, the verdicts, what the attacker got."""
    lines = []
    for kind, s in summary.items():
        v = s["verdicts"]
        met = [goal for goal, ok in v.items() if ok]
        verdict = (
            "all three goals met"
            if len(met) == len(v)
            else ("missed: " + ", ".join(goal for goal, ok in v.items() if not ok))
        )
        lines.append(
            f"- **{LABELS.get(kind, kind)}**: {attack_words(kind, plan)}. {verdict.capitalize()} "
            f"(game {times(s['wall_ratio'])} the control's wall time, `/healthz` p99 {ms(s['p99_ms'])} ms "
            f"against {ms(s['control_p99_ms'])} ms in control, RSS after {s['rss_ratio']:.0%} of control). "
            f"The attacker, over {s['repeats']} repeat(s): {tally_words(s)}."
        )
    return lines
