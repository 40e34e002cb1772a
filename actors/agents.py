"""Agents: the policies that play a seat. An agent turns an observation and a menu into an action.

Agents know nothing of actors or threads; a host does the messaging: a `PlayerActor` (a thread of its
own) for an agent that may take long, an `InlineSeat` (the game master's thread) for one whose class
declares `instant = True`: it decides at once, by pure computation, and never blocks (`actors.inline`).
An agent may raise: its host reports the failure and the seat plays default actions from then on. An
agent that is also `Reporting` has its `last_report` sent with each answer.
"""

from __future__ import annotations

import random
from typing import ClassVar, Protocol, runtime_checkable

from actors.messages import AgentReport
from engine import Action, ActionKind, Choice, Observation, random_action


@runtime_checkable
class Agent(Protocol):
    """A seat's policy."""

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        """Choose an action among `choices` (a menu that always includes abstain) given what the seat knows.

        Called in the hosting actor's thread; may take long (an LLM call) and may raise.
        """
        ...


@runtime_checkable
class Reporting(Protocol):
    """An agent that says something about each decision beside its action (LLM seats do).

    Its host reads `last_report` right after each `decide` and sends it with the answer: faults become
    the seat's faults, reasoning a private `Reasoned` event, usage is summed per seat.
    """

    @property
    def last_report(self) -> AgentReport | None:
        """What the last `decide` reports, or None."""
        ...


class RandomAgent:
    """Uniformly random legal moves (tests, benchmarks). Speech is a fixed line.

    Every target, bid and abstention counts as one move, so a voter abstains once in (targets + 1)
    draws, not half the time as a uniform pick of a menu line would make him.
    """

    #: Decides at once without blocking: played inline by the game master (`actors.inline`).
    instant: ClassVar[bool] = True

    def __init__(self, seed: int, *, text: str = "I have nothing to add.") -> None:
        """`seed` fixes this agent's choices; it is independent of the game's seed."""
        self._rng = random.Random(seed)
        self._text = text

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        """Pick one of all the legal moves, each as likely as the others."""
        weights = [
            len(c.targets) if c.targets else c.max_bid + 1 if c.kind is ActionKind.BID else 1 for c in choices
        ]
        choice = self._rng.choices(choices, weights)[0] if len(choices) > 1 else choices[0]
        return random_action((choice,), self._rng, text=self._text)
