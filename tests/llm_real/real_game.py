"""One whole game with every seat an LLM seat on a real model, and the figures that say how it went.

Shared by the real tier (test_real_model.py) and `python -m bench.llm_real`. The game goes through
the same path as `run.py --agent ollama:MODEL`: seat specs parsed by `actors.specs`, one `LLMAgent`
per seat with the real `ollama` client, the actor system, the engine. What the model does is read from
what the game recorded: each seat's usage (calls, re-asks, tokens, seconds) and its faults, classified
by the words our code puts in them.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from actors.llm import LLMSettings, OllamaOptions
from actors.messages import GameFinished
from actors.runner import play_game
from actors.specs import build_agents, build_config, seat_specs
from engine import GameConfig, replay

MODEL = "gemma3-270m"
PRESET = "aiwolf-5"  # the smallest preset: 5 seats (werewolf, possessed, seer, 2 villagers)
#: Two days and one speaking round a day keep a game to ~20-30 decisions (a few minutes of model time).
RULES = ("max_days=2", "discussion_rounds=1")
SEED = 13
PHASE_S = 600.0  # each phase's deadline: generous, so a slow machine never turns answers into defaults
GAME_S = 1500.0  # bound on the whole game
CALL_TIMEOUT_S = 180.0  # one chat: a queued request waits for the others (one generation at a time)

#: Fault reasons, by kind: the first pattern that matches names the kind ("other" if none does).
FAULT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("illegal", re.compile(r"^illegal answer")),
    ("agent_failed", re.compile(r"^agent failed")),
    ("deadline", re.compile(r"no action before the deadline")),
    ("invalid_first", re.compile(r"invalid reply \(attempt 1\)")),
    ("invalid_retry", re.compile(r"invalid reply \(attempt [2-9]")),
    ("gave_up", re.compile(r"no valid reply after")),
    ("server", re.compile(r"built-in agent")),
)


def fault_kind(reason: str) -> str:
    """The kind of a fault, by its reason."""
    return next((kind for kind, pattern in FAULT_KINDS if pattern.search(reason)), "other")


@dataclass(frozen=True)
class Figures:
    """What one game on a real model measured."""

    backend: str
    model: str
    preset: str
    seats: int
    outcome: str
    days: int
    actions: int  # inputs the engine applied (all legal: the record replays)
    decisions: int  # decisions the LLM seats made (first calls)
    calls: int
    retries: int
    valid_first: int  # decisions whose first reply was valid
    recovered: int  # decisions whose first reply was invalid and a re-ask gave a valid one
    gave_up: int  # decisions with no valid reply after every re-ask (the seat abstained)
    faults: int
    fault_kinds: dict[str, int]
    prompt_tokens: int
    completion_tokens: int
    model_s: float  # seconds the seats waited on the model, summed over calls
    wall_s: float

    @property
    def s_per_call(self) -> float:
        """Mean seconds per call, as the seats saw them (queueing included)."""
        return self.model_s / self.calls if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain values, with seconds per call."""
        return {**asdict(self), "s_per_call": round(self.s_per_call, 3)}


def game_config() -> GameConfig:
    """The tier's game: the smallest preset, two days, one speaking round."""
    return build_config(PRESET, rules=RULES)


def play_real_game(
    spec: str,
    settings: Callable[[str], LLMSettings],
    *,
    backend: str,
    seed: int = SEED,
) -> tuple[GameFinished, Figures]:
    """Play the tier's game with every seat `spec` (e.g. `ollama:gemma3-270m`); return it and its figures."""
    config = game_config()
    agents = build_agents(config, seat_specs(config, spec), seed=seed, key=None, llm_settings=settings)
    started = time.perf_counter()
    finished = play_game(config, agents, seed=seed, timeout_s=PHASE_S, wait_s=GAME_S)
    wall = time.perf_counter() - started
    return finished, figures_of(finished, config, backend=backend, model=spec.partition(":")[2], wall_s=wall)


def ollama_settings(host: str, seed: int = SEED) -> Callable[[str], LLMSettings]:
    """The seats' settings on an Ollama(-compatible) host: one request at a time, a fixed sampling seed."""
    return lambda model: LLMSettings(
        model=model, host=host, timeout_s=CALL_TIMEOUT_S, parallel=1, options=OllamaOptions(seed=seed)
    )


def figures_of(
    finished: GameFinished, config: GameConfig, *, backend: str, model: str, wall_s: float
) -> Figures:
    """The figures of a finished game (raises engine.ReplayError if its record does not replay)."""
    return figures_from(finished.record, finished.usage, backend=backend, model=model, wall_s=wall_s)


def figures_from(
    record: dict[str, Any],
    usage_by_seat: dict[str, dict[str, float]],
    *,
    backend: str,
    model: str,
    wall_s: float,
) -> Figures:
    """The figures of a game from its record and its seats' usage (`GameFinished`, or a run.py log).

    Raises engine.ReplayError if the record does not replay.
    """
    replay(record)  # every recorded input is applied again: an illegal one would raise here
    reasons = [e["reason"] for e in record["events"] if e["type"] == "player_faulted"]
    kinds = Counter(fault_kind(r) for r in reasons)
    usage = usage_by_seat.values()
    calls = int(sum(u.get("calls", 0) for u in usage))
    retries = int(sum(u.get("retries", 0) for u in usage))
    decisions = calls - retries
    outcome = record.get("outcome")
    if outcome is None:
        summary = "aborted"
    else:
        summary = outcome["termination"] + (f" ({outcome['winner']})" if outcome.get("winner") else "")
    return Figures(
        backend=backend,
        model=model,
        preset=record["config"].get("name") or PRESET,
        seats=len(record["config"]["players"]),
        outcome=summary,
        days=outcome["day"] if outcome is not None else 0,
        actions=sum("player" in item for item in record["inputs"]),
        decisions=decisions,
        calls=calls,
        retries=retries,
        valid_first=decisions - kinds["invalid_first"],
        recovered=kinds["invalid_first"] - kinds["gave_up"],
        gave_up=kinds["gave_up"],
        faults=len(reasons),
        fault_kinds=dict(sorted(kinds.items())),
        prompt_tokens=int(sum(u.get("prompt_tokens", 0) for u in usage)),
        completion_tokens=int(sum(u.get("completion_tokens", 0) for u in usage)),
        model_s=round(sum(u.get("latency_s", 0.0) for u in usage), 3),
        wall_s=round(wall_s, 3),
    )
