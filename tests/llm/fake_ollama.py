"""A fake Ollama server: real HTTP on loopback, speaking the part of Ollama's API the LLM seats use.

Theory of operation
-------------------
`FakeOllama` runs a stdlib `ThreadingHTTPServer` on 127.0.0.1, port 0, in a daemon thread; each
connection gets its own handler thread (HTTP/1.1 keep-alive, as Ollama), so concurrent requests
really overlap. Routes, shaped like Ollama's (docs/api.md of ollama/ollama):

- `POST /api/chat`: answers what the test's `responder(request_json, n) -> Reply` says (`n` counts
  chat requests from 0). Non-streaming when the request says `"stream": false`, else NDJSON chunks
  (Ollama streams by default). An unknown model is answered like Ollama does, before the responder
  is asked: 404 `{"error": "model \"x\" not found, try pulling it first"}` (Go's `%q`, routes.go).
- `GET /api/tags`, `GET /api/version`, `GET /` ("Ollama is running").

Every request is recorded (`FakeOllama.requests`, chat ones in `chats`) with its parsed JSON, when it
arrived (body read) and when its answer started to go out (`time.monotonic`), and the handler thread.
`finished` is taken *before* the answer is written, so a client that sent its next request after
reading an answer always has `next.arrived > previous.finished`.

A `Reply.delay` waits on the server's stop event, so stopping never hangs on a slow answer; a stopped
server drops the connection instead of answering. `stop()` also closes the idle keep-alive
connections, so no handler thread outlives the server.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.httpfake import KeepAliveHandler, LoopbackServer, serve_in_thread

KNOWN_MODEL = "llama3.2:latest"
VERSION = "0.12.6"
CREATED_AT = "2025-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class Reply:
    """What the fake answers one chat request with.

    Attributes:
        status: HTTP status; 200 answers a chat response whose message content is `content`.
        content: the assistant's message (200), or the `{"error": ...}` text (other statuses).
        delay: seconds to wait before answering (ends early when the server stops).
        body: raw body sent as it is, overriding everything else (str, bytes, or JSON-able).
        prompt_eval_count / eval_count: token counts to report (default: derived from the sizes; the
            thinking counts in `eval_count`, as Ollama counts it).
        thinking: the model's thinking, returned apart from `content` (Ollama's `message.thinking`).
        done_reason: "stop", or "length" when the reply was cut by `num_predict`.
    """

    status: int = 200
    content: str = ""
    delay: float = 0.0
    body: Any = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    thinking: str | None = None
    done_reason: str = "stop"


Responder = Callable[[dict[str, Any], int], Reply]


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    json: Any
    arrived: float
    thread: str
    n: int = -1  # index among chat requests (-1 for other routes)
    finished: float | None = None  # when the answer started to go out
    status: int | None = None
    content: str | None = None  # the assistant's content (chat answers with status 200)
    prompt_eval_count: int = 0
    eval_count: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages") or ()) if isinstance(self.json, dict) else []

    @property
    def system(self) -> str:
        """The content of the first system message ('' if none)."""
        return next((m.get("content", "") for m in self.messages if m.get("role") == "system"), "")


def prompt_tokens(request: dict[str, Any]) -> int:
    """The fake's prompt token count: one per four characters of the messages, at least 1."""
    chars = sum(len(str(m.get("content", ""))) for m in request.get("messages") or ())
    return chars // 4 + 1


def completion_tokens(content: str) -> int:
    """The fake's completion token count: one per four characters of the answer, at least 1."""
    return len(content) // 4 + 1


def valid_content(request: dict[str, Any], n: int = 0) -> str:
    """A valid reply to the request's `format` schema (its first alternative): the first enum values.

    The engine lists abstain last, so this acts (first target, lowest bid, a short speech).
    """
    schema = request.get("format")
    if isinstance(schema, dict) and schema.get("anyOf"):  # one alternative per menu line: take the first
        schema = schema["anyOf"][0]
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    reply: dict[str, Any] = {}
    for name, prop in properties.items():
        if "enum" in prop:
            reply[name] = prop["enum"][0]
        elif prop.get("type") == "integer":
            reply[name] = prop.get("minimum", 0)
        elif name == "speech":
            reply[name] = f"I have a feeling about this, number {n}."
        elif name == "reasoning":
            reply[name] = f"thinking #{n}"
        elif prop.get("type") == "string":
            reply[name] = "ok"
    return json.dumps(reply)


def valid_reply(request: dict[str, Any], n: int) -> Reply:
    """The default responder: a valid reply, at once."""
    return Reply(content=valid_content(request, n))


