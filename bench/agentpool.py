"""A pool of remote agents in one process, on one Trio loop: the load generator of `bench.soak` and
`bench.many_games`.

    python -m bench.agentpool          # driven by JSON lines on stdin; reports on stdout

Why not the SDK (`net.client.AgentClient`, two threads per agent): 400 agents would be 800 threads
fighting over one GIL on a 2-core machine, and the load generator would be the bottleneck being
measured. Here each seat is one Trio task speaking the wire protocol directly (`wsproto`, JSON): it
says `hello` with its token, checks that event sequence numbers have no gap or duplicate, answers each
`request` at once with a random legal action (speeches of about 400 characters), and stops at
`game_over` and the server's close.

Commands (stdin, one JSON object a line):
- `{"cmd": "play", "game": ID, "port": P, "seed": S, "seats": [[PLAYER, TOKEN], ...]}`: connect and
  play those seats.
- `{"cmd": "quit"}`: finish the games in progress, report `{"cpu_s": ...}` and exit.

`AgentPool` is the parent's side: it starts this process (pinned to a CPU if asked), sends commands
and reads reports with bounded waits (a reader thread, bench/jsonlines.py, drains the pipe as reports
come).

Reports (stdout, one JSON object a line), once every seat of a game is done: `{"game": ID, "seats":
{PLAYER: {"events", "requests", "over", "error"}}, "ack_ms": [...]}`. `ack_ms` is, for each answer,
the time from the `request` frame's arrival at the agent to the first `event` frame after the answer
(its acknowledgement: `action_recorded` to the agent in a simultaneous phase, the public `spoke` or
next `phase_started` in a turn phase): one full round trip agent -> server -> game master -> agent.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

from bench.jsonlines import JsonLines

HOST = "127.0.0.1"
SPEECH = 20  # repetitions of a ~20-character phrase: about 400 characters a speech


@dataclass
class SeatResult:
    """What one agent saw."""

    events: int = 0
    requests: int = 0
    over: dict[str, Any] | None = None
    error: str | None = None
    ack_ms: list[float] = field(default_factory=list)


def answer(request: dict[str, Any], rng: random.Random, player: str) -> dict[str, Any]:
    """A random legal action from the request's menu (acting rather than abstaining when it can)."""
    choices = request["choices"]
    choice = rng.choice([c for c in choices if c["kind"] != "abstain"] or choices)
    kind = choice["kind"]
    if kind == "speak":
        text = (f"{player} speaking on day {request['day']}. " * SPEECH).strip()
        return {"kind": "speak", "text": text[: choice.get("max_chars", 0) or 1]}
    if kind == "bid":
        return {"kind": "bid", "amount": rng.randint(0, choice.get("max_bid", 0))}
    if kind == "abstain":
        return {"kind": "abstain"}
    return {"kind": kind, "target": rng.choice(choice["targets"])}


