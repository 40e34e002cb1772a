"""LLMAgent: a seat played by a model on an Ollama server, which can never break a game.

Every decision is one chat request with `format=` the reply schema of that menu (legal names as
enums), at most `max_retries` times more with the error explained, then the default action
(abstain). Each bad reply is reported as a fault of the seat with the raw reply.

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
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama

from actors.agents import Agent
from actors.llm.config import LLMSettings
from actors.llm.personas import Persona
from actors.llm.pool import host_limiter
from actors.llm.prompts import decision_prompt, system_prompt
from actors.llm.reply import ReplyError, parse_reply, reply_schema
from actors.messages import AgentReport, Usage
from engine import Abstain, Action, Choice, GameConfig, Observation

logger = logging.getLogger(__name__)

RAW_KEPT = 400  # characters of a bad reply kept in its fault


@dataclass
class _Draft:
    """The report of the decision under way, filled in as it goes (frozen into an `AgentReport`)."""

    faults: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    reasoning: str | None = None
    fallback: bool = False
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def report(self, model: str) -> AgentReport:
        usage = Usage(
            calls=self.calls,
            retries=self.retries,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_s=self.latency_s,
        )
        return AgentReport(
            faults=tuple(self.faults),
            reasoning=self.reasoning,
            usage=usage,
            model=model,
            fallback=self.fallback,
            repairs=tuple(self.repairs),
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
        limiter: threading.BoundedSemaphore | None = None,
    ) -> None:
        """`client` and `limiter` may be injected (tests); by default they come from the settings.

        Raises ValueError if `settings.parallel` conflicts with the limit its host already has.
        """
        self.settings = settings
        self.config = config
        self.persona = persona
        self._fallback = fallback
        self._client = client or ollama.Client(host=settings.host, timeout=settings.timeout_s)
        self._limiter = limiter or host_limiter(settings.host, settings.parallel)
        self._broken: str | None = None
        #: What the last decision reports to the game master (faults, reasoning, usage).
        self.last_report: AgentReport | None = None

    def __str__(self) -> str:
        return f"LLMAgent({self.settings.model}@{self.settings.host})"

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
        messages = [
            {"role": "system", "content": system_prompt(self.config, observation, self.persona)},
            {"role": "user", "content": decision_prompt(observation, choices, self.settings.context_chars)},
        ]
        schema = reply_schema(choices)
        for attempt in range(1 + self.settings.max_retries):
            text = self._call(messages, schema, draft)
            if text is None:  # the server failed this call: the built-in agent decides it
                draft.fallback = True
                return self._fallback.decide(observation, choices)
            if attempt:
                draft.retries += 1
            try:
                parsed = parse_reply(text, choices)
            except ReplyError as error:
                draft.faults.append(
                    f"invalid reply (attempt {attempt + 1}): {error}; raw: {text[:RAW_KEPT]!r}"
                )
                messages += [
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": f"That reply is invalid: {error}. Answer again, following the schema.",
                    },
                ]
                continue
            draft.reasoning = parsed.reasoning
            draft.repairs += parsed.repairs
            return parsed.action
        draft.faults.append(f"no valid reply after {1 + self.settings.max_retries} attempts: abstained")
        return Abstain()

    def _call(self, messages: list[dict[str, str]], schema: dict[str, Any], draft: _Draft) -> str | None:
        started = time.monotonic()
        try:
            with self._limiter:
                response = self._client.chat(
                    model=self.settings.model,
                    messages=messages,
                    format=schema,
                    options=self.settings.options.as_dict() or None,
                    stream=False,
                )
        except ConnectionError as exc:  # the client's own translation of a refused connection
            self._break(f"no Ollama server at {self.settings.host} ({exc})", draft)
            return None
        except ollama.ResponseError as exc:
            if exc.status_code == 404:  # noqa: PLR2004 - model not found: it will not appear mid-game
                self._break(
                    f"model {self.settings.model!r} is not on {self.settings.host}: {exc.error}", draft
                )
            else:
                draft.faults.append(
                    f"Ollama error {exc.status_code}: {exc.error}; the built-in agent decided"
                )
            return None
        except httpx.HTTPError as exc:  # timeouts and other transport errors leak from the client
            kind = type(exc).__name__
            draft.faults.append(
                f"LLM call failed ({kind} after {time.monotonic() - started:.1f} s); built-in agent decided"
            )
            return None
        except ValueError as exc:  # a 200 whose body is not a chat response (JSON or pydantic error)
            kind = type(exc).__name__
            draft.faults.append(f"unreadable response ({kind}) from Ollama; the built-in agent decided")
            return None
        finally:
            draft.latency_s = round(draft.latency_s + time.monotonic() - started, 6)
        draft.calls += 1
        draft.prompt_tokens += response.prompt_eval_count or 0
        draft.completion_tokens += response.eval_count or 0
        return response.message.content or ""

    def _break(self, reason: str, draft: _Draft) -> None:
        self._broken = reason
        logger.warning("%s: %s; the built-in agent plays this seat from now on", self, reason)
        draft.faults.append(f"{reason}; the built-in agent plays this seat from now on")
