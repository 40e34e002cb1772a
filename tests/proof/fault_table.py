"""The table of the fault proofs (`tests/proof/test_faults_*.py`): preset `classic-8`, its players, the
grace period a disconnected remote seat gets, and a phase deadline no proof should ever reach."""

from __future__ import annotations

from engine import preset

CONFIG = preset("classic-8")
PLAYERS = list(CONFIG.players)
GRACE_S = 0.3
PHASE_S = 30.0  # deadlines no proof should ever reach (except the one that misses one on purpose)