def _canonical(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class _Server(LoopbackServer):
    fake: FakeOllama


class _Handler(KeepAliveHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the records, not the log."""

    def do_GET(self) -> None:
        fake = self.server.fake
        record = fake._record(self.command, self.path, None)
        if self.path == "/api/tags":
            self._send_json(record, 200, {"models": [fake.model_entry(m) for m in fake.models]})
        elif self.path == "/api/version":
            self._send_json(record, 200, {"version": VERSION})
        elif self.path == "/":
            self._send(record, 200, b"Ollama is running", "text/plain; charset=utf-8")
        else:
            self._send(record, 404, b"404 page not found", "text/plain")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            request = json.loads(raw) if raw else {}
        except json.JSONDecodeError as exc:
            record = fake._record(self.command, self.path, None)
            self._send_json(record, 400, {"error": f"invalid character: {exc.msg}"})
            return
        record = fake._record(self.command, self.path, request)
        if self.path != "/api/chat":
            self._send(record, 404, b"404 page not found", "text/plain")
            return
        model = request.get("model") if isinstance(request, dict) else None
        if not model:
            self._send_json(record, 400, {"error": "model is required"})
            return
        if _canonical(model) not in {_canonical(m) for m in fake.models}:
            self._send_json(record, 404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        reply = fake.responder(request, record.n)
        if reply.delay > 0 and fake._stopping.wait(reply.delay):
            self.close_connection = True  # stopped while "thinking": drop the connection, answer nothing
            return
        if reply.body is not None:
            body = reply.body
            if isinstance(body, str):
                body = body.encode()
            elif not isinstance(body, bytes):
                body = json.dumps(body).encode()
            self._send(record, reply.status, body, "application/json; charset=utf-8")
        elif reply.status != 200:
            self._send_json(record, reply.status, {"error": reply.content or "internal error"})
        else:
            self._answer_chat(record, request, reply)

    def _answer_chat(self, record: Recorded, request: dict[str, Any], reply: Reply) -> None:
        record.content = reply.content
        record.prompt_eval_count = (
            reply.prompt_eval_count if reply.prompt_eval_count is not None else prompt_tokens(request)
        )
        record.eval_count = (
            reply.eval_count
            if reply.eval_count is not None
            else completion_tokens(reply.content + (reply.thinking or ""))
        )
        message = {"role": "assistant", "content": reply.content}
        if reply.thinking is not None:
            message["thinking"] = reply.thinking
        final = {
            "model": request["model"],
            "created_at": CREATED_AT,
            "message": message,
            "done": True,
            "done_reason": reply.done_reason,
            "total_duration": 1_000_000,
            "load_duration": 10_000,
            "prompt_eval_count": record.prompt_eval_count,
            "prompt_eval_duration": 100_000,
            "eval_count": record.eval_count,
            "eval_duration": 800_000,
        }
        if request.get("stream", True) is False:
            self._send_json(record, 200, final)
            return
        chunk = {
            "model": request["model"],
            "created_at": CREATED_AT,
            "message": message,
            "done": False,
        }
        final["message"] = {"role": "assistant", "content": ""}
        lines = b"".join(json.dumps(part).encode() + b"\n" for part in (chunk, final))
        self._send(record, 200, lines, "application/x-ndjson")

    def _send_json(self, record: Recorded, status: int, payload: Any) -> None:
        self._send(record, status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send(self, record: Recorded, status: int, body: bytes, content_type: str) -> None:
        record.status = status
        record.finished = time.monotonic()  # before writing: see the module docstring
        self.reply(status, body, content_type)


@dataclass
class FakeOllama:
    """A fake Ollama server on loopback; use `running_fake()` (or `start()`/`stop()`)."""

    responder: Responder = valid_reply
    models: tuple[str, ...] = (KNOWN_MODEL,)
    requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _connections: dict[socket.socket, threading.Thread] = field(default_factory=dict)
    _chat_count: int = 0
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def chats(self) -> list[Recorded]:
        """The `/api/chat` requests, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path == "/api/chat"]

    def start(self) -> FakeOllama:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = serve_in_thread(server, "fake-ollama")
        return self

    def stop(self) -> None:
        """Stop serving, wake every delayed answer, close every connection. Idempotent, bounded."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        for handler in connections.values():
            handler.join(timeout=5)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def model_entry(self, name: str) -> dict[str, Any]:
        """An `/api/tags` entry, with the fields Ollama lists."""
        return {
            "name": name,
            "model": name,
            "modified_at": CREATED_AT,
            "size": 2_019_393_189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
        }

    def _record(self, method: str, path: str, payload: Any) -> Recorded:
        record = Recorded(method, path, payload, time.monotonic(), threading.current_thread().name)
        with self._lock:
            if path == "/api/chat":
                record.n = self._chat_count
                self._chat_count += 1
            self.requests.append(record)
        return record

    def _opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = threading.current_thread()

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)


@contextmanager
def running_fake(
    responder: Responder = valid_reply, *, models: tuple[str, ...] = (KNOWN_MODEL,)
) -> Iterator[FakeOllama]:
    """A started fake server, always stopped on exit."""
    fake = FakeOllama(responder=responder, models=models).start()
    try:
        yield fake
    finally:
        fake.stop()
