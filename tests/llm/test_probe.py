"""Which LLM seats cannot play, said plainly, each server asked once (no server needed: list_models is
replaced by a stub)."""

from __future__ import annotations

import socket

import pytest

from actors.llm import LLMSettings, probe
from actors.llm.probe import LLMUnavailable, list_models, missing_llm_seats
from tests.llm.fake_ollama import KNOWN_MODEL
from tests.llm.fake_openai import running_openai


def test_missing_servers_and_models_are_said_once_with_their_seats(monkeypatch: pytest.MonkeyPatch):
    asked: list[str] = []

    def list_models(host: str, timeout: float = 3.0, backend: str = "ollama") -> list[str]:
        asked.append(host)
        if host == "http://down:1":
            raise LLMUnavailable("no Ollama server at http://down:1")
        return ["llama3.2:latest"]

    monkeypatch.setattr(probe, "list_models", list_models)
    settings = {
        "Alice": LLMSettings(model="llama3.2", host="http://up:1"),
        "Bruno": LLMSettings(model="mistral", host="http://up:1"),
        "Chloe": LLMSettings(model="llama3.2", host="http://down:1"),
        "Damien": LLMSettings(model="mistral", host="http://down:1"),
    }
    problems = missing_llm_seats(settings)
    assert problems == {
        "model 'mistral' is not on http://up:1 (it has: llama3.2:latest; try: ollama pull mistral)": [
            "Bruno"
        ],
        "no Ollama server at http://down:1": ["Chloe", "Damien"],
    }
    assert asked == ["http://up:1", "http://down:1"]


def test_both_backends_list_their_models(fake):
    with running_openai(models=("gemma-3-270m", "qwen3-0.6b")) as server:
        assert list_models(server.url, backend="openai") == ["gemma-3-270m", "qwen3-0.6b"]
    assert list_models(fake.url) == [KNOWN_MODEL]


def test_a_typo_in_a_model_name_says_which_models_exist_on_both_backends(fake):
    with running_openai(models=("gemma-3-270m", "qwen3-0.6b")) as server:
        url = server.url
        problems = missing_llm_seats(
            {
                "Alice": LLMSettings(model="gemma-3-207m", backend="openai", host=url),
                "Bruno": LLMSettings(model="llama3.3", host=fake.url),
                "Chloe": LLMSettings(model="qwen3-0.6b", backend="openai", host=url),
            }
        )
    assert problems == {
        f"model 'gemma-3-207m' is not on {url} (it has: gemma-3-270m, qwen3-0.6b; "
        "did you mean gemma-3-270m?)": ["Alice"],
        f"model 'llama3.3' is not on {fake.url} (it has: {KNOWN_MODEL}; did you mean llama3.2? "
        "or: ollama pull llama3.3)": ["Bruno"],
    }


def test_an_ollama_and_an_openai_server_on_one_address_are_asked_apart(monkeypatch: pytest.MonkeyPatch):
    asked: list[tuple[str, str]] = []

    def list_models(host: str, timeout: float = 3.0, backend: str = "ollama") -> list[str]:
        asked.append((backend, host))
        return ["m"]

    monkeypatch.setattr(probe, "list_models", list_models)
    missing_llm_seats(
        {
            "Alice": LLMSettings(model="m", host="http://h:1"),
            "Bruno": LLMSettings(model="m", backend="openai", host="http://h:1"),
            "Chloe": LLMSettings(model="m", backend="openai", host="http://h:1"),
        }
    )
    assert asked == [("ollama", "http://h:1"), ("openai", "http://h:1")]


def test_an_unreachable_openai_server_is_said():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        with pytest.raises(LLMUnavailable, match=f"no OpenAI-compatible server answers at {url}"):
            list_models(url, backend="openai")


def test_a_refused_key_is_said_without_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-123456")
    with (
        running_openai(api_key="sk-right") as server,
        pytest.raises(LLMUnavailable, match="refused the key in OPENAI_API_KEY") as raised,
    ):
        list_models(server.url, backend="openai")
    assert "sk-wro" not in str(raised.value)
    assert "3456" not in str(raised.value)
