"""Errors raised by the engine (h11 shape: the error says whose fault it is and what is wrong)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.actions import Action
    from engine.vocabulary import PlayerId


class WerewolfError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(WerewolfError, ValueError):
    """A game configuration that cannot be played; the message says what is wrong."""


class IllegalAction(WerewolfError):
    """An action that is not legal now. The game state is left exactly as it was.

    Attributes:
        reason: plain-words explanation, suitable to show to the agent that sent it.
        player: who tried to act (None for inputs that are not a player's, e.g. a deadline).
        action: what they tried.
    """

    def __init__(self, reason: str, player: PlayerId | None = None, action: Action | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.player = player
        self.action = action

    def __str__(self) -> str:
        who = f"{self.player}: " if self.player is not None else ""
        return f"{who}{self.reason}"
