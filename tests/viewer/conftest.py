"""Viewer tests run headless: SDL's dummy drivers, set before anything imports pygame (STACK_NOTES §7).

Only sync fixtures here (STACK_NOTES §1, pitfall 3).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    """A git-ignored folder for the PNGs the render tests leave for a reviewer."""
    path = ROOT / "artifacts" / "viewer"
    path.mkdir(parents=True, exist_ok=True)
    return path
