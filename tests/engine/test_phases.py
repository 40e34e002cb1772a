"""The phase table: one spec per phase that waits for players, and agenda keys that never collide."""

from __future__ import annotations

from engine.phases import PHASES, STEPS
from engine.vocabulary import Phase


def test_every_phase_but_the_end_has_its_spec() -> None:
    assert set(PHASES) == set(Phase) - {Phase.GAME_OVER}
    assert all(spec.phase is phase for phase, spec in PHASES.items())


def test_phase_and_step_keys_never_collide() -> None:
    # Both are StrEnums, so a Step whose value were a Phase's would be found in PHASES.
    assert not {str(k) for k in PHASES} & {str(k) for k in STEPS}
    assert all(PHASES.get(step) is None for step in STEPS)
