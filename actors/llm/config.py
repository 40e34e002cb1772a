"""Settings of an LLM seat, validated: a typo in an option is an error, not silently dropped.

(ollama 0.6.3's `Client.chat` sends an `options` dict as it is, so a misspelt name such as "temprature"
reaches the server and is ignored there, and `ollama.Options(temprature=0)` drops it without a word. These
models forbid extra fields instead.)
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_HOST = "http://127.0.0.1:11434"
#: The `openai` client's own default base URL (used when neither a flag nor OPENAI_BASE_URL gives one).
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"

#: The servers an LLM seat can talk to: Ollama's own API, or any OpenAI-compatible chat completions API.
Backend = Literal["ollama", "openai"]
BACKENDS: tuple[Backend, ...] = ("ollama", "openai")
#: Ollama's `think`: on, off, or a level (gpt-oss takes levels); None leaves the model's default.
Think = bool | Literal["low", "medium", "high"] | None


def default_host(backend: Backend = "ollama") -> str:
    """Where a backend's server is by default, each by its client's own convention: `OLLAMA_HOST`, else
    Ollama's default address; `OPENAI_BASE_URL`, else the OpenAI API."""
    if backend == "openai":
        return os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
    return os.environ.get("OLLAMA_HOST") or DEFAULT_HOST


class OllamaOptions(BaseModel):
    """Generation options passed to Ollama (`options=`); only these names are accepted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=5)
    seed: int | None = None
    num_ctx: int | None = Field(default=None, ge=256)
    num_predict: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    repeat_penalty: float | None = Field(default=None, gt=0)
    stop: list[str] | None = None

    def as_dict(self) -> dict[str, object]:
        """The options actually set (what goes on the wire)."""
        return self.model_dump(exclude_none=True)


class LLMSettings(BaseModel):
    """One seat's model and how to talk to it.

    Replies are bounded twice: in tokens (`num_predict` of each request: `speak_tokens` when the menu
    has a speech, else `act_tokens`, plus `think_tokens` when thinking is on, since a server counts
    the thinking against the same bound; an explicit `options.num_predict` overrides all three) and
    in characters (`maxLength` in the reply schema: `reasoning_chars`, and speech at most the game's
    limit, lowered to `speech_chars` if set). A re-ask raises the temperature by
    `retry_temperature_step` per attempt and changes the seed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Backend = "ollama"
    model: str = Field(min_length=1)
    #: The server: Ollama's address, or the OpenAI-compatible base URL (ending in /v1); when not given,
    #: `default_host(backend)` (filled in by the validator below, which sees the backend).
    host: str = Field(default=DEFAULT_HOST, min_length=1)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    #: Requests in flight to `host` at most; the limit of the host's pool (actors/llm/pool.py), so every
    #: seat on one host must give the same value.
    parallel: int = Field(default=1, ge=1, le=64)
    context_chars: int = Field(default=12_000, ge=1_000)
    options: OllamaOptions = Field(default_factory=OllamaOptions)
    think: Think = None
    speak_tokens: int = Field(default=512, ge=16)
    act_tokens: int = Field(default=256, ge=16)
    think_tokens: int = Field(default=2048, ge=0)
    reasoning_chars: int = Field(default=600, ge=1)
    speech_chars: int | None = Field(default=None, ge=1)
    retry_temperature_step: float = Field(default=0.3, ge=0, le=2)

    @model_validator(mode="before")
    @classmethod
    def _default_host(cls, data: Any) -> Any:
        """The host defaults by backend (see `default_host`), so it depends on the backend given."""
        if isinstance(data, dict) and data.get("host") is None:
            backend = data.get("backend", "ollama")
            return {**data, "host": default_host(backend if backend in BACKENDS else "ollama")}
        return data

    def num_predict(self, speaks: bool) -> int:
        """The token bound of one request (see the class docstring)."""
        if self.options.num_predict is not None:
            return self.options.num_predict
        tokens = self.speak_tokens if speaks else self.act_tokens
        return tokens + (self.think_tokens if self.think else 0)
