"""Shared helpers of the tournament tests: a small plan of built-in agents and a host secret file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"t" * 32


def small_plan(blocks: int = 1, self_play: bool = False, games_at_once: int = 2, seed: int = 11) -> str:
    """Heuristic vs random on classic-8: 8 games a block."""
    return f"""\
name = "small"
seed = {seed}
blocks = {blocks}
self_play = {str(self_play).lower()}

[[contestant]]
name = "heur"
agent = "heuristic"

[[contestant]]
name = "rand"
agent = "random"

[limits]
games_at_once = {games_at_once}
phase_deadline_s = 10
game_deadline_s = 120
"""


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A host secret file (owner-only, as load_host_secret requires)."""
    path = tmp_path / "host-secret"
    path.write_text(SECRET.hex() + "\n")
    os.chmod(path, 0o600)
    return path
