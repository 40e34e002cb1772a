"""The agenda's instant steps: what happens between phases without waiting for anyone.

An agenda entry is `(key, arg)`: a `Phase` opens that phase (`engine.phases.PHASES`), a `Step` runs at
once (`engine.phases.STEPS`). See the header of `engine.game`.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """An instant step; its argument (a player, or nothing) travels beside it."""

    NIGHTFALL = "nightfall"
    DAWN = "dawn"
    DAY = "day"
    EXECUTE = "execute"
