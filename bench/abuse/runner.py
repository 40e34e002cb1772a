"""One control-and-attack pair of the abuse benchmark, in a fresh server process, and the sequence of
pairs a run is made of.

A pair: start the server host (bench/abuse/host.py, pinned to CPU 0 when there are two cores or
more; the agent pool and the attacker on CPU 1), start sampling `/healthz` and /proc, play one
warm-up game, then
1. **control**: games back to back for `window_s`, nobody attacking; the server's RSS and open files
   read at the end;
2. **attack**: the attacker process starts; once it says the attack is in place, the server's open
   files and `/stats` are read, then games back to back for `window_s` while it goes on; then the
   attacker is told to stop (it closes everything and reports its tally);
3. **after**: wait until the server holds no more open files than after the control games (plus a
   few; at most `settle_s`), play one game and read the RSS (*at once*), then games back to back for
   `window_s` again and read the RSS (*after*): the server gives memory back once a crowd of
   connections has gone, within a few seconds (net/memory.py).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.abuse.attacks import Plan
from bench.abuse.measure import Sampler, cpu_s, open_files, rss_kib, stats
from bench.abuse.procs import Attacker, HostProcess

FD_SLACK = 16  # open files over the control's count that still count as "the attackers left"
SETTLE_BEAT_S = 0.1


@dataclass(frozen=True)
class Settings:
    """How a run is made (everything but which attacks and how many repeats)."""

    plan: Plan = field(default_factory=Plan)
    window_s: float = 8.0
    seed: int = 7
    max_games: int = 500
    source: str = "127.0.0.2"  # comma-separated loopback addresses the attacks come from
    pin: bool = True
    settle_s: float = 30.0
    attack_max_s: float = 300.0


def cpus(pin: bool) -> tuple[int | None, int | None]:
    """(server CPU, everything else's CPU) when pinning is asked for and there are two cores or more."""
    mine = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if pin and len(mine) >= 2:  # noqa: PLR2004
        return mine[0], mine[1]
    return None, None


def median_game_s(games: list[dict[str, Any]]) -> float:
    """Median wall time of the games played (those that ended with faults included); infinite if any
    did not end, or could not start."""
    if not games or any(g["seconds"] is None for g in games):
        return float("inf")
    return float(statistics.median(g["seconds"] for g in games))


def _window(host: HostProcess, settings: Settings) -> dict[str, Any]:
    cpu0, start = cpu_s(host.pid), time.perf_counter()
    games = host.games(settings.window_s, settings.seed, settings.max_games)
    elapsed = time.perf_counter() - start
    return {
        "games": games,
        "game_s": median_game_s(games),
        "failed": sum(1 for g in games if g["error"]),
        "server_busy": round((cpu_s(host.pid) - cpu0) / elapsed, 3) if elapsed > 0 else 0.0,
    }


def run_pair(kind: str, settings: Settings, log_dir: Path) -> dict[str, Any]:
    """Control, attack, after, in one fresh server process; every figure of the pair."""
    server_cpu, other_cpu = cpus(settings.pin)
    host = HostProcess(log_dir, cpu=server_cpu, pool_cpu=other_cpu)
    sampler = Sampler(host.port, host.pid)
    attacker: Attacker | None = None
    result: dict[str, Any] = {"kind": kind, "plan": asdict(settings.plan), "window_s": settings.window_s}
    try:
        sampler.start()
        sampler.phase = "warm-up"
        host.games(0.0, settings.seed, 1)

        sampler.phase = "control"
        control = _window(host, settings)
        control.update(rss_kib=rss_kib(host.pid), fds=open_files(host.pid))
        control["health"] = sampler.health_summary("control")
        result["control"] = control

        sampler.phase = "attack"
        attacker = Attacker(
            kind,
            host.port,
            settings.plan,
            log_dir,
            source=settings.source,
            cpu=other_cpu,
            max_s=settings.attack_max_s,
        )
        ready = attacker.wait_ready()
        # /stats first: once it is answered, the server has accepted every connection queued before it
        # (the listener's backlog is first come, first served), so the open files count them all.
        clients = stats(host.port)
        at_ready = {
            "ready": ready["ready"],
            "after_s": ready["after_s"],
            "fds": open_files(host.pid),
            "clients": clients["total_clients"] if clients else None,
            "tallies": ready["tallies"],
        }
        attack = _window(host, settings)
        sampler.phase = "leaving"
        attack["attacker"] = attacker.finish()
        attack["at_ready"] = at_ready
        attack["health"] = sampler.health_summary("attack")
        attack["peak"] = sampler.peak("attack", "leaving")
        result["attack"] = attack

        left = time.perf_counter()
        deadline = left + settings.settle_s
        while open_files(host.pid) > control["fds"] + FD_SLACK and time.perf_counter() < deadline:
            time.sleep(SETTLE_BEAT_S)
        settle_s = time.perf_counter() - left
        sampler.phase = "after"
        first = _window(host, replace(settings, window_s=0.0))
        at_once = rss_kib(host.pid)
        after = _window(host, settings)
        after["games"] = first["games"] + after["games"]
        after.update(
            rss_kib=rss_kib(host.pid),
            rss_at_once_kib=at_once,
            fds=open_files(host.pid),
            settle_s=round(settle_s, 2),
        )
        after["health"] = sampler.health_summary("leaving", "after")
        result["after"] = after
    finally:
        sampler.stop()
        if attacker is not None:
            attacker.stop()
        host.stop()
    return result


def measure(
    kinds: list[str],
    repeats: int,
    settings: Settings,
    log_dir: Path,
    progress: Callable[[dict[str, Any], int], None] = lambda pair, repeat: None,
) -> list[dict[str, Any]]:
    """Every pair: for each repeat, one per attack kind (the kinds' order reversed on odd repeats)."""
    pairs: list[dict[str, Any]] = []
    for repeat in range(repeats):
        for kind in kinds if repeat % 2 == 0 else kinds[::-1]:
            pair = run_pair(kind, settings, log_dir)
            pair["repeat"] = repeat + 1
            pairs.append(pair)
            progress(pair, repeat + 1)
    return pairs
