"""A fake OpenAI-compatible server: real HTTP on loopback, the part of the API an LLM seat uses.

Routes (shaped like the OpenAI API, as vLLM and llama.cpp's server serve it under a /v1 base URL):

- `GET /v1/models`: `{"object": "list", "data": [{"id": ..., "object": "model", ...}]}`;
- `POST /v1/chat/completions`: answers what `responder(request_json, n) -> OpenAIReply` says. An
  unknown model gets 404 as OpenAI answers it. A `response_format` whose type is not in `accepts` is
  refused with `refusal_status` and a message naming `response_format`, like llama-cpp-python's server
  (which takes only "text" and "json_object", with or without its own `schema` key: a
  `{"type": "json_object", "schema": ...}` counts as `json_object_schema` here).

With `api_key` set, a request without `Authorization: Bearer <api_key>` gets 401 with OpenAI's body,
which quotes the start and the end of the key it was given (so a test can check it is never repeated).
Every request is recorded with its headers. Runs in daemon threads; `stop()` closes every connection.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.httpfake import KeepAliveHandler, LoopbackServer, serve_in_thread
from tests.llm.fake_ollama import completion_tokens, prompt_tokens, valid_content

MODEL = "gemma-3-270m"
SCHEMA_MARK = "The JSON Schema your reply must follow:"


@dataclass(frozen=True)
class OpenAIReply:
    """One answer: a chat completion with `content` (status 200), or an error (`status`, `content`)."""

    status: int = 200
    content: str = ""
    finish_reason: str = "stop"
    reasoning_content: str | None = None
    reasoning_tokens: int | None = None
    body: Any = None  # sent as it is (str, bytes or JSON-able), overriding the rest


OpenAIResponder = Callable[[dict[str, Any], int], OpenAIReply]


def request_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The reply schema a request carries: in `response_format`, else written into its last message."""
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = fmt["json_schema"]["schema"]
        return schema if isinstance(schema, dict) else None
    messages = request.get("messages") or [{}]
    text = str(messages[-1].get("content", ""))
    if SCHEMA_MARK in text:
        schema = json.loads(text.split(SCHEMA_MARK, 1)[1])
        return schema if isinstance(schema, dict) else None
    return None


def valid_openai_reply(request: dict[str, Any], n: int) -> OpenAIReply:
    """The default responder: a valid reply to the request's schema."""
    return OpenAIReply(content=valid_content({"format": request_schema(request)}, n))


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    json: Any
    headers: dict[str, str]  # names in lower case
    status: int | None = None
    content: str | None = None


class _Server(LoopbackServer):
    fake: FakeOpenAI


class _Handler(KeepAliveHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.fake._lock:
                self.server.fake._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        fake = self.server.fake
        call = fake._record(self, None)
        if not self._authorized(call):
            return
        if self.path == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]
            self._json(call, 200, {"object": "list", "data": data})
        else:
            self._json(call, 404, _error(f"Unknown request URL: GET {self.path}", "invalid_request_error"))

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(raw) if raw else {}
        call = fake._record(self, request)
        if not self._authorized(call):
            return
        if self.path != "/v1/chat/completions":
            self._json(call, 404, _error(f"Unknown request URL: POST {self.path}", "invalid_request_error"))
            return
        model = request.get("model")
        if model not in fake.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            self._json(call, 404, _error(message, "invalid_request_error", "model_not_found"))
            return
        response_format = request.get("response_format") or {"type": "text"}
        fmt = response_format.get("type")
        if fmt == "json_object" and "schema" in response_format:
            fmt = "json_object_schema"  # llama.cpp's extension: a schema with json_object
        if fmt not in fake.accepts:
            message = (
                f"1 validation error: body.response_format.type: Input should be "
                f"{' or '.join(repr(a) for a in sorted(fake.accepts))}, got {fmt!r}"
            )
            self._json(call, fake.refusal_status, _error(message, "invalid_request_error"))
            return
        with fake._lock:
            n = fake._chat_count
            fake._chat_count += 1
        reply = fake.responder(request, n)
        if reply.body is not None:
            body = reply.body
            body = body.encode() if isinstance(body, str) else body
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
            self._send(call, reply.status, body)
        elif reply.status != 200:
            self._json(call, reply.status, _error(reply.content or "internal error", "server_error"))
        else:
            call.content = reply.content
            self._json(call, 200, _completion(request, reply))

    def _authorized(self, call: Call) -> bool:
        key = self.server.fake.api_key
        given = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if key is None or given == key:
            return True
        message = f"Incorrect API key provided: {given[:6]}***{given[-4:]}. You can find your key online."
        self._json(call, 401, _error(message, "invalid_request_error", "invalid_api_key"))
        return False

    def _json(self, call: Call, status: int, payload: Any) -> None:
        self._send(call, status, json.dumps(payload).encode())

    def _send(self, call: Call, status: int, body: bytes) -> None:
        call.status = status
        self.reply(status, body, "application/json")


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _completion(request: dict[str, Any], reply: OpenAIReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.reasoning_content is not None:
        message["reasoning_content"] = reply.reasoning_content
    completion = completion_tokens(reply.content + (reply.reasoning_content or ""))
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens(request),
        "completion_tokens": completion,
        "total_tokens": prompt_tokens(request) + completion,
    }
    if reply.reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": usage,
    }


@dataclass
class FakeOpenAI:
    """A fake OpenAI-compatible server on loopback; `url` is its base URL (ending in /v1)."""

    responder: OpenAIResponder = valid_openai_reply
    models: tuple[str, ...] = (MODEL,)
    accepts: frozenset[str] = frozenset({"json_schema", "json_object_schema", "json_object", "text"})
    refusal_status: int = 400
    api_key: str | None = None
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _connections: set[socket.socket] = field(default_factory=set)
    _chat_count: int = 0
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    _url: str | None = None

    @property
    def url(self) -> str:
        """The base URL (still readable after `stop()`, for messages that name it)."""
        assert self._url is not None, "not started"
        return self._url

    @property
    def chats(self) -> list[Call]:
        """The chat completion requests, in arrival order."""
        with self._lock:
            return [c for c in self.calls if c.path == "/v1/chat/completions"]

    def start(self) -> FakeOpenAI:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        self._thread = serve_in_thread(server, "fake-openai")
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (bounded)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _record(self, handler: _Handler, payload: Any) -> Call:
        call = Call(
            handler.command, handler.path, payload, {k.lower(): v for k, v in handler.headers.items()}
        )
        with self._lock:
            self.calls.append(call)
        return call


@contextmanager
def running_openai(responder: OpenAIResponder = valid_openai_reply, **kwargs: Any) -> Iterator[FakeOpenAI]:
    """A started fake OpenAI-compatible server, always stopped on exit."""
    fake = FakeOpenAI(responder=responder, **kwargs).start()
    try:
        yield fake
    finally:
        fake.stop()
