"""A re-ask changes what can change the answer; replies are bounded, and a reply cut by the bound is a fault.

A base model at a fixed seed returns the identical reply to an identical request, so a re-ask that
resends nearly the same request is wasted (seen on a real small model: three calls, one reply).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from actors.llm import LLMSettings, OllamaOptions
from actors.llm.reply import REASONING_CHARS, reply_schema
from engine import Abstain, ActionKind, Kill
from tests.llm.fake_ollama import Reply, valid_content
from tests.llm.test_llm_agent import WOLVES, bad_first, make_agent, situation

OLLAMA_DEFAULT_TEMPERATURE = 0.8  # Ollama's default when a request sets none


def test_a_retry_changes_seed_and_temperature_and_asks_a_short_follow_up(fake):
    fake.responder = bad_first("I would kill Chloe")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, options=OllamaOptions(temperature=0.2, seed=42))
    assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
    first, second = fake.chats
    assert first.json["options"]["seed"] == 42
    assert first.json["options"]["temperature"] == 0.2
    assert second.json["options"]["seed"] != 42
    assert second.json["options"]["temperature"] > 0.2
    assert second.json != first.json
    follow_up = second.messages[-1]["content"]
    assert second.messages[-1]["role"] == "user"
    assert "no JSON object" in follow_up  # the error, quoted
    kill = next(c for c in s.choices if c.kind is ActionKind.KILL)
    for name in (*kill.targets, "kill", "abstain"):  # the allowed values
        assert name in follow_up
    assert len(follow_up) < len(first.messages[-1]["content"])


def test_a_retry_without_options_still_changes_the_sampling(fake):
    fake.responder = bad_first("nope")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    first, second = fake.chats
    assert "seed" not in first.json["options"]
    assert "temperature" not in first.json["options"]
    assert isinstance(second.json["options"]["seed"], int)
    assert second.json["options"]["temperature"] > OLLAMA_DEFAULT_TEMPERATURE


def test_each_retry_replaces_the_last_exchange_and_samples_anew(fake):
    fake.responder = lambda request, n: Reply(content=f"garbage {n}")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, max_retries=3, options=OllamaOptions(seed=7))
    assert agent.decide(s.obs, s.choices) == Abstain()
    chats = fake.chats
    assert len(chats) == 4
    seeds = [c.json["options"]["seed"] for c in chats]
    temperatures = [c.json["options"].get("temperature", OLLAMA_DEFAULT_TEMPERATURE) for c in chats]
    assert len(set(seeds)) == 4
    assert temperatures == sorted(temperatures)
    assert len(set(temperatures)) == 4
    for n, chat in enumerate(chats[1:]):  # system, task, the last bad reply, the follow-up: no growth
        assert len(chat.messages) == 4
        assert chat.messages[2] == {"role": "assistant", "content": f"garbage {n}"}


def test_temperature_step_is_a_setting(fake):
    fake.responder = bad_first("nope")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url, retry_temperature_step=0.5, options=OllamaOptions(temperature=0.0))
    agent.decide(s.obs, s.choices)
    assert fake.chats[1].json["options"]["temperature"] == 0.5


# ---------------------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("kind", "tokens"), [(ActionKind.SPEAK, 512), (ActionKind.VOTE, 256), (ActionKind.KILL, 256)]
)
def test_num_predict_defaults_by_decision_kind(fake, kind, tokens):
    s = situation(kind, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    assert fake.chats[0].json["options"] == {"num_predict": tokens}


def test_num_predict_is_overridable(fake):
    speak, vote = situation(ActionKind.SPEAK, WOLVES[0]), situation(ActionKind.VOTE, WOLVES[0])
    agent, _ = make_agent(fake.url, speak_tokens=900, act_tokens=90)
    agent.decide(speak.obs, speak.choices)
    agent.decide(vote.obs, vote.choices)
    assert [c.json["options"]["num_predict"] for c in fake.chats] == [900, 90]
    agent, _ = make_agent(fake.url, options=OllamaOptions(num_predict=33))  # an explicit option wins
    agent.decide(speak.obs, speak.choices)
    assert fake.chats[-1].json["options"]["num_predict"] == 33


def test_free_text_fields_carry_max_length(fake):
    s = situation(ActionKind.SPEAK, WOLVES[0])
    limit = next(c.max_chars for c in s.choices if c.kind is ActionKind.SPEAK)
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    speak, abstain = fake.chats[0].json["format"]["anyOf"]
    assert speak["properties"]["speech"]["maxLength"] == limit
    assert speak["properties"]["reasoning"]["maxLength"] == REASONING_CHARS
    assert abstain["properties"]["reasoning"]["maxLength"] == REASONING_CHARS
    agent, _ = make_agent(fake.url, reasoning_chars=100, speech_chars=50)
    agent.decide(s.obs, s.choices)
    speak = fake.chats[1].json["format"]["anyOf"][0]
    assert speak["properties"]["speech"]["maxLength"] == 50
    assert speak["properties"]["reasoning"]["maxLength"] == 100
    assert reply_schema(s.choices, speech_chars=limit * 2)["anyOf"][0]["properties"]["speech"][
        "maxLength"
    ] == (limit)  # never above the game's limit


def test_bounds_reject_nonsense():
    for bad in ({"speak_tokens": 0}, {"act_tokens": -1}, {"reasoning_chars": 0}, {"speech_chars": 0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            LLMSettings(model="m", **bad)


def cut(request: dict[str, Any], n: int) -> Reply:
    """A reply cut by num_predict in the middle of its reasoning (done_reason "length")."""
    return Reply(content='{"reasoning": "' + "blah " * 60, done_reason="length")


def test_a_reply_cut_at_the_bound_is_a_clear_fault_then_re_asked(fake):
    fake.responder = lambda request, n: (
        cut(request, n) if n == 0 else Reply(content=valid_content(request, n))
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url, act_tokens=64)
    assert agent.decide(s.obs, s.choices).kind is ActionKind.KILL
    report = agent.last_report
    assert report is not None
    [fault] = report.faults
    assert "cut at the length bound" in fault
    assert "64 tokens" in fault
    follow_up = fake.chats[1].messages[-1]["content"]
    assert "cut off" in follow_up
    assert "shorter" in follow_up
    assert spy.decided == []


def test_replies_always_cut_abstain_without_a_crash(fake):
    fake.responder = cut
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url, max_retries=1)
    assert agent.decide(s.obs, s.choices) == Abstain()
    report = agent.last_report
    assert report is not None
    assert len(report.faults) == 3
    assert all("cut at the length bound" in f for f in report.faults[:2])
    assert spy.decided == []


def test_a_complete_reply_that_reached_the_bound_is_accepted(fake):
    """The object closed exactly at the bound: nothing is missing."""
    reply = json.dumps({"reasoning": "x", "action": "kill", "target": "Chloe"})
    fake.responder = lambda request, n: Reply(content=reply, done_reason="length")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    assert agent.decide(s.obs, s.choices) == Kill("Chloe")
    assert agent.last_report is not None
    assert agent.last_report.faults == ()
