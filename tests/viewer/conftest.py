"""Viewer tests run headless: SDL's dummy drivers, set before anything imports pygame.

SDL reads `SDL_VIDEODRIVER`/`SDL_AUDIODRIVER` when pygame initialises; without them it falls back to its
`offscreen` driver on its own but prints ALSA noise.

Only sync fixtures here: under pytest 9 and pytest-trio 0.8, a sync test that uses an async autouse fixture
fails ("Trio fixtures can only be used by Trio tests"), and the next async test then errors too.
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
