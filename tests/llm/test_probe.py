"""Which LLM seats cannot play, said plainly, each server asked once (no server needed: list_models is
replaced by a stub)."""

from __future__ import annotations

import pytest

from actors.llm import LLMSettings, probe
from actors.llm.probe import LLMUnavailable, missing_llm_seats


def test_missing_servers_and_models_are_said_once_with_their_seats(monkeypatch: pytest.MonkeyPatch):
    asked: list[str] = []

    def list_models(host: str, timeout: float = 3.0) -> list[str]:
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
