"""An OpenAI-compatible chat completions server as an LLM seat's backend (vLLM, llama.cpp's server, LM Studio,
llama-cpp-python's server, hosted APIs), through the official `openai` client.

Structured output: the reply schema goes as `response_format={"type": "json_schema", ...}` where the
server takes it. Not every server does (llama-cpp-python's server accepts only "text" and
"json_object" and answers 4xx/500 naming `response_format`); then the request is sent once more with
`{"type": "json_object", "schema": ...}` (llama.cpp's servers compile that schema to a grammar, as
Ollama does with `format`: without it a small model's JSON rarely names an action), then with
`{"type": "json_object"}`, then as plain text, the schema written into the prompt, and the lenient
reader (actors/llm/lenient.py) does the rest. What a server took is remembered per base URL for the
process (`RESPONSE_FORMATS`), so a refusal costs a call per server (and per seat asking at that
moment), not one per request.

The API key comes from `OPENAI_API_KEY` (local servers need none); it is never logged and never
appears in an error: a refused key is said without the server's text (OpenAI's 401 quotes part of
the key), and any message that quotes it has it replaced.

Options map to the API's names (temperature, seed, top_p, stop; `num_predict` becomes `max_tokens`;
`top_k` goes in the body, as vLLM and llama.cpp read it); `num_ctx` and `repeat_penalty` have no
equivalent and are refused when the backend is made. `think` maps to `reasoning_effort` (a level) or
to `chat_template_kwargs.enable_thinking` (on/off, as vLLM and llama.cpp's server read it); the
thinking comes back as `reasoning_content` (vLLM, llama.cpp, DeepSeek) or `reasoning`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Literal, cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from actors.llm.backends import CallFailed, ChatRequest, Completion, SeatLost
from actors.llm.config import LLMSettings

logger = logging.getLogger(__name__)

ResponseFormat = Literal["json_schema", "json_object_schema", "json_object", "text"]
#: From the most constrained to the least: each refusal moves a server one step down.
#: `json_object_schema` is `{"type": "json_object", "schema": ...}`, llama.cpp's own extension.
FORMAT_ORDER: tuple[ResponseFormat, ...] = ("json_schema", "json_object_schema", "json_object", "text")
UNMAPPED_OPTIONS = ("num_ctx", "repeat_penalty")
ERROR_KEPT = 300  # characters of a server's error text kept in a fault
KEY_ENV = "OPENAI_API_KEY"
NO_KEY = "no-key"  # sent when OPENAI_API_KEY is unset: local servers ignore it, the client wants one
SCHEMA_MARK = "The JSON Schema your reply must follow:"


class FormatMemory:
    """Which `response_format` each server takes, learnt from its refusals (thread-safe)."""

    def __init__(self) -> None:
        self._formats: dict[str, ResponseFormat] = {}
        self._lock = threading.Lock()

    def get(self, server: str) -> ResponseFormat:
        """The most constrained format not yet refused by `server`."""
        with self._lock:
            return self._formats.get(server, FORMAT_ORDER[0])

    def refused(self, server: str, refused: ResponseFormat) -> ResponseFormat | None:
        """`server` refused `refused`: the next format to try, or None if it was plain text already."""
        position = FORMAT_ORDER.index(refused)
        if position + 1 == len(FORMAT_ORDER):
            return None
        following = FORMAT_ORDER[position + 1]
        with self._lock:
            current = self._formats.get(server, FORMAT_ORDER[0])
            if FORMAT_ORDER.index(current) < FORMAT_ORDER.index(following):
                self._formats[server] = following
                logger.warning(
                    "%s refused response_format %s; using %s for this server", server, refused, following
                )
        return following


#: The process's servers and the formats they took.
RESPONSE_FORMATS = FormatMemory()


def api_key() -> str | None:
    """The API key from the environment, if any."""
    return os.environ.get(KEY_ENV) or None


def make_client(base_url: str, timeout: float) -> openai.OpenAI:
    """A client for `base_url`, with our own retries only (max_retries=0) and always a timeout."""
    return openai.OpenAI(base_url=base_url, api_key=api_key() or NO_KEY, timeout=timeout, max_retries=0)


def scrub(text: str) -> str:
    """`text` with the API key (if any) replaced, and bounded to `ERROR_KEPT` characters."""
    key = api_key()
    if key:
        text = text.replace(key, "[API key]")
    return text[:ERROR_KEPT]


def status_problem(exc: openai.APIStatusError, base_url: str, model: str | None = None) -> CallFailed:
    """The fault an HTTP error status is: SeatLost for a refused key or an unknown model, else CallFailed."""
    status = exc.status_code
    if status in (401, 403):  # the server's text may quote the key: not repeated
        given = "the key in OPENAI_API_KEY" if api_key() else "no key (OPENAI_API_KEY is not set)"
        return SeatLost(f"the server at {base_url} refused {given} ({status})")
    if status == 404 and model is not None:  # noqa: PLR2004
        return SeatLost(
            f"model {model!r} is not on {base_url} ({status}: {scrub(exc.message)}; is the base URL the "
            "one ending in /v1?)"
        )
    return CallFailed(f"server error {status} from {base_url}: {scrub(exc.message)}")


class OpenAIBackend:
    """An OpenAI-compatible /v1/chat/completions server (see the module docstring)."""

    def __init__(
        self,
        settings: LLMSettings,
        client: openai.OpenAI | None = None,
        formats: FormatMemory = RESPONSE_FORMATS,
    ) -> None:
        """Raises ValueError for an Ollama option that has no meaning on this API."""
        unmapped = [name for name in UNMAPPED_OPTIONS if getattr(settings.options, name) is not None]
        if unmapped:
            raise ValueError(
                f"LLM option {', '.join(unmapped)} has no equivalent on an OpenAI-compatible server "
                f"(seat {settings.model!r}); drop it"
            )
        self.settings = settings
        self._client = client or make_client(settings.host, settings.timeout_s)
        self._formats = formats

    def chat(self, request: ChatRequest) -> Completion:
        """See `actors.llm.backends.Backend.chat`."""
        server = self.settings.host
        fmt: ResponseFormat | None = self._formats.get(server)
        while fmt is not None:
            try:
                response = self._create(request, fmt)
            except openai.APIStatusError as exc:
                if _refuses_format(exc):
                    fmt = self._formats.refused(server, fmt)
                    continue
                raise status_problem(exc, server, self.settings.model) from None
            return self._completion(response)
        raise CallFailed(f"the server at {server} refused every response_format, even plain text")

    def _create(self, request: ChatRequest, fmt: ResponseFormat) -> ChatCompletion:
        server = self.settings.host
        messages = (
            request.messages if fmt == "json_schema" else _with_schema(request.messages, request.schema)
        )
        kwargs = _sampling(request)
        if fmt == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                # strict=False: OpenAI's strict mode refuses a root anyOf (one alternative per menu line);
                # servers that constrain generation (vLLM, llama.cpp) apply the schema either way.
                "json_schema": {"name": "reply", "schema": request.schema, "strict": False},
            }
        elif fmt == "json_object_schema":
            kwargs["response_format"] = {"type": "json_object", "schema": request.schema}
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        started = time.monotonic()
        try:
            response = self._client.chat.completions.create(
                model=self.settings.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),  # role/content dicts
                stream=False,
                **kwargs,
            )
        except openai.APITimeoutError:
            raise CallFailed(
                f"LLM call failed (timeout after {time.monotonic() - started:.1f} s) at {server}"
            ) from None
        except openai.APIConnectionError:
            raise SeatLost(f"no OpenAI-compatible server at {server}") from None
        except openai.APIStatusError:
            raise
        except (openai.APIError, ValueError, TypeError) as exc:  # a 200 that is not a chat completion
            raise CallFailed(f"unreadable response ({type(exc).__name__}) from {server}") from None
        if not isinstance(response, ChatCompletion) or not response.choices:
            raise CallFailed(f"unreadable response (no choices) from {server}")
        return response

    def _completion(self, response: ChatCompletion) -> Completion:
        choice = response.choices[0]
        message = choice.message
        extra = message.model_extra or {}
        thinking = extra.get("reasoning_content") or extra.get("reasoning")
        usage = response.usage
        details = usage.completion_tokens_details if usage is not None else None
        return Completion(
            content=message.content or "",
            thinking=thinking if isinstance(thinking, str) and thinking else None,
            prompt_tokens=usage.prompt_tokens if usage is not None else 0,
            completion_tokens=usage.completion_tokens if usage is not None else 0,
            thinking_tokens=(details.reasoning_tokens or 0) if details is not None else 0,
            cut=choice.finish_reason == "length",
        )


def _sampling(request: ChatRequest) -> dict[str, Any]:
    """The request's options and `think` under this API's names (see the module docstring)."""
    options = request.options
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name in ("temperature", "seed", "top_p"):
        if options.get(name) is not None:
            kwargs[name] = options[name]
    if options.get("num_predict") is not None:
        kwargs["max_tokens"] = options["num_predict"]
    if options.get("stop"):
        kwargs["stop"] = options["stop"]
    if options.get("top_k") is not None:
        extra["top_k"] = options["top_k"]
    if isinstance(request.think, str):
        kwargs["reasoning_effort"] = request.think
    elif request.think is not None:
        extra["chat_template_kwargs"] = {"enable_thinking": request.think}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def _refuses_format(exc: openai.APIStatusError) -> bool:
    """A refusal of the request's `response_format` (llama-cpp-python: 500 or 422; others: 400)."""
    if exc.status_code not in (400, 422, 500):
        return False
    said = f"{exc.message} {exc.body!r}".lower()
    return "response_format" in said or "json_schema" in said


def _with_schema(messages: list[dict[str, str]], schema: dict[str, Any]) -> list[dict[str, str]]:
    """The messages with the reply schema written into the last one (for servers that cannot take it)."""
    last = messages[-1]
    written = f"{last['content']}\n\n{SCHEMA_MARK}\n{json.dumps(schema)}"
    return [*messages[:-1], {**last, "content": written}]
