"""One whole game with every seat an LLM seat on a real model, and the figures that say how it went.

Shared by the real tier (test_real_model.py) and `python -m bench.llm_real`. The game goes through
the same path as `run.py --agent ollama:MODEL`: seat specs parsed by `actors.specs`, one `LLMAgent`
per seat with the real `ollama` client, the actor system, the engine. What the model does is read from
what the game recorded: each seat's usage (calls, re-asks, tokens, seconds) and its faults, classified
by the words our code puts in them.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from actors.llm import LLMSettings, OllamaOptions
from actors.messages import GameFinished
from actors.runner import play_game
from actors.specs import build_agents, build_config, seat_specs
from engine import GameConfig, replay
from tests.llm_real.ollama_front import OllamaFront

MODEL = "gemma3-270m"
PRESET = "aiwolf-5"  # the smallest preset: 5 seats (werewolf, possessed, seer, 2 villagers)
#: Two days and one speaking round a day keep a game to ~20-30 decisions (a few minutes of model time).
RULES = ("max_days=2", "discussion_rounds=1")
#: The OpenAI-compatible game is one day: llama-cpp-python's server cannot take our reply schema, so its
#: replies run on (a generic JSON grammar is also slower to sample: ~25 s a call seen with 1 thread).
OPENAI_RULES = ("max_days=1", "discussion_rounds=1")
#: Its replies' token bound (num_predict): a valid reply takes ~30 tokens; a rambling one is cut here.
OPENAI_REPLY_TOKENS = 128
SEED = 13
PHASE_S = 600.0  # each phase's deadline: generous, so a slow machine never turns answers into defaults
GAME_S = 1500.0  # bound on the whole game
CALL_TIMEOUT_S = 180.0  # one chat: a queued request waits for the others (one generation at a time)

#: Fault reasons, by kind: the first pattern that matches names the kind ("other" if none does).
FAULT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("illegal", re.compile(r"^illegal answer")),
    ("agent_failed", re.compile(r"^agent failed")),
    ("deadline", re.compile(r"no action before the deadline")),
    # An invalid reply, or one cut at the length bound before it was complete (the seat says which).
    ("invalid_first", re.compile(r"^(invalid reply|reply cut at the length bound).*?\(attempt 1\): ")),
    ("invalid_retry", re.compile(r"^(invalid reply|reply cut at the length bound).*?\(attempt \d+\): ")),
    ("gave_up", re.compile(r"no valid reply after")),
    ("server", re.compile(r"built-in agent")),
)
CUT = re.compile(r"^reply cut at the length bound")

_INVALID = re.compile(r"invalid reply \(attempt \d+\): (.*?); raw: ", re.DOTALL)


def fault_kind(reason: str) -> str:
    """The kind of a fault, by its reason."""
    return next((kind for kind, pattern in FAULT_KINDS if pattern.search(reason)), "other")


def invalid_because(reason: str) -> str | None:
    """Why a reply was invalid, numbers masked so that alike errors count together (None: not that)."""
    found = _INVALID.search(reason)
    return re.sub(r"\d+", "N", found.group(1))[:120] if found else None


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
    invalid_because: dict[str, int]  # invalid replies (every attempt) by what was wrong
    cut_replies: int  # invalid replies that were cut at the length bound (num_predict)
    repairs: int  # replies read leniently (code fence, prose, control characters...): not faults
    prompt_tokens: int
    completion_tokens: int
    model_s: float  # seconds the seats waited on the model, summed over calls (queueing included)
    wall_s: float
    #: Seconds the server spent generating (the front's count; None when the server is not ours).
    generation_s: float | None = None
    cut: int | None = None  # replies the server cut at its token cap (the front's count)

    @property
    def s_per_call(self) -> float:
        """Mean seconds per call, as the seats saw them (queueing included)."""
        return self.model_s / self.calls if self.calls else 0.0

    @property
    def generation_s_per_call(self) -> float | None:
        """Mean seconds the server spent on one call (None when not measured)."""
        if self.generation_s is None:
            return None
        return self.generation_s / self.calls if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain values, with seconds per call."""
        per_call = self.generation_s_per_call
        return {
            **asdict(self),
            "s_per_call": round(self.s_per_call, 3),
            "generation_s_per_call": None if per_call is None else round(per_call, 3),
        }


