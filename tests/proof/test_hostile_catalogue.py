"""The hostile-input catalogue as a whole: its cases (one module per kind of attack,
`tests/proof/test_hostile_*.py`) have distinct names and are many, and a game without any attack is clean:
the baseline every case is measured against.

How a case is played and checked: `tests.proof.hostile_kit`.
"""

from __future__ import annotations

from tests.proof.hostile_kit import assert_game_correct
from tests.proof.test_hostile_answers import CASES as ANSWER_CASES
from tests.proof.test_hostile_connections import CASES as CONNECTION_CASES
from tests.proof.test_hostile_frames import CASES as FRAME_CASES
from tests.proof.test_hostile_json import CASES as JSON_CASES

CASES = [*JSON_CASES, *ANSWER_CASES, *FRAME_CASES, *CONNECTION_CASES]


def test_the_catalogue_is_complete():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 30


def test_a_game_without_attack_is_clean(baseline):
    assert baseline.observed == []
    assert len(baseline.mallory.connections) == 1
    assert_game_correct(baseline, mallory_faults=0)
