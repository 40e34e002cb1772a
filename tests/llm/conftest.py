"""Fixtures of the LLM tests: a fake Ollama server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm.fake_ollama import FakeOllama, running_fake


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    """A started fake Ollama (valid replies by default), stopped after the test."""
    with running_fake() as server:
        yield server
