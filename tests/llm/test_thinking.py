"""Reasoning models: Ollama's `think` per seat; the thinking stays private, its size is counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from actors.llm import LLMSettings
from actors.llm.agent import THINKING_KEPT
from actors.messages import AgentReport, Usage
from engine import ActionKind, Kill
from tests.llm.fake_ollama import Reply
from tests.llm.test_llm_agent import WOLVES, make_agent, situation

THOUGHT = "Chloe asked odd questions yesterday; the seer would. Kill her first."


def thinking_reply(request: dict[str, Any], n: int) -> Reply:
    content = json.dumps({"reasoning": "short", "action": "kill", "target": "Chloe"})
    return Reply(content=content, thinking=THOUGHT, eval_count=120, prompt_eval_count=900)


@pytest.mark.parametrize(("think", "sent"), [(None, None), (True, True), (False, False), ("high", "high")])
def test_think_is_sent_as_set(fake, think, sent):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, think=think)
    agent.decide(s.obs, s.choices)
    assert fake.chats[0].json.get("think") == sent


def test_think_rejects_unknown_levels():
    with pytest.raises(ValidationError, match="think"):
        LLMSettings(model="m", think="extreme")  # type: ignore[arg-type]


def test_thinking_is_kept_private_and_its_tokens_counted(fake):
    fake.responder = thinking_reply
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, think=True)
    assert agent.decide(s.obs, s.choices) == Kill("Chloe")
    report = agent.last_report
    assert report is not None
    assert report.thinking == THOUGHT
    assert report.reasoning == "short"
    assert report.usage is not None
    assert report.usage.completion_tokens == 120  # Ollama's eval_count covers the thinking
    assert report.usage.thinking_chars == len(THOUGHT)
    assert report.as_dict()["thinking"] == THOUGHT
    assert report.as_dict()["usage"]["thinking_chars"] == len(THOUGHT)


def test_thinking_raises_the_default_bound(fake):
    """Ollama counts thinking tokens against num_predict: a thinking seat needs room to think."""
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, think=True, think_tokens=1000)
    agent.decide(s.obs, s.choices)
    assert fake.chats[0].json["options"]["num_predict"] == 256 + 1000


def test_long_thinking_is_kept_bounded(fake):
    fake.responder = lambda request, n: Reply(
        content=json.dumps({"reasoning": "r", "action": "kill", "target": "Chloe"}), thinking="t" * 50_000
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, think=True)
    agent.decide(s.obs, s.choices)
    report = agent.last_report
    assert report is not None
    assert report.thinking is not None
    assert len(report.thinking) <= THINKING_KEPT + 100
    assert report.usage is not None
    assert report.usage.thinking_chars == 50_000


def test_usage_without_thinking_logs_as_before():
    assert "thinking_chars" not in Usage(calls=1).as_dict()
    assert "thinking" not in AgentReport().as_dict()
