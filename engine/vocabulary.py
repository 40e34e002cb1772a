"""The game's shared vocabulary: player ids and the small enums (team, role, phase) of every module."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

#: A player's id is the seat's name ("Alice"); it is what agents write when they name a target.
PlayerId = NewType("PlayerId", str)


class Team(StrEnum):
    """The side a role wins with."""

    #: Wins when no werewolf is alive.
    VILLAGE = "village"
    #: Wins when living werewolves are at least as many as everyone else alive.
    WOLVES = "wolves"


class Role(StrEnum):
    """Every role the engine knows. Powers live in `engine.roles.ROLE_SPECS`, not here."""

    #: No power; votes by day.
    VILLAGER = "villager"
    #: Knows the other wolves, chats with them at night and votes on the night's victim.
    WEREWOLF = "werewolf"
    #: Inspects one player a night and learns whether they are a werewolf.
    SEER = "seer"
    #: Protects one player a night from the wolves.
    DOCTOR = "doctor"
    #: AIWolf's name for the doctor: the same power under another name.
    BODYGUARD = "bodyguard"
    #: One healing potion (saves the wolves' victim) and one poison (kills) per game.
    WITCH = "witch"
    #: When he dies, shoots one living player.
    HUNTER = "hunter"
    #: A human who wins with the wolves; the seer sees a human. Does not know the wolves.
    POSSESSED = "possessed"
    #: Learns each night whether the last executed player was a werewolf.
    MEDIUM = "medium"


class Phase(StrEnum):
    """What the game is waiting for. Turn phases await one player; the others await several at once."""

    #: Turn phase: one werewolf speaks in the wolves' private night chat.
    WOLF_CHAT = "wolf_chat"
    #: Simultaneous: wolves vote on a victim, seer inspects, doctor protects.
    NIGHT = "night"
    #: The witch, told the wolves' victim, may heal, poison or pass.
    WITCH = "witch"
    #: Turn phase: a hunter who just died may shoot.
    HUNTER = "hunter"
    #: Turn phase: one living player speaks in the day discussion.
    DISCUSSION = "discussion"
    #: Simultaneous: living players bid 0-4 for the next speaking turn (bidding protocol).
    BIDDING = "bidding"
    #: Simultaneous: living players vote on whom to execute.
    VOTE = "vote"
    #: Turn phase: the executed player's last words.
    LAST_WORDS = "last_words"
    #: The game has ended; nobody acts any more.
    GAME_OVER = "game_over"


#: Phases in which exactly one player acts, in turn.
TURN_PHASES = frozenset({Phase.WOLF_CHAT, Phase.HUNTER, Phase.DISCUSSION, Phase.LAST_WORDS})
