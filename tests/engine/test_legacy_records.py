"""Logs written before the GameState reshape still replay, event for event (tests/engine/legacy_records.py
says how the file was made: classic-8 with a witch and a hunter under four rule sets, keyed and unkeyed,
with deadlines, faults and reasoning notes; two presets; one explicit deal)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import replay, to_record
from tests.engine.legacy_records import DATA

RECORDS: list[dict[str, Any]] = json.loads(DATA.read_text())


def test_the_fixture_covers_what_it_claims() -> None:
    kinds = {
        next(k for k in ("deadline", "fault", "reasoning", "player") if k in i)
        for r in RECORDS
        for i in r["inputs"]
    }
    assert kinds == {"deadline", "fault", "reasoning", "player"}
    assert {r["key"] is None for r in RECORDS} == {True, False}
    assert any(r["roles"] is not None for r in RECORDS)
    types = {e["type"] for r in RECORDS for e in r["events"]}
    assert {"hunter_shot", "witch_woke", "bids_revealed", "reasoned", "player_faulted"} <= types


@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_an_old_record_replays_identically(index: int) -> None:
    record = RECORDS[index]
    game = replay(record)  # checks the events and the outcome
    assert json.loads(json.dumps(to_record(game))) == record
