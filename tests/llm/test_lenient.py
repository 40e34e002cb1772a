"""Replies read leniently where their meaning is unambiguous, strictly where it is not; every repair said.

The cases come from a real small model behind a grammar-constrained server (llama.cpp lets a raw
newline into a JSON string; Python's strict `json.loads` refuses it) and from chat models that wrap
their JSON in prose or a Markdown code fence.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.llm.lenient import decode_object
from actors.llm.reply import ReplyError, parse_reply
from actors.messages import AgentReport
from engine import ActionKind, Kill, Speak
from tests.llm.fake_ollama import Reply, valid_content
from tests.llm.test_llm_agent import WOLVES, make_agent, situation

KILL = '{"reasoning": "hm", "action": "kill", "target": "Chloe"}'


@pytest.mark.parametrize(
    ("text", "repair"),
    [
        pytest.param('{"reasoning": "},\n", "action": "kill", "target": "Chloe"}', "control", id="newline"),
        pytest.param('{"reasoning": "a\tb\r", "action": "kill", "target": "Chloe"}', "control", id="tab-cr"),
        pytest.param(f"Sure! Here is my answer:\n{KILL}\nGood luck.", "text around", id="prose"),
        pytest.param(f"```json\n{KILL}\n```", "code fence", id="fence"),
        pytest.param(f"```\n{KILL}\n```\n", "code fence", id="bare-fence"),
        pytest.param(f"{KILL} }}\n\nnote: I am sure", "text after", id="trailing-junk"),
        pytest.param(f"{KILL}\n{KILL}", "repeated", id="same-object-twice"),
    ],
)
def test_unambiguous_replies_are_accepted_and_the_repair_is_said(text, repair):
    s = situation(ActionKind.KILL, WOLVES[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # what the strict reader refused
    parsed = parse_reply(text, s.choices)
    assert parsed.action == Kill("Chloe")
    assert parsed.repairs, "a repair must be recorded"
    assert any(repair in r for r in parsed.repairs), parsed.repairs


def test_a_clean_reply_has_no_repair():
    s = situation(ActionKind.KILL, WOLVES[0])
    parsed = parse_reply(KILL, s.choices)
    assert parsed.action == Kill("Chloe")
    assert parsed.reasoning == "hm"
    assert parsed.repairs == ()


def test_braces_inside_strings_and_nested_objects_do_not_confuse_the_scan():
    s = situation(ActionKind.KILL, WOLVES[0])
    text = 'Answer: {"reasoning": "} { \\" }", "action": "kill", "target": "Chloe", "x": {"y": [1]}} ok'
    parsed = parse_reply(text, s.choices)
    assert parsed.action == Kill("Chloe")
    assert parsed.reasoning == '} { " }'


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            f'{KILL}\n{{"action": "kill", "target": "Elise"}}', "2 different JSON objects", id="two-objects"
        ),
        pytest.param("I kill Chloe.", "no JSON object", id="no-object"),
        pytest.param("", "no JSON object", id="empty"),
        pytest.param('{"reasoning": "hm", "action": "kill", "tar', "cut off", id="truncated"),
        pytest.param('Here: {"reasoning": "hm", "action": "kill"', "cut off", id="truncated-in-prose"),
        pytest.param(KILL[:-1] + ",}", "not valid JSON", id="trailing-comma"),
        pytest.param("[1, 2]", "must be a JSON object", id="array"),
        pytest.param('{"reasoning": "hm", "action": "kill", "target": 3}', "target", id="wrong-type"),
        pytest.param('{"reasoning": "hm", "action": "kill", "target": "Nobody"}', "target", id="off-menu"),
        pytest.param('```json\n{"action": "vote", "target": "Chloe"}\n```', '"action"', id="fenced-off-menu"),
    ],
)
def test_ambiguous_or_wrong_replies_are_refused(text, said):
    s = situation(ActionKind.KILL, WOLVES[0])
    with pytest.raises(ReplyError, match=said):
        parse_reply(text, s.choices)


def test_an_object_inside_a_truncated_one_is_not_taken_for_the_reply():
    """`{"a": {"action": ...}` never closes: the inner object is not a top-level one."""
    with pytest.raises(ReplyError, match="cut off"):
        decode_object('{"wrapper": {"reasoning": "x", "action": "kill", "target": "Chloe"}')


def test_an_over_long_speech_cut_and_over_long_reasoning_are_repairs():
    s = situation(ActionKind.SPEAK, WOLVES[0])
    limit = next(c.max_chars for c in s.choices if c.kind is ActionKind.SPEAK)
    text = json.dumps({"reasoning": "r" * 5000, "action": "speak", "speech": "Hi. " * limit})
    parsed = parse_reply(text, s.choices, reasoning_chars=300)
    assert isinstance(parsed.action, Speak)
    assert len(parsed.action.text) <= limit
    assert parsed.reasoning is not None
    assert len(parsed.reasoning) <= 300
    assert any("speech cut" in r for r in parsed.repairs)
    assert any("reasoning cut" in r for r in parsed.repairs)


def test_the_agent_reports_repairs_in_the_log_detail_not_as_faults(fake):
    bad = 'Sure:\n```json\n{"reasoning": "line one\nline two", "action": "kill", "target": "Chloe"}\n```'
    fake.responder = lambda request, n: Reply(content=bad)
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url)
    assert agent.decide(s.obs, s.choices) == Kill("Chloe")
    report = agent.last_report
    assert report is not None
    assert report.faults == ()
    assert report.reasoning == "line one\nline two"
    assert len(report.repairs) >= 2
    assert report.as_dict()["repairs"] == list(report.repairs)
    assert report.usage is not None
    assert report.usage.calls == 1
    assert spy.decided == []


def test_a_report_without_repairs_logs_as_before():
    assert "repairs" not in AgentReport().as_dict()


def test_the_fake_default_reply_needs_no_repair(fake):
    s = situation(ActionKind.VOTE, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    assert agent.last_report.repairs == ()
    request: dict[str, Any] = fake.chats[0].json
    assert parse_reply(valid_content(request), s.choices).repairs == ()
