"""The servers an LLM seat talks to, behind one small interface: one chat request in, one completion out.

`LLMAgent` builds a `ChatRequest` (messages, the reply schema, sampling options, `think`) and a backend
turns it into its server's call: `OllamaBackend` (Ollama's /api/chat through the `ollama` client) or
`OpenAIBackend` (any OpenAI-compatible /v1/chat/completions, actors/llm/openai_backend.py). Whatever a
server does wrong comes back as one of two exceptions, with a message fit for the seat's faults:
`SeatLost` (no server, no such model: it will not come back mid-game) or `CallFailed` (this call only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import ollama

from actors.llm.config import LLMSettings, Think


class CallFailed(Exception):
    """One call failed (timeout, server error, unreadable answer); the next one may work."""


class SeatLost(CallFailed):
    """The server is not there or does not have the model: the seat cannot play on it this game."""


@dataclass(frozen=True)
class ChatRequest:
    """One request: the conversation, the JSON Schema the reply must follow, the sampling options."""

    messages: list[dict[str, str]]
    schema: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    think: Think = None


@dataclass(frozen=True)
class Completion:
    """A server's answer: the reply text, a reasoning model's thinking, token counts, and whether the
    token bound cut it (Ollama's done_reason / OpenAI's finish_reason "length")."""

    content: str
    thinking: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    thinking_tokens: int = 0
    cut: bool = False


class Backend(Protocol):
    """A server an LLM seat talks to."""

    def chat(self, request: ChatRequest) -> Completion:
        """One chat call; raises `SeatLost` or `CallFailed` (never anything else for what a server does)."""
        ...


class OllamaBackend:
    """Ollama's /api/chat: the schema as `format=` (a grammar on the server), options as they are."""

    def __init__(self, settings: LLMSettings, client: ollama.Client | None = None) -> None:
        self.settings = settings
        # Always a timeout: the client's default is none at all.
        self._client = client or ollama.Client(host=settings.host, timeout=settings.timeout_s)

    def chat(self, request: ChatRequest) -> Completion:
        """See `Backend.chat`."""
        host, model = self.settings.host, self.settings.model
        started = time.monotonic()
        try:
            response = self._client.chat(
                model=model,
                messages=request.messages,
                format=request.schema,
                options=request.options or None,
                think=request.think,
                stream=False,
            )
        except ConnectionError as exc:  # the client's own translation of a refused connection
            raise SeatLost(f"no Ollama server at {host} ({exc})") from None
        except ollama.ResponseError as exc:
            if exc.status_code == 404:  # noqa: PLR2004 - model not found: it will not appear mid-game
                raise SeatLost(f"model {model!r} is not on {host}: {exc.error}") from None
            raise CallFailed(f"Ollama error {exc.status_code}: {exc.error}") from None
        except httpx.HTTPError as exc:  # timeouts and other transport errors leak from the client
            kind = type(exc).__name__
            raise CallFailed(f"LLM call failed ({kind} after {time.monotonic() - started:.1f} s)") from None
        except ValueError as exc:  # a 200 whose body is not a chat response (JSON or pydantic error)
            raise CallFailed(f"unreadable response ({type(exc).__name__}) from Ollama") from None
        return Completion(
            content=response.message.content or "",
            thinking=response.message.thinking or None,
            prompt_tokens=response.prompt_eval_count or 0,
            completion_tokens=response.eval_count or 0,
            cut=response.done_reason == "length",
        )
