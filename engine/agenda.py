"""The agenda's entries: the steps a game goes through (see the header of `engine.game`)."""

from __future__ import annotations

from enum import Enum


class Step(Enum):
    """One entry of the agenda; its argument (a player, candidates, a turn number) travels beside it."""

    NIGHT = "night"
    WOLF_TURN = "wolf_turn"
    NIGHT_ACTIONS = "night_actions"
    WITCH = "witch"
    DAWN = "dawn"
    DAY = "day"
    TURN = "turn"
    BIDDING = "bidding"
    VOTE = "vote"
    EXECUTE = "execute"
    LAST_WORDS = "last_words"
    HUNTER = "hunter"
