"""An Ollama-compatible HTTP front over a local model: what the LLM seats talk to on the real tier.

Theory of operation
-------------------
`OllamaFront` serves the part of Ollama's API (docs/api.md of ollama/ollama) that `ollama.Client` and
our seats use, on 127.0.0.1 port 0, with a stdlib `ThreadingHTTPServer` in a daemon thread:

- `GET /api/tags`: the one model, with the fields Ollama lists (`name`, `model`, `size`, `digest`,
  `details`); `GET /api/version`; `GET /` ("Ollama is running").
- `POST /api/show`: details and capabilities of the model.
- `POST /api/chat`, non-streaming (`"stream": false`; a streaming request is refused with 400: nothing
  here streams): the messages become one prompt in Gemma's turn format (`gemma_prompt`), `format` (a
  JSON Schema, or "json") becomes a grammar in the backend, `options` map to sampling settings
  (`chat_request`). An unknown model gets Ollama's 404 `{"error": "model 'x' not found"}`.

The model is behind a `Backend` (a `generate` method), so everything but the generation itself is
tested without a model (tests/llm_real/test_front.py) and the real tier plugs in llama-cpp-python
(tests/llm_real/llama_backend.py). The backend runs one generation at a time (llama.cpp's context is
not thread-safe): the front holds a lock around it, so concurrent requests queue, as on a one-slot
Ollama (OLLAMA_NUM_PARALLEL=1).

Bounds, so a rambling model or a bad request cannot run the tier into its time limit: a reply is at most
`max_tokens` tokens (the request's `num_predict` can only lower it); a request body at most
`MAX_BODY_BYTES` (413 beyond). Every chat is recorded (`ChatRecord`: tokens, seconds, done reason, the
reply) so the tier reports what the model was really asked and answered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tests.httpfake import KeepAliveHandler, LoopbackServer, serve_in_thread

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # a chat request of the game is ~10 KB; anything near this is not one
DEFAULT_MAX_TOKENS = 512  # the front's own cap on a reply; num_predict can only lower it
END_OF_TURN = "<end_of_turn>"
VERSION = "0.12.6"  # the Ollama version this front imitates (the fields of its 0.12 API)
#: Ollama's defaults for the sampling options a request leaves out (ollama/ollama api/types.go).
OLLAMA_DEFAULTS: dict[str, float] = {"temperature": 0.8, "top_p": 0.9, "top_k": 40, "repeat_penalty": 1.1}
#: Options of Ollama's that are accepted and ignored here (they concern loading, not one generation).
IGNORED_OPTIONS = frozenset({"num_ctx", "num_batch", "num_gpu", "num_thread", "num_keep", "use_mmap"})


class FrontError(Exception):
    """A request the front refuses: `status` and the message Ollama would put in `{"error": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Generation:
    """What the backend produced for one prompt."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    #: "stop" (the model ended its turn or hit a stop string) or "length" (cut at max_tokens).
    done_reason: str


@dataclass(frozen=True)
class GenerationRequest:
    """One generation, as the backend is asked for it (built from a chat request by `chat_request`)."""

    prompt: str
    #: The JSON Schema the reply must follow, "json" for any JSON value, None for free text.
    format: dict[str, Any] | str | None
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    repeat_penalty: float
    seed: int | None
    stop: tuple[str, ...]
    think: bool = False


class Backend(Protocol):
    """A model that completes a prompt (called under the front's lock: one at a time)."""

    def generate(self, request: GenerationRequest) -> Generation:
        """Complete `request.prompt`; ValueError if `request.format` cannot be compiled."""
        ...


def gemma_prompt(messages: list[dict[str, Any]]) -> str:
    """The chat as a Gemma prompt: `<start_of_turn>ROLE\\n...<end_of_turn>\\n` turns, then the model's turn.

    Gemma has no system role: as its own chat template does, the system text goes at the top of the
    first user turn. Assistant turns are the model's (`model`); any other role speaks as `user`.
    """
    system = "\n\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
    turns: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "system":
            continue
        content = str(message.get("content") or "")
        speaker = "model" if role == "assistant" else "user"
        if speaker == "user" and system:
            content, system = f"{system}\n\n{content}", ""
        turns.append(f"<start_of_turn>{speaker}\n{content}{END_OF_TURN}\n")
    if system:  # only system messages: they make the one user turn
        turns.append(f"<start_of_turn>user\n{system}{END_OF_TURN}\n")
    return "".join(turns) + "<start_of_turn>model\n"


def _number(options: dict[str, Any], name: str, kind: type[int] | type[float]) -> float | int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise FrontError(400, f"option {name} must be a {kind.__name__}, got {value!r}")
    return kind(value)


def chat_request(body: Any, model: str, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> GenerationRequest:
    """Map an `/api/chat` body onto a generation; FrontError (with Ollama's status) if it is refused.

    Checks, in Ollama's order: a model named, the model known (404), messages a list of objects, then
    the format and the options. Unknown options are ignored (Ollama logs and drops them too).
    """
    if not isinstance(body, dict):
        raise FrontError(400, "request body must be a JSON object")
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise FrontError(400, "model is required")
    if canonical(name) != canonical(model):
        raise FrontError(404, f"model '{name}' not found")
    if body.get("stream", True) is not False:
        raise FrontError(400, "this front answers non-streaming requests only: send stream=false")
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise FrontError(400, "messages must be a list of objects")
    fmt = body.get("format")
    if fmt in ("", None):
        fmt = None
    elif not (fmt == "json" or isinstance(fmt, dict)):
        raise FrontError(400, f'format must be "json" or a JSON Schema object, got {fmt!r}')
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise FrontError(400, "options must be an object")
    for unknown in sorted(set(options) - set(OLLAMA_DEFAULTS) - {"seed", "num_predict", "stop"}):
        level = logging.DEBUG if unknown in IGNORED_OPTIONS else logging.WARNING
        logger.log(level, "ignoring option %s", unknown)
    num_predict = _number(options, "num_predict", int)
    limit = max_tokens if num_predict is None or num_predict < 0 else min(int(num_predict), max_tokens)
    stop = options.get("stop") or []
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise FrontError(400, "option stop must be a list of strings")
    seed = _number(options, "seed", int)

    def sampling(name: str, kind: type[int] | type[float]) -> Any:
        value = _number(options, name, kind)
        return OLLAMA_DEFAULTS[name] if value is None else value

    return GenerationRequest(
        prompt=gemma_prompt(messages),
        format=fmt,
        max_tokens=max(limit, 1),
        temperature=float(sampling("temperature", float)),
        top_p=float(sampling("top_p", float)),
        top_k=int(sampling("top_k", int)),
        repeat_penalty=float(sampling("repeat_penalty", float)),
        seed=None if seed is None else int(seed),
        stop=(END_OF_TURN, *stop),
        think=bool(body.get("think")),
    )


def canonical(model: str) -> str:
    """A model name with Ollama's default tag (`gemma3-270m` is `gemma3-270m:latest`)."""
    return model if ":" in model else f"{model}:latest"


@dataclass
class ChatRecord:
    """One `/api/chat` request and what came of it."""

    body: Any
    status: int = 0
    content: str | None = None
    thinking: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    done_reason: str | None = None
    seconds: float = 0.0  # time in the backend (generation only, not the wait for the lock)


@dataclass
class OllamaFront:
    """The front: start with `running_front()` (or `start()`/`stop()`), point `ollama.Client` at `url`."""

    backend: Backend
    model: str = "gemma3-270m"
    max_tokens: int = DEFAULT_MAX_TOKENS
    #: Answer `think` requests with the model's free text before its answer (as a reasoning model does);
    #: if False, a `think` request is refused as Ollama refuses it for a model without that capability.
    thinking: bool = False
    size: int = 0
    digest: str = ""
    chats: list[ChatRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # the backend: one generation at a time
    _records: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give `ollama.Client(host=...)`."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OllamaFront:
        """Listen on a free loopback port and serve in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.front = self
        self._server = server
        self._thread = serve_in_thread(server, "ollama-front")
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); a generation under way finishes first (it cannot be interrupted)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def tag(self) -> dict[str, Any]:
        """The model's `/api/tags` entry."""
        name = canonical(self.model)
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-08-14T00:00:00Z",
            "size": self.size,
            "digest": self.digest,
            "details": self._details(),
        }

    def _details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "gemma3",
            "families": ["gemma3"],
            "parameter_size": "268.10M",
            "quantization_level": "Q4_K_M",
        }

    def show(self, body: Any) -> dict[str, Any]:
        """The `/api/show` answer; FrontError 404 for another model."""
        name = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
        if not isinstance(name, str) or canonical(name) != canonical(self.model):
            raise FrontError(404, f"model '{name}' not found")
        return {
            "modelfile": f"FROM {self.model}",
            "parameters": 'stop "<end_of_turn>"',
            "template": "(Gemma turns, built by the front)",
            "details": self._details(),
            "model_info": {"general.architecture": "gemma3"},
            "capabilities": ["completion", "thinking"] if self.thinking else ["completion"],
            "modified_at": "2025-08-14T00:00:00Z",
        }

    def chat(self, body: Any) -> dict[str, Any]:
        """The non-streaming `/api/chat` answer; FrontError if the request is refused."""
        record = ChatRecord(body=body)
        with self._records:
            self.chats.append(record)
        try:
            request = chat_request(body, self.model, max_tokens=self.max_tokens)
            if request.think and not self.thinking:
                raise FrontError(400, f'"{self.model}" does not support thinking')
            started = time.perf_counter()
            with self._lock:
                begun = time.perf_counter()
                thinking = self._think(request, record) if request.think else None
                generation = self.backend.generate(request)
                record.seconds = round(record.seconds + time.perf_counter() - begun, 6)
        except FrontError as exc:
            record.status = exc.status
            raise
        except ValueError as exc:  # the backend could not compile the format
            record.status = 400
            raise FrontError(400, f"invalid format: {exc}") from None
        record.status = 200
        record.content = generation.text
        record.prompt_tokens += generation.prompt_tokens
        record.completion_tokens += generation.completion_tokens
        record.done_reason = generation.done_reason
        message: dict[str, Any] = {"role": "assistant", "content": generation.text}
        if thinking is not None:
            message["thinking"] = thinking
        total_ns = int((time.perf_counter() - started) * 1e9)
        return {
            "model": body["model"],
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "message": message,
            "done": True,
            "done_reason": generation.done_reason,
            "total_duration": total_ns,
            "load_duration": 0,
            "prompt_eval_count": record.prompt_tokens,
            "eval_count": record.completion_tokens,
            "eval_duration": int(record.seconds * 1e9),
        }

    def _think(self, request: GenerationRequest, record: ChatRecord) -> str:
        """Free text first, as a thinking model writes before it answers (at most a quarter of the cap)."""
        free = dataclasses.replace(request, format=None, max_tokens=max(request.max_tokens // 4, 1))
        generation = self.backend.generate(free)
        record.thinking = generation.text.strip()
        record.prompt_tokens += generation.prompt_tokens
        record.completion_tokens += generation.completion_tokens
        return record.thinking

    def totals(self) -> dict[str, float]:
        """What the front served: chats answered, tokens, backend seconds, replies cut at the cap."""
        with self._records:
            done = [c for c in self.chats if c.status == 200]
        return {
            "chats": len(done),
            "prompt_tokens": sum(c.prompt_tokens for c in done),
            "completion_tokens": sum(c.completion_tokens for c in done),
            "seconds": round(sum(c.seconds for c in done), 3),
            "cut": sum(c.done_reason == "length" for c in done),
        }


class _Server(LoopbackServer):
    front: OllamaFront


class _Handler(KeepAliveHandler):
    server: _Server
    timeout = 600  # an idle keep-alive connection ends on its own

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tier reads the records, not an access log."""

    def do_GET(self) -> None:
        front = self.server.front
        if self.path == "/api/tags":
            self._json(200, {"models": [front.tag()]})
        elif self.path == "/api/version":
            self._json(200, {"version": VERSION})
        elif self.path == "/":
            self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
        else:
            self._send(404, b"404 page not found", "text/plain")

    def do_POST(self) -> None:
        front = self.server.front
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            self._json(413, {"error": f"request body must be 0-{MAX_BODY_BYTES} bytes"})
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._json(400, {"error": f"invalid JSON: {exc}"})
            return
        try:
            if self.path == "/api/chat":
                self._json(200, front.chat(body))
            elif self.path == "/api/show":
                self._json(200, front.show(body))
            else:
                self._send(404, b"404 page not found", "text/plain")
        except FrontError as exc:
            self._json(exc.status, {"error": exc.message})

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.reply(status, body, content_type)


@contextmanager
def running_front(backend: Backend, **settings: Any) -> Iterator[OllamaFront]:
    """A started front over `backend`, always stopped on exit."""
    front = OllamaFront(backend=backend, **settings).start()
    try:
        yield front
    finally:
        with contextlib.suppress(OSError):
            front.stop()
