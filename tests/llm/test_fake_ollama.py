"""The fake Ollama server itself, through the real `ollama` client: it must speak the API as Ollama does."""

from __future__ import annotations

import json
import time

import httpx
import ollama
import pytest

from tests.llm.fake_ollama import KNOWN_MODEL, VERSION, Reply, running_fake, valid_content

SCHEMA = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "action": {"type": "string", "enum": ["vote", "abstain"]},
        "target": {"type": "string", "enum": ["Chloe", "Hugo"]},
        "bid": {"type": "integer", "minimum": 0, "maximum": 4},
    },
    "required": ["reasoning", "action"],
}
MESSAGES = [{"role": "user", "content": "Vote."}]


def test_tags_version_and_root():
    with running_fake() as fake:
        client = ollama.Client(host=fake.url, timeout=5)
        [model] = client.list().models
        assert model.model == KNOWN_MODEL
        assert model.details is not None
        assert model.details.family == "llama"
        assert httpx.get(f"{fake.url}/api/version", timeout=5).json() == {"version": VERSION}
        assert httpx.get(fake.url, timeout=5).text == "Ollama is running"
        assert [(r.method, r.path) for r in fake.requests] == [
            ("GET", "/api/tags"),
            ("GET", "/api/version"),
            ("GET", "/"),
        ]


def test_default_answer_follows_the_format_schema_and_counts_tokens():
    with running_fake() as fake:
        client = ollama.Client(host=fake.url, timeout=5)
        response = client.chat(model="llama3.2", messages=MESSAGES, format=SCHEMA, stream=False)
        reply = json.loads(response.message.content or "")
        assert reply == {"reasoning": "thinking #0", "action": "vote", "target": "Chloe", "bid": 0}
        [chat] = fake.chats
        assert chat.json["stream"] is False
        assert response.done_reason == "stop"
        assert response.prompt_eval_count == chat.prompt_eval_count > 0
        assert response.eval_count == chat.eval_count > 0
        assert chat.finished is not None
        assert chat.finished >= chat.arrived


def test_streaming_is_the_default_and_gives_ndjson_parts():
    with running_fake(lambda request, n: Reply(content="hello")) as fake:
        client = ollama.Client(host=fake.url, timeout=5)
        parts = list(client.chat(model=KNOWN_MODEL, messages=MESSAGES, stream=True))
        assert "".join(p.message.content or "" for p in parts) == "hello"
        assert [p.done for p in parts] == [False, True]
        assert parts[-1].eval_count == fake.chats[0].eval_count


def test_unknown_model_is_a_404_like_ollamas():
    with running_fake() as fake:
        client = ollama.Client(host=fake.url, timeout=5)
        with pytest.raises(ollama.ResponseError) as raised:
            client.chat(model="mistral", messages=MESSAGES, stream=False)
        assert raised.value.status_code == 404
        assert raised.value.error == 'model "mistral" not found, try pulling it first'


def test_stopping_ends_a_delayed_answer_at_once():
    with running_fake(lambda request, n: Reply(content=valid_content(request, n), delay=60)) as fake:
        client = ollama.Client(host=fake.url, timeout=0.2)
        with pytest.raises(httpx.ReadTimeout):
            client.chat(model=KNOWN_MODEL, messages=MESSAGES, stream=False)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # bounded: the 60 s wait ended with the server
    [chat] = fake.chats
    assert chat.finished is None  # dropped, never answered
