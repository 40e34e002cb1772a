"""LLMAgent: a seat played by a model on an Ollama or OpenAI-compatible server, which can never break a game.

Every decision is one chat request constrained by the reply schema of that menu (legal names as
enums, free text bounded), at most `max_retries` times more, then the default action (abstain). Each
bad reply is reported as a fault of the seat with the raw reply. A re-ask changes what can change the
answer: a base model at a fixed seed repeats itself exactly, so a re-ask samples with another seed and
a higher temperature, and its follow-up is short (the error and the allowed values), replacing the
previous one. Replies read leniently (actors/llm/lenient.py) carry their repairs in the report.

Each request is bounded in tokens (`LLMSettings.num_predict`); a reply the bound cut before its JSON
ended is a fault like any invalid reply, said as such, and re-asked. A reasoning model's thinking
(Ollama's `think`) is kept as the seat's private thinking (bounded to `THINKING_KEPT` characters).

Failures of the server are data too (decided, documented in docs/architecture.md):
- the server cannot be reached, or the model is not on it: said once, and the built-in agent plays
  the seat for the rest of the game (a fault records it);
- a timeout or a server error on one call: the built-in agent decides that action (a fault records it).

The agent runs in its `PlayerActor`'s thread, so seats think in parallel; the host's pool
(`parallel`, as Ollama's OLLAMA_NUM_PARALLEL; see actors/llm/pool.py) keeps one GPU from being
oversubscribed. What the
seat reports to the game master is its `last_report` (an `AgentReport`): faults, private reasoning,
token usage.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import ollama

from actors.agents import Agent
from actors.llm.backends import Backend, CallFailed, ChatRequest, Completion, OllamaBackend, SeatLost
from actors.llm.config import LLMSettings
from actors.llm.personas import Persona
from actors.llm.pool import Limiter, host_limiter
from actors.llm.prompts import decision_prompt, retry_prompt, system_prompt
from actors.llm.reply import ReplyError, parse_reply, reply_schema
from actors.messages import AgentReport, Usage
from engine import Abstain, Action, ActionKind, Choice, GameConfig, Observation

logger = logging.getLogger(__name__)

RAW_KEPT = 400  # characters of a bad reply kept in its fault (and echoed in the re-ask)
THINKING_KEPT = 8_000  # characters of a decision's thinking kept (its end: where the model concluded)
#: Ollama's temperature when a request sets none: where a re-ask's raised temperature starts from.
OLLAMA_DEFAULT_TEMPERATURE = 0.8
MAX_TEMPERATURE = 2.0


@dataclass
class _Draft:
    """The report of the decision under way, filled in as it goes (frozen into an `AgentReport`)."""

    faults: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    reasoning: str | None = None
    thinking: str | None = None
    fallback: bool = False
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    thinking_chars: int = 0
    thinking_tokens: int = 0
    latency_s: float = 0.0

    def report(self, model: str) -> AgentReport:
        usage = Usage(
            calls=self.calls,
            retries=self.retries,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_s=self.latency_s,
            thinking_chars=self.thinking_chars,
            thinking_tokens=self.thinking_tokens,
        )
        return AgentReport(
            faults=tuple(self.faults),
            reasoning=self.reasoning,
            usage=usage,
            model=model,
            fallback=self.fallback,
            repairs=tuple(self.repairs),
            thinking=self.thinking,
        )


class LLMAgent:
    """A seat played by `settings.model`; falls back on `fallback` when the server fails it."""

    def __init__(
        self,
        settings: LLMSettings,
        config: GameConfig,
        *,
        persona: Persona,
        fallback: Agent,
        client: ollama.Client | None = None,
        backend: Backend | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        """`client` (an Ollama client), `backend` and `limiter` may be injected (tests, a tournament on
        Ray whose host limits hold across the cluster); by default they come from the settings.

        Raises ValueError if `settings.parallel` conflicts with the limit its host already has.
        """
        self.settings = settings
        self.config = config
        self.persona = persona
        self._fallback = fallback
        self._backend = backend or make_backend(settings, client)
        self._limiter: Limiter = limiter or host_limiter(settings.host, settings.parallel)
        self._broken: str | None = None
        #: What the last decision reports to the game master (faults, reasoning, usage).
        self.last_report: AgentReport | None = None

    def __str__(self) -> str:
        return f"LLMAgent({self.settings.backend}:{self.settings.model}@{self.settings.host})"

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        """Ask the model (with bounded retries); never raises for anything the server or model does."""
        draft = _Draft()
        try:
            return self._decide(observation, choices, draft)
        finally:
            self.last_report = draft.report(self.settings.model)

    def _decide(self, observation: Observation, choices: tuple[Choice, ...], draft: _Draft) -> Action:
        if self._broken is not None:
            draft.fallback = True
            return self._fallback.decide(observation, choices)
        s = self.settings
        opening = [
            {"role": "system", "content": system_prompt(self.config, observation, self.persona)},
            {
                "role": "user",
                "content": decision_prompt(
                    observation, choices, s.context_chars, speech_chars=s.speech_chars
                ),
            },
        ]
        schema = reply_schema(choices, reasoning_chars=s.reasoning_chars, speech_chars=s.speech_chars)
        bound = s.num_predict(any(c.kind is ActionKind.SPEAK for c in choices))
        messages = opening
        for attempt in range(1 + s.max_retries):
            request = ChatRequest(messages, schema, self._options(attempt, bound), s.think)
            completion = self._call(request, draft)
            if completion is None:  # the server failed this call: the built-in agent decides it
                draft.fallback = True
                return self._fallback.decide(observation, choices)
            if attempt:
                draft.retries += 1
            text = completion.content
            try:
                parsed = parse_reply(
                    text, choices, reasoning_chars=s.reasoning_chars, speech_chars=s.speech_chars
                )
            except ReplyError as error:
                said = f"invalid reply (attempt {attempt + 1})"
                if completion.cut:
                    said = f"reply cut at the length bound ({bound} tokens) before it was complete" + (
                        f" (attempt {attempt + 1})"
                    )
                draft.faults.append(f"{said}: {error}; raw: {text[:RAW_KEPT]!r}")
                follow_up = retry_prompt(
                    str(error),
                    choices,
                    cut=completion.cut,
                    reasoning_chars=s.reasoning_chars,
                    speech_chars=s.speech_chars,
                )
                messages = [
                    *opening,
                    {"role": "assistant", "content": text[:RAW_KEPT]},
                    {"role": "user", "content": follow_up},
                ]
                continue
            draft.reasoning = parsed.reasoning
            draft.repairs += parsed.repairs
            return parsed.action
        draft.faults.append(f"no valid reply after {1 + s.max_retries} attempts: abstained")
        return Abstain()

    def _options(self, attempt: int, bound: int) -> dict[str, object]:
        """The sampling options of attempt `attempt` (0: as set; then another seed, a higher temperature)."""
        options = self.settings.options.as_dict()
        options["num_predict"] = bound
        if attempt:
            base = self.settings.options.temperature
            start = OLLAMA_DEFAULT_TEMPERATURE if base is None else base
            raised = start + self.settings.retry_temperature_step * attempt
            options["temperature"] = round(min(MAX_TEMPERATURE, raised), 3)
            options["seed"] = (self.settings.options.seed or 0) + attempt
        return options

    def _call(self, request: ChatRequest, draft: _Draft) -> Completion | None:
        started = time.monotonic()
        try:
            with self._limiter:
                completion = self._backend.chat(request)
        except SeatLost as exc:
            self._break(str(exc), draft)
            return None
        except CallFailed as exc:
            draft.faults.append(f"{exc}; the built-in agent decided")
            return None
        finally:
            draft.latency_s = round(draft.latency_s + time.monotonic() - started, 6)
        draft.calls += 1
        draft.prompt_tokens += completion.prompt_tokens
        draft.completion_tokens += completion.completion_tokens
        draft.thinking_tokens += completion.thinking_tokens
        if completion.thinking:
            draft.thinking_chars += len(completion.thinking)
            draft.thinking = _kept(completion.thinking)
        return completion

    def _break(self, reason: str, draft: _Draft) -> None:
        self._broken = reason
        logger.warning("%s: %s; the built-in agent plays this seat from now on", self, reason)
        draft.faults.append(f"{reason}; the built-in agent plays this seat from now on")


def _kept(thinking: str) -> str:
    if len(thinking) <= THINKING_KEPT:
        return thinking
    return f"[{len(thinking) - THINKING_KEPT} characters before]...{thinking[-THINKING_KEPT:]}"


def make_backend(settings: LLMSettings, client: ollama.Client | None = None) -> Backend:
    """The backend `settings.backend` names, on `settings.host`."""
    if settings.backend == "openai":
        from actors.llm.openai_backend import OpenAIBackend  # noqa: PLC0415 - only seats that use it pay

        return OpenAIBackend(settings)
    return OllamaBackend(settings, client)
