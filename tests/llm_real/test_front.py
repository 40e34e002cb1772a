"""The Ollama-compatible front without a model: request mapping, refusals, the real client against it.

A scripted backend stands in for llama.cpp, so these run in the normal suite; the model-backed tests
are in test_real_model.py (marked `real_llm`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import ollama
import pytest

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from engine import Game, preset
from tests.llm.fake_ollama import valid_content
from tests.llm_real.ollama_front import (
    DEFAULT_MAX_TOKENS,
    END_OF_TURN,
    MAX_BODY_BYTES,
    FrontError,
    Generation,
    GenerationRequest,
    chat_request,
    gemma_prompt,
    running_front,
)

SCHEMA = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "reasoning": {"type": "string"},
                "action": {"type": "string", "enum": ["vote"]},
                "target": {"type": "string", "enum": ["Chloe", "Hugo"]},
            },
            "required": ["reasoning", "action", "target"],
        }
    ]
}
MESSAGES = [{"role": "system", "content": "You are Ana."}, {"role": "user", "content": "Vote."}]


@dataclass
class ScriptedBackend:
    """Answers with `reply(request)`; records every request and the most generations ever at once."""

    reply: Callable[[GenerationRequest], str] = lambda request: valid_content({"format": request.format})
    done_reason: str = "stop"
    requests: list[GenerationRequest] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event | None = None
    busy: int = 0
    peak: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def generate(self, request: GenerationRequest) -> Generation:
        with self._lock:
            self.requests.append(request)
            self.busy += 1
            self.peak = max(self.peak, self.busy)
        self.entered.set()
        try:
            if self.release is not None:
                assert self.release.wait(5), "the test never released the backend"
            text = self.reply(request)
            return Generation(text, len(request.prompt) // 4, len(text) // 4 + 1, self.done_reason)
        finally:
            with self._lock:
                self.busy -= 1


def test_gemma_prompt_folds_the_system_text_into_the_first_user_turn():
    messages = [
        *MESSAGES,
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": "That reply is invalid."},
    ]
    assert gemma_prompt(messages) == (
        "<start_of_turn>user\nYou are Ana.\n\nVote.<end_of_turn>\n"
        "<start_of_turn>model\n{}<end_of_turn>\n"
        "<start_of_turn>user\nThat reply is invalid.<end_of_turn>\n"
        "<start_of_turn>model\n"
    )
    assert gemma_prompt([{"role": "system", "content": "Rules."}]) == (
        "<start_of_turn>user\nRules.<end_of_turn>\n<start_of_turn>model\n"
    )


def body(**fields: object) -> dict[str, object]:
    return {"model": "gemma3-270m", "messages": MESSAGES, "stream": False, **fields}


def test_a_chat_request_takes_ollamas_defaults_and_maps_the_options():
    plain = chat_request(body(format=SCHEMA), "gemma3-270m")
    assert (plain.temperature, plain.top_p, plain.top_k, plain.repeat_penalty) == (0.8, 0.9, 40, 1.1)
    assert plain.seed is None
    assert plain.format == SCHEMA
    assert plain.max_tokens == DEFAULT_MAX_TOKENS
    assert plain.stop == (END_OF_TURN,)
    assert plain.prompt.endswith("<start_of_turn>model\n")

    options = {"temperature": 0, "seed": 7, "num_predict": 60, "top_k": 5, "top_p": 0.5, "stop": ["}"]}
    tuned = chat_request(body(format="json", options=options, think=True), "gemma3-270m:latest")
    assert (tuned.temperature, tuned.seed, tuned.max_tokens, tuned.top_k, tuned.top_p) == (0.0, 7, 60, 5, 0.5)
    assert tuned.stop == (END_OF_TURN, "}")
    assert tuned.format == "json"
    assert tuned.think is True
    # num_predict can only lower the front's cap; -1 (Ollama's "no limit") means the cap.
    assert chat_request(body(options={"num_predict": 10**6}), "gemma3-270m").max_tokens == DEFAULT_MAX_TOKENS
    assert chat_request(body(options={"num_predict": -1}), "gemma3-270m").max_tokens == DEFAULT_MAX_TOKENS
    # Options about loading the model are accepted and ignored, as Ollama does for a loaded model.
    assert chat_request(body(options={"num_ctx": 8192}), "gemma3-270m").max_tokens == DEFAULT_MAX_TOKENS


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        ([], 400, "request body must be a JSON object"),
        ({"messages": []}, 400, "model is required"),
        (body(model="llama3.2"), 404, "model 'llama3.2' not found"),
        (body(stream=True), 400, "non-streaming requests only"),
        ({"model": "gemma3-270m", "messages": MESSAGES}, 400, "non-streaming"),  # Ollama streams by default
        (body(messages="Vote."), 400, "messages must be a list of objects"),
        (body(format="yaml"), 400, "format must be"),
        (body(options=[1]), 400, "options must be an object"),
        (body(options={"temperature": "hot"}), 400, "option temperature must be a float"),
        (body(options={"seed": 1.5}), 400, "option seed must be a int"),
        (body(options={"seed": True}), 400, "option seed must be a int"),
        (body(options={"stop": "}"}), 400, "option stop must be a list of strings"),
    ],
)
def test_bad_chat_requests_are_refused_with_ollamas_status(request_body, status, message):
    with pytest.raises(FrontError) as caught:
        chat_request(request_body, "gemma3-270m")
    assert caught.value.status == status
    assert message in caught.value.message


def test_the_real_client_lists_shows_and_chats_with_a_schema():
    backend = ScriptedBackend()
    with running_front(backend, size=253_000_000, digest="sha256:abc") as front:
        client = ollama.Client(host=front.url, timeout=5)
        [model] = client.list().models
        assert model.model == "gemma3-270m:latest"
        assert model.size == 253_000_000
        assert model.details is not None
        assert model.details.family == "gemma3"
        shown = client.show("gemma3-270m")
        assert shown.capabilities == ["completion"]
        response = client.chat(
            model="gemma3-270m", messages=MESSAGES, format=SCHEMA, options={"seed": 3}, stream=False
        )
        assert json.loads(response.message.content or "") == {
            "reasoning": "thinking #0",
            "action": "vote",
            "target": "Chloe",
        }
        assert response.done_reason == "stop"
        [request] = backend.requests
        assert request.format == SCHEMA
        assert request.seed == 3
        [chat] = front.chats
        assert response.prompt_eval_count == chat.prompt_tokens > 0
        assert response.eval_count == chat.completion_tokens > 0
        assert front.totals()["chats"] == 1


def test_an_unknown_model_gets_ollamas_404_through_the_client():
    with running_front(ScriptedBackend()) as front:
        client = ollama.Client(host=front.url, timeout=5)
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="llama3.2", messages=MESSAGES, stream=False)
        assert caught.value.status_code == 404
        assert caught.value.error == "model 'llama3.2' not found"
        with pytest.raises(ollama.ResponseError) as shown:
            client.show("llama3.2")
        assert shown.value.status_code == 404


def test_a_reply_cut_at_the_cap_says_length_and_a_format_the_backend_refuses_is_a_400():
    def refuse(request: GenerationRequest) -> str:
        raise ValueError("unsupported schema keyword")

    with running_front(
        ScriptedBackend(reply=lambda r: '{"reasoning": "and then', done_reason="length")
    ) as front:
        client = ollama.Client(host=front.url, timeout=5)
        response = client.chat(
            model="gemma3-270m", messages=MESSAGES, stream=False, options={"num_predict": 5}
        )
        assert response.done_reason == "length"
        assert front.totals()["cut"] == 1
    with running_front(ScriptedBackend(reply=refuse)) as front:
        client = ollama.Client(host=front.url, timeout=5)
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="gemma3-270m", messages=MESSAGES, format=SCHEMA, stream=False)
        assert caught.value.status_code == 400
        assert "invalid format: unsupported schema keyword" in caught.value.error


def test_thinking_is_refused_unless_the_front_plays_a_thinking_model():
    with running_front(ScriptedBackend()) as front:
        client = ollama.Client(host=front.url, timeout=5)
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="gemma3-270m", messages=MESSAGES, think=True, stream=False)
        assert caught.value.status_code == 400
        assert "does not support thinking" in caught.value.error

    def reply(request: GenerationRequest) -> str:
        return "I suspect Hugo." if request.format is None else valid_content({"format": request.format})

    backend = ScriptedBackend(reply=reply)
    with running_front(backend, thinking=True) as front:
        client = ollama.Client(host=front.url, timeout=5)
        response = client.chat(
            model="gemma3-270m", messages=MESSAGES, format=SCHEMA, think=True, stream=False
        )
        assert response.message.thinking == "I suspect Hugo."
        assert json.loads(response.message.content or "")["action"] == "vote"
        free, constrained = backend.requests
        assert free.format is None
        assert free.max_tokens == DEFAULT_MAX_TOKENS // 4
        assert constrained.format == SCHEMA
        [chat] = front.chats
        assert response.eval_count == chat.completion_tokens  # the thinking's tokens are counted too
        assert client.show("gemma3-270m").capabilities == ["completion", "thinking"]


def test_an_oversized_body_is_refused_unread():
    with running_front(ScriptedBackend()) as front:
        response = httpx.post(
            f"{front.url}/api/chat",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={"Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 413
        bad = httpx.post(f"{front.url}/api/chat", content=b"{not json", timeout=5)
        assert bad.status_code == 400
        assert front.chats == []


def test_concurrent_chats_reach_the_backend_one_at_a_time():
    release = threading.Event()
    backend = ScriptedBackend(release=release)
    results: list[str] = []

    def ask() -> None:
        client = ollama.Client(host=front.url, timeout=10)
        response = client.chat(model="gemma3-270m", messages=MESSAGES, format=SCHEMA, stream=False)
        results.append(response.message.content or "")

    with running_front(backend) as front:
        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        assert backend.entered.wait(5)
        release.set()
        for thread in threads:
            thread.join(10)
    assert len(results) == 3
    assert backend.peak == 1


def test_an_llm_seat_decides_through_the_front():
    """Our real agent and client, the front and a backend that follows the grammar: a legal action."""
    config = preset("aiwolf-5")
    game = Game.new(config, seed=1)
    player = sorted(game.awaiting())[0]
    observation = game.observe(player)
    choices = game.legal_actions(player)
    backend = ScriptedBackend()
    with running_front(backend) as front:
        settings = LLMSettings(model="gemma3-270m", host=front.url, timeout_s=5, options={"seed": 1})
        agent = LLMAgent(
            settings,
            config,
            persona=PERSONAS[0],
            fallback=HeuristicAgent(0),
            limiter=threading.BoundedSemaphore(1),
        )
        action = agent.decide(observation, choices)
    assert agent.last_report is not None
    assert agent.last_report.faults == ()
    assert not agent.last_report.fallback
    game.apply(player, action)  # the engine accepts it: legal
    [request] = backend.requests
    assert request.prompt.startswith(f"<start_of_turn>user\nYou are {player},")
    assert request.seed == 1
