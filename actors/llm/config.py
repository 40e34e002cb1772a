"""Settings of an LLM seat, validated: a typo in an option is an error, not silently dropped.

(ollama 0.6.3's `Client.chat` sends an `options` dict as it is, so a misspelt name such as "temprature"
reaches the server and is ignored there, and `ollama.Options(temprature=0)` drops it without a word. These
models forbid extra fields instead.)
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_HOST = "http://127.0.0.1:11434"


def default_host() -> str:
    """`OLLAMA_HOST` if set (the client's own convention), else Ollama's default address."""
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
    """One seat's model and how to talk to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1)
    host: str = Field(default_factory=default_host)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    #: Requests in flight to `host` at most; the limit of the host's pool (actors/llm/pool.py), so every
    #: seat on one host must give the same value.
    parallel: int = Field(default=1, ge=1, le=64)
    context_chars: int = Field(default=12_000, ge=1_000)
    options: OllamaOptions = Field(default_factory=OllamaOptions)
