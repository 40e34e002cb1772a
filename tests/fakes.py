"""Test doubles shared by the actor and integration tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from actors.agents import Agent, Reporting
from actors.messages import AgentReport, Deliver, GameFinished, RequestAction, SubmitAction
from engine import Action, Choice, Event, Observation


class Collector:
    """A recipient that records every message; `finished` is set when `GameFinished` arrives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def tell(self, message: Any) -> None:
        with self._lock:
            self.messages.append(message)
            self._arrived.notify_all()
        if isinstance(message, GameFinished):
            self.finished.set()

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float) -> bool:
        """Block until `predicate(events delivered so far)` holds (True) or `timeout` seconds pass (False)."""
        with self._arrived:
            return self._arrived.wait_for(
                lambda: predicate([e for m in self.messages if isinstance(m, Deliver) for e in m.events]),
                timeout,
            )

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return [e for m in self.messages if isinstance(m, Deliver) for e in m.events]

    @property
    def requests(self) -> list[RequestAction]:
        with self._lock:
            return [m for m in self.messages if isinstance(m, RequestAction)]


class InstantSeat(Collector):
    """A seat that answers each request at once, from inside `tell`, with `agent.decide`."""

    def __init__(self, agent: Agent, *, answer: bool = True) -> None:
        super().__init__()
        self.agent = agent
        self.answer = answer

    def tell(self, message: Any) -> None:
        super().tell(message)
        if isinstance(message, RequestAction) and self.answer:
            action = self.agent.decide(message.observation, message.choices)
            message.reply_to.tell(
                SubmitAction(
                    game_id=message.game_id, phase_id=message.phase_id, player=message.player, action=action
                )
            )


class SilentSeat(InstantSeat):
    """A seat that never answers."""

    def __init__(self) -> None:
        super().__init__(agent=_Never(), answer=False)


class _Never:
    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        raise AssertionError("never asked")


class CrashingAgent:
    """Raises on its `crash_at`-th decision (1-based); before that plays like `inner`."""

    def __init__(self, inner: Agent, crash_at: int = 1) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.calls = 0

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.calls += 1
        if self.calls >= self.crash_at:
            raise RuntimeError(f"boom at decision {self.calls}")
        return self.inner.decide(observation, choices)


class ShownAgent:
    """Plays like `inner` and keeps every observation it was shown: what a local seat's agent knew."""

    def __init__(self, inner: Agent) -> None:
        self.inner = inner
        self.shown: list[Observation] = []

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.shown.append(observation)
        return self.inner.decide(observation, choices)

    @property
    def last_report(self) -> AgentReport | None:
        return self.inner.last_report if isinstance(self.inner, Reporting) else None
