"""A test AIWolf NLP agent built on the official client (`aiwolf_nlp_common.client.Client`), in a thread.

It answers as AIWolf's sample agent does: its name to NAME, a line of talk (or `Skip`/`Over`) to TALK and
WHISPER, a random living agent's name to VOTE, DIVINE, GUARD and ATTACK. Every packet is kept raw and
parsed with the official `Packet.from_dict`; `error` holds whatever went wrong in the thread.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiwolf_nlp_common.client import Client
from aiwolf_nlp_common.packet import Packet, Request, Status
from websocket import WebSocketConnectionClosedException, WebSocketTimeoutException

RECEIVE_TIMEOUT_S = 30.0
#: Every key a packet may carry (AIWolf's published schema allows no other).
PACKET_KEYS = {"request", "info", "setting", "talk_history", "whisper_history", "new_talk", "new_whisper"}
INFO_KEYS = {
    "game_id", "day", "agent", "profile", "medium_result", "divine_result", "executed_agent",
    "attacked_agent", "vote_list", "attack_vote_list", "status_map", "role_map", "remain_count",
    "remain_length", "remain_skip",
}  # fmt: skip
TALK_KEYS = {"idx", "day", "turn", "agent", "text", "skip", "over"}
NEEDS_REPLY = {
    Request.NAME,
    Request.TALK,
    Request.WHISPER,
    Request.VOTE,
    Request.DIVINE,
    Request.GUARD,
    Request.ATTACK,
}
Policy = Callable[["AIWolfAgent", Packet], str | None]


class RecordingClient(Client):
    """The official client, keeping every packet as received (raw dict) beside the parsed one."""

    def __init__(self, url: str, token: str | None) -> None:
        super().__init__(url, token)
        self.raw: list[dict[str, Any]] = []

    def receive(self) -> Packet:
        resp = self.socket.recv()
        text = bytes(resp).decode("utf-8") if isinstance(resp, bytes | bytearray) else resp
        if not text:  # websocket-client returns "" for the server's close frame
            raise WebSocketConnectionClosedException("closed by the server")
        data = json.loads(text)
        self.raw.append(data)
        return Packet.from_dict(data)


def check_shape(data: dict[str, Any]) -> None:
    """No key AIWolf's packet models do not have (its schema forbids additional properties)."""
    assert set(data) <= PACKET_KEYS, set(data) - PACKET_KEYS
    if "info" in data:
        assert set(data["info"]) <= INFO_KEYS, set(data["info"]) - INFO_KEYS
    for key in ("talk_history", "whisper_history"):
        for talk in data.get(key, []):
            assert set(talk) == TALK_KEYS, talk


def sample_policy(agent: AIWolfAgent, packet: Packet) -> str | None:
    """AIWolf's sample agent, roughly: talk twice, then `Over`; a random living other for every target."""
    info = packet.info
    assert info is not None
    if packet.request in (Request.TALK, Request.WHISPER):
        agent.turns += 1
        if agent.turns % 5 == 0:
            return "Skip"
        if agent.turns % 3 == 0:
            return "Over"
        return f"{agent.name} says hello on day {info.day}"
    others = [a for a, s in info.status_map.items() if s == Status.ALIVE and a != info.agent]
    return agent.rng.choice(others) if others else info.agent


@dataclass
class AIWolfAgent:
    """One AIWolf agent on its own thread (call `start`, then `join`)."""

    url: str
    token: str | None
    name: str
    rng: random.Random = field(default_factory=random.Random)
    policy: Policy = sample_policy
    client: RecordingClient | None = None
    packets: list[Packet] = field(default_factory=list)
    replies: list[tuple[Request, str]] = field(default_factory=list)
    error: BaseException | None = None
    closed: bool = False
    turns: int = 0
    thread: threading.Thread | None = None

    def start(self) -> AIWolfAgent:
        """Connect now (in the caller), then play in a thread."""
        self.client = RecordingClient(self.url, self.token)
        self.client.connect()
        self.client.socket.settimeout(RECEIVE_TIMEOUT_S)
        self.thread = threading.Thread(target=self._run, name=f"aiwolf-{self.name}", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float) -> None:
        """Wait for the thread; it must be over."""
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.name} still running"

    @property
    def raw(self) -> list[dict[str, Any]]:
        """Every packet received, as sent."""
        return self.client.raw if self.client is not None else []

    @property
    def requests(self) -> list[Request]:
        """The request of every packet received, in order."""
        return [p.request for p in self.packets]

    def _run(self) -> None:
        assert self.client is not None
        try:
            while True:
                packet = self.client.receive()
                self.packets.append(packet)
                if packet.request is Request.NAME:
                    self.client.send(self.name)
                    continue
                if packet.request in NEEDS_REPLY:
                    answer = self.policy(self, packet)
                    if answer is not None:
                        self.replies.append((packet.request, answer))
                        self.client.send(answer)
        except (WebSocketConnectionClosedException, ConnectionError, OSError):
            self.closed = True
        except WebSocketTimeoutException as exc:
            self.error = exc
        except BaseException as exc:  # reported to the test
            self.error = exc
        finally:
            self.client.close()