def game_config(rules: tuple[str, ...] = RULES) -> GameConfig:
    """The tier's game: the smallest preset, two days (by default), one speaking round."""
    return build_config(PRESET, rules=rules)


def play_real_game(
    spec: str,
    settings: Callable[..., LLMSettings],
    *,
    backend: str,
    seed: int = SEED,
    front: OllamaFront | None = None,
    rules: tuple[str, ...] = RULES,
    wait_s: float = GAME_S,
) -> tuple[GameFinished, Figures]:
    """Play the tier's game with every seat `spec` (e.g. `ollama:gemma3-270m`); return it and its figures.

    With `front` (the server the seats talk to), the figures include what it counted for this game.
    """
    config = game_config(rules)
    agents = build_agents(config, seat_specs(config, spec), seed=seed, key=None, llm_settings=settings)
    before = front.totals() if front is not None else None
    with tempfile.TemporaryDirectory(prefix="llm-real-") as folder:
        log = Path(folder) / "game.jsonl"
        started = time.perf_counter()
        finished = play_game(config, agents, seed=seed, timeout_s=PHASE_S, wait_s=wait_s, log_path=log)
        wall = time.perf_counter() - started
        repairs = repairs_in(log)
    figures = figures_of(
        finished, config, backend=backend, model=spec.partition(":")[2], wall_s=wall, repairs=repairs
    )
    if front is not None and before is not None:
        after = front.totals()
        figures = replace(
            figures,
            generation_s=round(after["seconds"] - before["seconds"], 3),
            cut=int(after["cut"] - before["cut"]),
        )
    return finished, figures


def ollama_settings(host: str, seed: int = SEED) -> Callable[..., LLMSettings]:
    """The seats' settings on an Ollama(-compatible) host: one request at a time, a fixed sampling seed."""
    return llm_settings(host, "ollama", seed)


def llm_settings(
    host: str, backend: str, seed: int = SEED, num_predict: int | None = None
) -> Callable[..., LLMSettings]:
    """The seats' settings on `host` for `backend` ("ollama" or "openai"), as `build_agents` asks for them.

    Takes the model and, if given, the backend the seat spec named (`actors.specs` passes it once seats
    have more than one backend); `backend` is left out of the settings for Ollama, its default.
    """

    def settings(model: str, *_named_backend: object) -> LLMSettings:
        fields: dict[str, Any] = {
            "model": model,
            "host": host,
            "timeout_s": CALL_TIMEOUT_S,
            "parallel": 1,
            "options": OllamaOptions(seed=seed, num_predict=num_predict),
        }
        if backend != "ollama":
            fields["backend"] = backend
        return LLMSettings(**fields)

    return settings


def figures_of(
    finished: GameFinished,
    config: GameConfig,
    *,
    backend: str,
    model: str,
    wall_s: float,
    repairs: int = 0,
) -> Figures:
    """The figures of a finished game (raises engine.ReplayError if its record does not replay)."""
    return figures_from(
        finished.record, finished.usage, backend=backend, model=model, wall_s=wall_s, repairs=repairs
    )


def repairs_in(log: Path) -> int:
    """Replies read leniently, from a game log's `answer` lines (repairs are logged, not faults)."""
    count = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item.get("kind") == "answer" and isinstance(item.get("detail"), dict):
            count += bool(item["detail"].get("repairs"))
    return count


def figures_from(
    record: dict[str, Any],
    usage_by_seat: dict[str, dict[str, float]],
    *,
    backend: str,
    model: str,
    wall_s: float,
    repairs: int = 0,
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
        invalid_because=dict(Counter(w for w in map(invalid_because, reasons) if w).most_common()),
        cut_replies=sum(bool(CUT.search(r)) for r in reasons),
        repairs=repairs,
        prompt_tokens=int(sum(u.get("prompt_tokens", 0) for u in usage)),
        completion_tokens=int(sum(u.get("completion_tokens", 0) for u in usage)),
        model_s=round(sum(u.get("latency_s", 0.0) for u in usage), 3),
        wall_s=round(wall_s, 3),
    )
