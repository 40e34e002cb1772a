"""Mallory, the attacker of the hostile-input proofs (`tests/proof/test_hostile_*.py`).

She holds Alice's seat (the seer) in each case's `aiwolf-5` game, driven by hand on a raw socket
(`WireClient`): she plays legally when she is not attacking, records every frame that comes back to her
(her events, requests, welcomes, and every error, rejected and pong frame as a reaction line), and after
an attack that gets her connection closed she comes back with her token and resumes, as a real agent would.
"""

from __future__ import annotations

import random
from typing import Any

from engine import PlayerId
from tests.proof.wire import WireClient, render

MALLORY = PlayerId("Alice")


class Mallory:
    """Alice's seat on a raw socket: plays legally, attacks when told, reconnects after a close."""

    def __init__(self, port: int, token: str, rng: random.Random, *, long_speeches: bool) -> None:
        self.port = port
        self.token = token
        self.rng = rng
        self.long_speeches = long_speeches
        self._conn: WireClient | None = None
        self.events: list[dict[str, Any]] = []  # this seat's view, index = seq
        self.connections: list[list[int]] = []  # the seqs each connection delivered, in order
        self.welcomes: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.reactions: list[str] = []  # every error, rejected and pong frame, and every unasked-for end
        self.answered: set[int] = set()
        self.over: dict[str, Any] | None = None
        self.final: str | None = None  # how the connection ended after game_over
        self.dead = False

    @property
    def conn(self) -> WireClient:
        assert self._conn is not None
        return self._conn

    @property
    def request(self) -> dict[str, Any]:
        assert self.requests, "no request yet"
        return self.requests[-1]

    def connect(self) -> None:
        """A new connection with her token, resuming after the events she holds."""
        self._conn = WireClient(self.port, f"/ws/mallory-{len(self.connections)}?client_type=agent")
        self.connections.append([])
        self.conn.hello(self.token, resume_from=len(self.events))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def pump(self) -> dict[str, Any] | None:
        """The next frame on the current connection (absorbed), or None once it has ended."""
        conn = self.conn
        if conn.ended is not None:
            return None
        pings = conn.pings
        frame = conn.next()
        if conn.silent:  # unanswered pings are part of a reaction
            self.reactions += ["ping"] * (conn.pings - pings)
        if frame is None:
            if self.over is None:
                self.reactions.append(ending(conn))
            else:
                self.final = ending(conn)
            return None
        match frame["type"]:
            case "event":
                seq = frame["seq"]
                self.connections[-1].append(seq)
                if seq == len(self.events):
                    event = frame["event"]
                    self.events.append(event)
                    if event["type"] == "player_died" and event["player"] == MALLORY:
                        self.dead = True
            case "request":
                self.requests.append(frame)
            case "welcome":
                self.welcomes.append(frame)
            case "game_over":
                self.over = frame
            case _:
                self.reactions.append(render(frame))
        return frame

    def collect(self, count: int) -> None:
        """Read until `count` reactions are in, or the connection ends (bounded by the socket timeout)."""
        while len(self.reactions) < count and self.conn.ended is None:
            self.pump()

    def act(self, phase_id: Any, action: Any, **fields: Any) -> None:
        self.conn.send_json({"type": "act", "phase_id": phase_id, "action": action} | fields)

    def legal(self, request: dict[str, Any]) -> dict[str, Any]:
        choices = [c for c in request["choices"] if c["kind"] != "abstain"] or request["choices"]
        choice = self.rng.choice(choices)
        match choice["kind"]:
            case "speak":
                text = "x" * choice["max_chars"] if self.long_speeches else "Alice: nothing to report."
                return {"kind": "speak", "text": text}
            case "bid":
                return {"kind": "bid", "amount": self.rng.randint(0, choice.get("max_bid", 0))}
            case "abstain":
                return {"kind": "abstain"}
            case kind:
                return {"kind": kind, "target": self.rng.choice(choice["targets"])}

    def answer(self, request: dict[str, Any], action: dict[str, Any] | None = None) -> None:
        """Answer `request` (legally unless told otherwise), once."""
        self.answered.add(request["phase_id"])
        self.act(request["phase_id"], action or self.legal(request))

    def answer_open_request(self) -> None:
        if self.requests and self.request["phase_id"] not in self.answered and self.conn.ended is None:
            self.answer(self.request)


def ending(conn: WireClient) -> str:
    """How a connection ended, as a reaction line: `close CODE: reason`, `eof` or `reset`."""
    assert conn.ended is not None
    return f"{conn.ended}: {conn.close_reason}" if conn.close_reason else conn.ended
