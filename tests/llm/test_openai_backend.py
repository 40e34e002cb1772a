"""LLM seats on an OpenAI-compatible server (a real HTTP fake): the wire, the response_format fallback,
options, thinking, bounds, and every failure said clearly, the API key never repeated."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings, OllamaOptions
from actors.llm.config import DEFAULT_OPENAI_BASE_URL
from actors.llm.openai_backend import SCHEMA_MARK, FormatMemory, OpenAIBackend
from actors.llm.reply import reply_schema
from actors.runner import play_game
from engine import ActionKind, Kill, preset
from tests.llm.fake_openai import MODEL, FakeOpenAI, OpenAIReply, running_openai, valid_openai_reply
from tests.llm.test_llm_agent import CONFIG, WOLVES, SpyAgent, situation

SECRET = "sk-test-0123456789abcdefSECRET"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with running_openai() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def agent_on(url: str, **settings: Any) -> tuple[LLMAgent, SpyAgent]:
    spy = SpyAgent()
    settings.setdefault("model", MODEL)
    settings.setdefault("timeout_s", 5.0)
    agent = LLMAgent(
        LLMSettings(backend="openai", host=url, **settings),
        CONFIG,
        persona=PERSONAS[0],
        fallback=spy,
        limiter=threading.BoundedSemaphore(4),
    )
    return agent, spy


def test_a_decision_sends_the_schema_as_response_format_and_counts_usage(server):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = agent_on(server.url)
    action = agent.decide(s.obs, s.choices)
    [chat] = server.chats
    sent = chat.json
    assert sent["model"] == MODEL
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == reply_schema(s.choices)
    assert sent["max_tokens"] == 256
    assert sent.get("stream") in (None, False)
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert SCHEMA_MARK not in sent["messages"][-1]["content"]
    assert chat.headers["authorization"] == "Bearer no-key"  # no key set: a placeholder, never a real one
    assert action.kind is ActionKind.KILL
    assert spy.decided == []
    report = agent.last_report
    assert report is not None
    assert report.faults == ()
    assert report.usage is not None
    assert report.usage.calls == 1
    assert report.usage.prompt_tokens > 0
    assert report.usage.completion_tokens > 0


def test_options_map_to_the_apis_names(server):
    s = situation(ActionKind.KILL, WOLVES[0])
    options = OllamaOptions(temperature=0.3, seed=5, top_p=0.9, top_k=20, stop=["\n\n"], num_predict=77)
    agent, _ = agent_on(server.url, options=options)
    agent.decide(s.obs, s.choices)
    sent = server.chats[0].json
    assert {k: sent[k] for k in ("temperature", "seed", "top_p", "top_k", "stop", "max_tokens")} == {
        "temperature": 0.3,
        "seed": 5,
        "top_p": 0.9,
        "top_k": 20,
        "stop": ["\n\n"],
        "max_tokens": 77,
    }


@pytest.mark.parametrize("option", [{"num_ctx": 4096}, {"repeat_penalty": 1.1}])
def test_options_without_an_equivalent_are_refused(option):
    with pytest.raises(ValueError, match=next(iter(option))):
        OpenAIBackend(LLMSettings(backend="openai", model="m", host="http://x/v1", options=option))


def test_a_retry_changes_seed_and_temperature(server):
    server.responder = lambda request, n: (
        OpenAIReply(content="nope") if n == 0 else valid_openai_reply(request, n)
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url, options=OllamaOptions(seed=1, temperature=0.1))
    agent.decide(s.obs, s.choices)
    first, second = (c.json for c in server.chats)
    assert second["seed"] != first["seed"]
    assert second["temperature"] > first["temperature"]


@pytest.mark.parametrize("status", [400, 422, 500])
def test_a_server_refusing_json_schema_falls_back_to_json_object_once_and_remembers(status):
    accepts = frozenset({"text", "json_object"})
    with running_openai(accepts=accepts, refusal_status=status) as server:
        s = situation(ActionKind.KILL, WOLVES[0])
        agent, _ = agent_on(server.url)
        assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
        assert agent.last_report is not None
        assert agent.last_report.faults == ()
        refused, refused_schema, accepted = server.chats
        assert (refused.status, refused_schema.status) == (status, status)
        assert (
            refused_schema.json["response_format"]["schema"]
            == refused.json["response_format"]["json_schema"]["schema"]
        )
        assert accepted.json["response_format"] == {"type": "json_object"}
        assert SCHEMA_MARK in accepted.json["messages"][-1]["content"]  # the schema, in words
        other, _ = agent_on(server.url)  # another seat on the same server: no second refusal
        other.decide(s.obs, s.choices)
        assert [c.json.get("response_format", {}).get("type") for c in server.chats[3:]] == ["json_object"]


def test_a_llama_cpp_server_gets_the_schema_with_json_object():
    """llama-cpp-python's server refuses json_schema but compiles `{"type": "json_object", "schema": ...}`
    to a grammar: the reply schema still constrains the model there."""
    accepts = frozenset({"text", "json_object", "json_object_schema"})
    with running_openai(accepts=accepts, refusal_status=500) as server:
        s = situation(ActionKind.KILL, WOLVES[0])
        agent, _ = agent_on(server.url)
        assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
        refused, accepted = server.chats
        assert refused.status == 500
        schema = refused.json["response_format"]["json_schema"]["schema"]
        assert accepted.json["response_format"] == {"type": "json_object", "schema": schema}


def test_a_text_only_server_gets_plain_text_and_the_lenient_reader(server):
    server.accepts = frozenset({"text"})
    server.responder = lambda request, n: OpenAIReply(
        content="Here you go:\n```json\n" + valid_openai_reply(request, n).content + "\n```"
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url)
    assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
    schema = server.chats[0].json["response_format"]["json_schema"]
    assert [c.json.get("response_format") for c in server.chats] == [
        {"type": "json_schema", "json_schema": schema},
        {"type": "json_object", "schema": schema["schema"]},
        {"type": "json_object"},
        None,
    ]
    report = agent.last_report
    assert report is not None
    assert report.faults == ()
    assert any("code fence" in r for r in report.repairs)
    assert report.usage is not None
    assert report.usage.calls == 1  # refusals are the server's, not the model's: one answered call


def test_format_memory_moves_down_only():
    memory = FormatMemory()
    assert memory.get("a") == "json_schema"
    assert memory.refused("a", "json_schema") == "json_object_schema"
    assert memory.refused("a", "json_schema") == "json_object_schema"  # a late second refusal: no change
    assert memory.get("a") == "json_object_schema"
    assert memory.refused("a", "json_object_schema") == "json_object"
    assert memory.refused("a", "json_object") == "text"
    assert memory.refused("a", "text") is None
    assert memory.get("b") == "json_schema"


def test_thinking_and_its_tokens_come_back(server):
    server.responder = lambda request, n: OpenAIReply(
        content=json.dumps({"reasoning": "r", "action": "kill", "target": "Chloe"}),
        reasoning_content="Chloe is the seer, surely.",
        reasoning_tokens=42,
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url, think=True)
    assert agent.decide(s.obs, s.choices) == Kill("Chloe")
    report = agent.last_report
    assert report is not None
    assert report.thinking == "Chloe is the seer, surely."
    assert report.usage is not None
    assert report.usage.thinking_tokens == 42
    assert server.chats[0].json["chat_template_kwargs"] == {"enable_thinking": True}


def test_a_think_level_is_sent_as_reasoning_effort(server):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url, think="low")
    agent.decide(s.obs, s.choices)
    assert server.chats[0].json["reasoning_effort"] == "low"
    agent, _ = agent_on(server.url)
    agent.decide(s.obs, s.choices)
    assert "reasoning_effort" not in server.chats[1].json
    assert "chat_template_kwargs" not in server.chats[1].json


def test_a_reply_cut_by_max_tokens_is_a_clear_fault(server):
    server.responder = lambda request, n: (
        OpenAIReply(content='{"reasoning": "aaaa', finish_reason="length")
        if n == 0
        else valid_openai_reply(request, n)
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url)
    assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "cut at the length bound (256 tokens)" in fault


# ---------------------------------------------------------------------------------------- failures


def test_no_server_breaks_the_seat_once_with_a_clear_message():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        s = situation(ActionKind.KILL, WOLVES[0])
        agent, spy = agent_on(url, timeout_s=2.0)
        agent.decide(s.obs, s.choices)
        report = agent.last_report
        agent.decide(s.obs, s.choices)
    assert len(spy.decided) == 2
    assert report is not None
    [fault] = report.faults
    assert f"no OpenAI-compatible server at {url}" in fault
    assert agent.last_report is not None
    assert agent.last_report.faults == ()


def test_an_unknown_model_is_said_with_the_server(server):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = agent_on(server.url, model="gemma-3-207m")
    agent.decide(s.obs, s.choices)
    agent.decide(s.obs, s.choices)
    assert len(server.chats) == 1
    assert len(spy.decided) == 2
    assert agent.last_report is not None
    assert agent.last_report.faults == ()  # said once, on the first decision
    assert agent.last_report.fallback is True


def test_an_unknown_model_fault_names_it(server):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url, model="gemma-3-207m")
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert f"model 'gemma-3-207m' is not on {server.url}" in fault
    assert "does not exist" in fault


def test_a_refused_api_key_is_said_without_the_key(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    with running_openai(api_key="sk-the-right-one") as server:
        s = situation(ActionKind.KILL, WOLVES[0])
        agent, spy = agent_on(server.url)
        agent.decide(s.obs, s.choices)
        [chat] = server.chats
    assert chat.headers["authorization"] == f"Bearer {SECRET}"  # sent to the server, and only there
    assert chat.status == 401
    report = agent.last_report
    assert report is not None
    [fault] = report.faults
    assert "refused the key in OPENAI_API_KEY (401)" in fault
    everything = json.dumps(report.as_dict()) + "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in everything
    assert SECRET[:6] not in everything
    assert SECRET[-4:] not in everything
    assert len(spy.decided) == 1


def test_a_missing_api_key_is_said(server):
    server.api_key = "sk-needed"
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = agent_on(server.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "OPENAI_API_KEY is not set" in fault


def test_a_server_error_quoting_the_key_has_it_scrubbed(monkeypatch, server):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server.responder = lambda request, n: OpenAIReply(status=500, content=f"boom with {SECRET} inside")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = agent_on(server.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "server error 500" in fault
    assert "boom with [API key] inside" in fault
    assert SECRET not in fault
    assert len(spy.decided) == 1
    agent.decide(s.obs, s.choices)  # one call failed, not the seat
    assert len(server.chats) == 2


def test_a_slow_server_is_a_timeout_fault_for_that_call(server):
    release = threading.Event()

    def slow(request: dict[str, Any], n: int) -> OpenAIReply:
        if n == 0:
            release.wait(5)
        return valid_openai_reply(request, n)

    server.responder = slow
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = agent_on(server.url, timeout_s=0.3)
    try:
        agent.decide(s.obs, s.choices)
    finally:
        release.set()
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "timeout" in fault
    assert len(spy.decided) == 1


@pytest.mark.parametrize("body", ["<html>502 Bad Gateway</html>", {"unexpected": True}])
def test_an_unreadable_ok_response_falls_back_for_that_call(server, body):
    server.responder = lambda request, n: OpenAIReply(body=body)
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = agent_on(server.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "unreadable response" in fault
    assert len(spy.decided) == 1


def test_the_base_url_defaults_by_the_clients_convention(monkeypatch):
    assert LLMSettings(backend="openai", model="m").host == DEFAULT_OPENAI_BASE_URL
    monkeypatch.setenv("OPENAI_BASE_URL", "http://gpu:8000/v1")
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu:11434")
    assert LLMSettings(backend="openai", model="m").host == "http://gpu:8000/v1"
    assert LLMSettings(model="m").host == "http://gpu:11434"
    assert LLMSettings(backend="openai", model="m", host="http://other/v1").host == "http://other/v1"


def test_a_whole_game_on_a_text_only_server_finishes_with_legal_actions_and_no_faults():
    """Eight seats on a server that takes neither json_schema nor json_object, whose model wraps its
    JSON in prose and a code fence with a raw newline in a string: the lenient path, end to end."""

    def chatty(request: dict[str, Any], n: int) -> OpenAIReply:
        reply = json.loads(valid_openai_reply(request, n).content)
        body = json.dumps(reply).replace('"reasoning": "', '"reasoning": "line\n', 1)
        return OpenAIReply(content=f"Here is my move.\n```json\n{body}\n```\nThanks!")

    config = preset("classic-8")
    with running_openai(chatty, accepts=frozenset({"text"})) as server:
        limiter = threading.BoundedSemaphore(8)
        seats = {
            p: LLMAgent(
                LLMSettings(backend="openai", model=MODEL, host=server.url, timeout_s=10.0, parallel=8),
                config,
                persona=PERSONAS[i],
                fallback=HeuristicAgent(i),
                limiter=limiter,
            )
            for i, p in enumerate(config.players)
        }
        finished = play_game(config, seats, seed=5, timeout_s=30.0, wait_s=60.0)
        chats = server.chats
    assert finished.outcome is not None
    assert finished.faults == dict.fromkeys(config.players, 0)
    answered = [c for c in chats if c.status == 200]
    # Refused: json_schema, json_object with a schema, then json_object, once for each seat that asked
    # before the server was known (eight seats ask at once on the first night), never again after.
    assert 3 <= len(chats) - len(answered) <= 3 * len(seats)
    assert all(c.status == 200 for c in chats[-len(answered) // 2 :])
    assert all(c.json.get("response_format") is None for c in answered)
    assert sum(finished.usage[p]["calls"] for p in finished.usage) == len(answered)
    assert all(finished.usage[p]["retries"] == 0 for p in finished.usage)
