"""How a game ended (python-chess shape: a `Termination` enum and an `Outcome` value)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.vocabulary import Team


class Termination(StrEnum):
    """Why the game ended."""

    #: No werewolf is alive: the village wins.
    WOLVES_ELIMINATED = "wolves_eliminated"
    #: Living werewolves are at least as many as everyone else alive: the wolves win.
    WOLF_PARITY = "wolf_parity"
    #: `max_days` days passed with no winner.
    MAX_DAYS = "max_days"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The end of a game.

    Attributes:
        winner: the winning side, or None when the day limit ended the game.
        termination: why it ended.
        day: the day (or the night before it) on which it ended.
        reason: one sentence for humans.
    """

    winner: Team | None
    termination: Termination
    day: int
    reason: str
