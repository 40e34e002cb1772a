"""The tier's game and its figures, on the fake Ollama (no model): what the real tier counts is right."""

from __future__ import annotations

from typing import Any

import pytest

from engine import ReplayError
from tests.llm.fake_ollama import KNOWN_MODEL, Reply, running_fake, valid_content
from tests.llm_real.real_game import fault_kind, figures_from, ollama_settings, play_real_game

GARBAGE = "Sure! I vote for"


def every_third_first_attempt_bad(request: dict[str, Any], n: int) -> Reply:
    """Garbage on the first attempt of every third decision, and on its re-asks too for every sixth."""
    first = len(request["messages"]) == 2
    decision = len(request["messages"][1]["content"])  # the same on a decision's re-asks, varies across them
    if (first and decision % 3 == 0) or (not first and decision % 6 == 0):
        return Reply(content=GARBAGE)
    return Reply(content=valid_content(request, n))


def test_the_tiers_game_finishes_and_its_figures_add_up():
    with running_fake(every_third_first_attempt_bad) as fake:
        finished, figures = play_real_game(
            f"ollama:{KNOWN_MODEL}", ollama_settings(fake.url), backend="fake ollama"
        )
        chats = fake.chats
    assert finished.outcome is not None
    assert figures.seats == 5
    assert figures.calls == len(chats)
    assert figures.retries == sum(len(c.messages) > 2 for c in chats)
    assert figures.decisions == sum(len(c.messages) == 2 for c in chats)
    bad_first = sum(len(c.messages) == 2 and c.content == GARBAGE for c in chats)
    assert bad_first > 0
    assert figures.valid_first == figures.decisions - bad_first
    assert figures.recovered + figures.gave_up == bad_first
    assert figures.fault_kinds.get("illegal", 0) == 0
    assert set(figures.fault_kinds) <= {"invalid_first", "invalid_retry", "gave_up"}
    assert figures.faults == sum(figures.fault_kinds.values())
    invalid = figures.fault_kinds["invalid_first"] + figures.fault_kinds.get("invalid_retry", 0)
    # Every invalid reply was the same garbage: one reason (in our parser's words), counted each time.
    [(reason, count)] = figures.invalid_because.items()
    assert "JSON" in reason
    assert count == invalid
    assert figures.actions >= figures.decisions - figures.gave_up
    assert figures.s_per_call > 0
    assert figures.cut_replies == 0
    assert figures.repairs == 0  # garbage is not repairable: every bad reply was a fault
    assert figures.as_dict()["s_per_call"] == round(figures.s_per_call, 3)


def test_a_record_with_an_illegal_input_does_not_pass_as_legal():
    with running_fake() as fake:
        finished, _ = play_real_game(f"ollama:{KNOWN_MODEL}", ollama_settings(fake.url), backend="fake")
    record = dict(finished.record)
    inputs = list(record["inputs"])
    step = next(i for i, item in enumerate(inputs) if "player" in item)
    inputs[step] = {**inputs[step], "action": {"kind": "vote", "target": "Nobody"}}
    record["inputs"] = inputs
    with pytest.raises(ReplayError):
        figures_from(record, finished.usage, backend="fake", model="m", wall_s=1.0)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("illegal answer: not your turn", "illegal"),
        ("agent failed: boom", "agent_failed"),
        ("no action before the deadline", "deadline"),
        ("invalid reply (attempt 1): the reply is not valid JSON; raw: 'x'", "invalid_first"),
        ("invalid reply (attempt 3): x; raw: ''", "invalid_retry"),
        (
            "reply cut at the length bound (128 tokens) before it was complete (attempt 1): x; raw: ''",
            "invalid_first",
        ),
        (
            "reply cut at the length bound (128 tokens) before it was complete (attempt 2): x; raw: ''",
            "invalid_retry",
        ),
        ("no valid reply after 3 attempts: abstained", "gave_up"),
        ("LLM call failed (ReadTimeout after 60.0 s); built-in agent decided", "server"),
        ("something new", "other"),
    ],
)
def test_fault_kinds(reason, kind):
    assert fault_kind(reason) == kind


def test_replies_read_leniently_count_as_repairs_not_faults():
    def fenced(request: dict[str, Any], n: int) -> Reply:
        return Reply(content=f"Here you go:\n```json\n{valid_content(request, n)}\n```")

    with running_fake(fenced) as fake:
        _, figures = play_real_game(f"ollama:{KNOWN_MODEL}", ollama_settings(fake.url), backend="fake")
    assert figures.faults == 0
    assert figures.valid_first == figures.decisions > 0
    assert figures.repairs == figures.decisions