class SeatAgent:
    """One seat's agent: turns server frames into answers, and keeps what it saw in `result`."""

    def __init__(self, player: str, token: str, seed: int, result: SeatResult) -> None:
        self.player, self.token, self.result = player, token, result
        self.rng = random.Random(seed)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.parts: list[str] = []
        self.asked_at: float | None = None
        self.closed = False

    def handle(self, data: bytes) -> bytes:
        """Feed bytes from the server; returns the bytes to send back."""
        self.ws.receive_data(data)
        out: list[bytes] = []
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                hello = {"type": "hello", "protocol_version": 1, "token": self.token, "resume_from": 0}
                out.append(self.ws.send(TextMessage(data=json.dumps(hello))))
            elif isinstance(event, RejectConnection):
                raise ConnectionError(f"handshake refused: {event.status_code}")
            elif isinstance(event, TextMessage):
                self.parts.append(event.data)
                if event.message_finished:
                    frame = json.loads("".join(self.parts))
                    self.parts.clear()
                    out.extend(self.on_frame(frame))
            elif isinstance(event, Ping):
                out.append(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                out.append(self.ws.send(event.response()))
                self.closed = True
                if self.result.over is None:
                    self.result.error = f"closed {event.code} before game_over"
        return b"".join(out)

    def on_frame(self, frame: dict[str, Any]) -> list[bytes]:
        result = self.result
        kind = frame["type"]
        if kind == "event":
            if frame["seq"] != result.events:
                result.error = result.error or f"event {frame['seq']} after {result.events}"
            result.events += 1
            if self.asked_at is not None:
                result.ack_ms.append((time.perf_counter() - self.asked_at) * 1000)
                self.asked_at = None
        elif kind == "request":
            result.requests += 1
            act = {
                "type": "act",
                "phase_id": frame["phase_id"],
                "action": answer(frame, self.rng, self.player),
            }
            self.asked_at = time.perf_counter()
            return [self.ws.send(TextMessage(data=json.dumps(act)))]
        elif kind == "game_over":
            result.over = frame
        elif kind in ("error", "rejected"):
            result.error = result.error or f"{kind}: {frame}"
        return []


async def play_seat(port: int, player: str, token: str, seed: int, result: SeatResult) -> None:
    """Play one seat to its `game_over` (and the server's close)."""
    agent = SeatAgent(player, token, seed, result)
    try:
        stream = await trio.open_tcp_stream(HOST, port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        return
    try:
        stream.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        target = f"/ws/{player}?client_type=agent"
        await stream.send_all(agent.ws.send(Request(host=f"{HOST}:{port}", target=target)))
        while not agent.closed:
            data = await stream.receive_some(1 << 16)
            if not data:
                if result.over is None:
                    result.error = result.error or "connection closed before game_over"
                return
            out = agent.handle(data)
            if out:
                await stream.send_all(out)
    except (OSError, ConnectionError, trio.BrokenResourceError) as exc:
        result.error = result.error or f"{type(exc).__name__}: {exc}"
    finally:
        await trio.aclose_forcefully(stream)


async def play_game(command: dict[str, Any]) -> None:
    """Play every seat of one game at once; report when all are done."""
    results = {player: SeatResult() for player, _ in command["seats"]}
    async with trio.open_nursery() as nursery:
        for i, (player, token) in enumerate(command["seats"]):
            seed = command["seed"] * 100 + i
            nursery.start_soon(play_seat, command["port"], player, token, seed, results[player])
    report = {
        "game": command["game"],
        "seats": {
            p: {"events": r.events, "requests": r.requests, "over": r.over, "error": r.error}
            for p, r in results.items()
        },
        "ack_ms": [round(ms, 3) for r in results.values() for ms in r.ack_ms],
    }
    write(report)


def write(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


async def main() -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    async with trio.open_nursery() as nursery:
        while True:
            chunk = await stdin.receive_some(1 << 16)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            commands = [json.loads(line) for line in lines if line.strip()]
            if any(c["cmd"] == "quit" for c in commands):
                for command in commands:
                    if command["cmd"] == "play":
                        nursery.start_soon(play_game, command)
                break
            for command in commands:
                nursery.start_soon(play_game, command)
    usage = os.times()
    write({"cpu_s": round(usage.user + usage.system, 3)})


class AgentPool:
    """The parent's handle on a pool process: send it games, read its reports (bounded waits).

    A reader thread (`agentpool-reports`) drains the pool's stdout at once: a pool blocked on a full
    pipe would stop every agent it plays.
    """

    def __init__(self, *, cpu: int | None = None) -> None:
        """Start `python -m bench.agentpool`, pinned to `cpu` if given (Linux)."""
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.agentpool"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(self.process.pid, {cpu})
        assert self.process.stdout is not None
        self._reports = JsonLines(self.process.stdout, name="agentpool-reports")

    def play(self, game_id: str, port: int, seed: int, seats: list[tuple[str, str]]) -> None:
        """Ask the pool to play these seats (player, token) of one game."""
        self._send({"cmd": "play", "game": game_id, "port": port, "seed": seed, "seats": seats})

    def report(self, timeout: float) -> dict[str, Any]:
        """The next report; raises TimeoutError if none comes within `timeout` seconds."""
        try:
            report = self._reports.next(timeout)
        except TimeoutError:
            raise TimeoutError(f"no report from the agent pool within {timeout} s") from None
        if report is None:
            raise RuntimeError(f"the agent pool exited ({self.process.poll()})")
        return report

    def close(self, timeout: float = 30.0) -> float:
        """Let the pool finish and exit; returns its CPU seconds (-1 if it did not say)."""
        cpu = -1.0
        try:
            self._send({"cmd": "quit"})
            while True:
                report = self.report(timeout)
                if "cpu_s" in report:
                    cpu = float(report["cpu_s"])
                    break
        except (TimeoutError, RuntimeError, OSError):
            self.process.kill()
        finally:
            self.process.wait(timeout)
            self._reports.join(timeout)
        return cpu

    def _send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()


if __name__ == "__main__":
    trio.run(main)
