"""SDK agents for the network and proof tests: they record what came off the wire and play in threads.

Every wait is bounded (thread joins, socket timeouts); nothing sleeps to wait for a condition.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from net.client import AgentClient, Policy, ServerFrameModel, _Link
from net.protocol import EventFrame, GameOver, RequestFrame
from tests.net.netutil import WAIT_S


class RecordingAgent(AgentClient):
    """The SDK agent, also keeping what came off the wire: `wire`, every parsed frame in order
    (duplicates included); `raw`, every text frame as received, one list per connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire: list[ServerFrameModel] = []
        self.raw: list[list[str]] = []

    @property
    def connections(self) -> int:
        """How many connections this agent opened (1 + its reconnections)."""
        return len(self.raw)

    def _play(self, link: _Link, policy: Policy) -> GameOver | None:
        texts: list[str] = []
        self.raw.append(texts)
        receive = link.ws.receive

        def recording(timeout: float | None = None) -> Any:
            text = receive(timeout=timeout)
            if text is not None:
                texts.append(text)
            return text

        link.ws.receive = recording
        frames = link.frames

        def recorded() -> Iterator[ServerFrameModel]:
            for frame in frames():
                self.wire.append(frame)
                yield frame

        link.frames = recorded  # type: ignore[method-assign]
        return super()._play(link, policy)


def random_answer(request: RequestFrame, rng: random.Random, text: str) -> dict[str, Any]:
    """A legal random action from the request's menu (acting preferred over abstaining); speeches say
    `text`, cut to the menu's limit."""
    choice = rng.choice([c for c in request.choices if c.kind != "abstain"] or request.choices)
    match choice.kind:
        case "speak":
            return {"kind": "speak", "text": text[: choice.max_chars]}
        case "bid":
            return {"kind": "bid", "amount": rng.randint(0, choice.max_bid or 0)}
        case "abstain":
            return {"kind": "abstain"}
        case kind:
            return {"kind": kind, "target": rng.choice(choice.targets)}


Hook = Callable[[Any, RequestFrame], None]


@dataclass
class AgentThread:
    """One SDK agent playing one seat in its own thread until `game_over`.

    Each request is recorded, shown to `check` and `hook`, then answered by `answer` if given, else by
    a seeded random legal action."""

    player: str
    client: RecordingAgent
    hook: Hook | None = None
    rng: random.Random = field(default_factory=random.Random)
    answer: Policy | None = None
    requests: list[RequestFrame] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    over: GameOver | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> Self:
        self.thread = threading.Thread(target=self._run, name=f"agent-{self.player}", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.over = self.client.run(self.policy)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def policy(self, request: RequestFrame, events: list[EventFrame]) -> dict[str, Any]:
        self.requests.append(request)
        self.check(request, events)
        if self.hook is not None:
            self.hook(self, request)
        if self.answer is not None:
            return self.answer(request, events)
        return random_answer(request, self.rng, self.speech(request))

    def check(self, request: RequestFrame, events: list[EventFrame]) -> None:
        """Look at a request before it is answered (subclasses)."""

    def speech(self, request: RequestFrame) -> str:
        """What this agent says when it speaks: about 400 characters."""
        return (f"{self.player} speaking on day {request.day}. " * 20).strip()

    def join(self, timeout: float = WAIT_S) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.player}'s agent did not finish"
        assert self.error is None, f"{self.player}: {self.error!r}"

    def stop(self) -> None:
        """Unblock a stuck agent (its reconnections then fail once the server is gone)."""
        if self.thread is not None and self.thread.is_alive() and self.client._link is not None:
            self.client.disconnect()
