"""Wall time of a game of LLM seats queried in parallel vs one at a time (the rivals' way).

    python -m bench.llm_bench [--latency 0.2] [--games 3] [--write-docs]

A fake Ollama (tests/llm/fake_ollama.py: a real HTTP server on loopback) answers every chat after a
fixed latency, with a valid reply. The same classic-8 game (same seed, same deterministic replies) is
played by 8 `LLMAgent` seats through the actor system twice: with up to 8 requests in flight to the
host (simultaneous phases ask every seat at once), and with a limit of 1, which is what a loop that
asks agents one after another does.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Sequence

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.runner import play_game
from bench.docs import replace_section
from bench.engine_bench import machine
from engine import preset
from tests.llm.fake_ollama import KNOWN_MODEL, Reply, running_fake, valid_content


def play(url: str, parallel: int, seed: int) -> tuple[float, int]:
    """Seconds and LLM calls for one game with `parallel` requests allowed in flight."""
    config = preset("classic-8")
    limiter = threading.BoundedSemaphore(parallel)
    settings = LLMSettings(model=KNOWN_MODEL, host=url, timeout_s=30, parallel=parallel)
    seats = {
        p: LLMAgent(settings, config, persona=PERSONAS[i], fallback=HeuristicAgent(i), limiter=limiter)
        for i, p in enumerate(config.players)
    }
    start = time.perf_counter()
    finished = play_game(config, seats, seed=seed, timeout_s=600, wait_s=3600, hidden_turn_s=0.0)
    seconds = time.perf_counter() - start
    assert finished.outcome is not None
    return seconds, int(sum(u.get("calls", 0) for u in finished.usage.values()))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both ways on the same seeds, print, optionally rewrite the docs section."""
    parser = argparse.ArgumentParser(prog="python -m bench.llm_bench", description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per chat call (default 0.2)")
    parser.add_argument("--games", type=int, default=3, help="games per way (default 3)")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the section in docs/benchmarks.md")
    args = parser.parse_args(argv)

    def responder(request: dict[str, object], n: int) -> Reply:
        return Reply(content=valid_content(request, n), delay=args.latency)

    rows = {}
    with running_fake(responder) as fake:
        for label, parallel in (("parallel (8 in flight)", 8), ("one at a time", 1)):
            runs = [play(fake.url, parallel, seed) for seed in range(args.games)]
            rows[label] = runs
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; reproduce with "
        f"`python -m bench.llm_bench --latency {args.latency:g} --games {args.games}`.",
        "",
        f"classic-8, 8 LLM seats, a fake Ollama answering each call after {args.latency:g} s; "
        "same seeds both ways.",
        "",
        "| requests | games | LLM calls/game | wall time/game median (min-max) |",
        "| --- | --- | --- | --- |",
    ]
    medians = {}
    for label, runs in rows.items():
        times = [s for s, _ in runs]
        medians[label] = statistics.median(times)
        calls = statistics.median(c for _, c in runs)
        spread = f"{min(times):.1f}-{max(times):.1f}"
        lines.append(f"| {label} | {len(runs)} | {calls:.0f} | {medians[label]:.1f} s ({spread}) |")
    ratio = medians["one at a time"] / medians["parallel (8 in flight)"]
    lines += [
        "",
        f"Querying simultaneous phases in parallel makes a game **{ratio:.1f}x** shorter. Speaking turns "
        "stay sequential by the rules (one speaker at a time), which bounds the gain; night actions, bids "
        "and votes cost one latency instead of one per seat.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        replace_section("llm", "LLM seats: parallel vs one at a time", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
