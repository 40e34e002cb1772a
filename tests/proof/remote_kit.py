"""Shared kit of the fault and soak proofs: host one game whose seats mix remote SDK agents (threads,
over loopback WebSockets) and local seats, and check what came out (outcome, faults, streams, log).

Every wait is bounded (futures, thread joins, socket timeouts); nothing sleeps to wait for a condition.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.gamelog import load_record
from actors.messages import FULL_VIEW, GameFinished
from actors.runner import SeatOccupant
from engine import ROLE_SPECS, GameConfig, PlayerId, Role, Termination, event_to_dict, replay
from net.client import AgentClient
from net.hosting import Host, HostedGame
from net.protocol import EventFrame, RequestFrame
from net.server import NetworkServer
from tests.fakes import Collector
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.netutil import HOST, WAIT_S

GAME_WAIT_S = 60.0  # bound on one whole game
SECRET = bytes(range(32))  # the proofs' host secret: fixed, so each seed is the same game every run


class Killed(Exception):
    """Raised by a hook to end an agent's thread for good (its process "died")."""


Hook = Callable[["RemoteAgent", RequestFrame], None]


@dataclass
class RemoteAgent(AgentThread):
    """One SDK agent thread with a seeded random policy; `hook` runs before each answer."""

    def kill(self, *, reset: bool = False) -> None:
        """Vanish mid-request: the socket goes away (FIN, or RST with `reset`) and never comes back."""
        if reset:
            reset_connection(self.client)
        else:
            self.client.disconnect()
        raise Killed(f"{self.player} killed at request {len(self.requests)}")


def reset_connection(client: AgentClient) -> None:
    """End the client's connection with a TCP reset: no close frame, no FIN, nothing more sent."""
    link = client._link
    assert link is not None
    link.ws.connected = False  # so neither the pending answer nor a close frame is sent
    sock = link.ws.sock
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)  # wakes simple-websocket's reader, which closes the socket: RST


@dataclass
class Hosted:
    """A game played to its end: the result, how long it took, the remote agents, the full view."""

    finished: GameFinished
    seconds: float
    agents: dict[str, RemoteAgent]
    full: Collector
    log_path: Path | None


def host_game(
    server: NetworkServer,
    config: GameConfig,
    *,
    seed: int,
    remote: Mapping[str, Hook | None],
    local: Mapping[str, SeatOccupant] | None = None,
    timeout_s: float = 30.0,
    grace_s: float = 30.0,
    log_path: Path | None = None,
    game_id: str | None = None,
    full: Collector | None = None,
    before_start: Callable[[dict[str, RemoteAgent], HostedGame], None] | None = None,
    after_game: Callable[[], None] | None = None,
    roles: Mapping[str, Role] | None = None,
    close: bool = False,
    agent_type: type[RemoteAgent] = RemoteAgent,
) -> Hosted:
    """Play one game: `remote` seats by SDK agents over `server`, `local` ones in-process.

    `full` (a fresh `Collector` by default) subscribes to the full view; `before_start` sees the
    agents (of `agent_type`), connected, and the game just before it starts; `after_game` runs once the
    agents are done, before the game's actors stop. With `close`, the game is forgotten by the server
    at the end (`HostedGame.close`), and this returns once it is. Stops everything it started (game
    actors, agent threads) whatever happens.
    """
    seats: dict[PlayerId, SeatOccupant | None] = {PlayerId(p): s for p, s in (local or {}).items()}
    seats.update(dict.fromkeys(map(PlayerId, remote)))
    agents: dict[str, RemoteAgent] = {}
    full = full if full is not None else Collector()
    with Host(SECRET, server=server) as host:
        game = host.open_game(
            config, seats, seed=seed, game_id=game_id or f"g-{seed}-{len(remote)}", grace_s=grace_s
        )
        try:
            tokens = game.tokens
            for i, player in enumerate(remote):
                client = RecordingAgent(
                    game.url(HOST, f"agent-{player}", "agent"),
                    token=tokens[PlayerId(player)],
                    reconnect_attempts=20,
                    reconnect_delay=0.01,
                    receive_timeout=0.2,
                )
                rng = random.Random(seed * 100 + i)
                agents[player] = agent_type(player, client, remote[player], rng).start()
            assert game.wait_for_agents(WAIT_S) == []
            if before_start is not None:
                before_start(agents, game)
            start = time.monotonic()
            game.start(
                timeout_s=timeout_s,
                observers=[(full, FULL_VIEW)],
                log_path=log_path,
                roles={PlayerId(p): r for p, r in roles.items()} if roles else None,
                # No timing cover: these games test what goes over the wire, and the soak plays them in
                # a child process that the tests' session patch does not reach (tests/conftest.py).
                hidden_turn_s=0.0,
            )
            finished = game.wait(GAME_WAIT_S)
            seconds = time.monotonic() - start
            for agent in agents.values():
                assert agent.thread is not None
                agent.thread.join(WAIT_S)
                assert not agent.thread.is_alive(), f"{agent.player}'s agent did not finish"
            if after_game is not None:
                after_game()
            return Hosted(finished, seconds, agents, full, log_path)
        finally:
            game.stop()
            for agent in agents.values():
                if agent.client._link is not None and agent.thread is not None and agent.thread.is_alive():
                    agent.client.disconnect()
            if close:
                game.close(wait=True)


# ---------------------------------------------------------------------------------------- checks


def assert_valid_outcome(finished: GameFinished) -> None:
    """The game really ended (not aborted), with a winner unless the day limit ended it."""
    outcome = finished.outcome
    assert outcome is not None, "the game was aborted"
    if outcome.termination is Termination.MAX_DAYS:
        assert outcome.winner is None
    else:
        assert outcome.winner is not None
    ended = finished.record["events"][-1]
    assert ended["type"] == "game_ended"
    assert ended["winner"] == (outcome.winner.value if outcome.winner else None)


def faulted(finished: GameFinished) -> dict[str, list[str]]:
    """The reasons of every `player_faulted` event in the record, per player (seat order)."""
    reasons: dict[str, list[str]] = {}
    for event in finished.record["events"]:
        if event["type"] == "player_faulted":
            reasons.setdefault(event["player"], []).append(event["reason"])
    return reasons


def assert_faults_only(finished: GameFinished, expected: Mapping[str, int]) -> None:
    """`GameFinished.faults` and the recorded `player_faulted` events both say exactly `expected`."""
    want = {p: expected.get(p, 0) for p in finished.faults}
    assert finished.faults == want, faulted(finished)
    recorded = Counter({p: len(r) for p, r in faulted(finished).items()})
    assert recorded == Counter({p: n for p, n in want.items() if n}), faulted(finished)


def audience_events(record: Mapping[str, Any], roles: Mapping[str, Any], player: str) -> list[dict[str, Any]]:
    """The recorded events `player` may see, in order."""
    wolf = ROLE_SPECS[Role(roles[player])].is_wolf
    allowed = {"public", f"player:{player}"} | ({"wolves"} if wolf else set())
    return [e for e in record["events"] if e["audience"] in allowed]


def assert_agent_saw_its_audience(hosted: Hosted, agent: RemoteAgent) -> None:
    """Its events equal its audience's, in order, each once on the wire across every connection."""
    assert agent.error is None, f"{agent.player}: {agent.error!r}"
    assert agent.over is not None
    expected = audience_events(hosted.finished.record, agent.over.roles, agent.player)
    events = agent.client.events
    assert [f.event.model_dump(mode="json") for f in events] == expected, agent.player  # type: ignore[attr-defined]
    assert [f.seq for f in events] == list(range(len(expected))), agent.player
    wire = [f.seq for f in agent.client.wire if isinstance(f, EventFrame)]
    assert wire == list(range(len(expected))), f"{agent.player}: gaps or duplicates on the wire"


def assert_full_view_complete(hosted: Hosted) -> None:
    """The full-view subscriber got every recorded event, once, in order."""
    got = [json.loads(json.dumps(event_to_dict(e))) for e in hosted.full.events]
    assert got == json.loads(json.dumps(hosted.finished.record["events"]))


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_log_matches(path: Path, finished: GameFinished) -> list[dict[str, Any]]:
    """Nothing lost in the log: its events are the record's, every fault is in it twice over
    (a `player_faulted` event and the `finished` line's count), and it replays."""
    lines = read_log(path)
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "game"
    assert kinds[-2:] == ["record", "finished"]
    record = json.loads(json.dumps(finished.record))
    events = [line for line in lines if line["kind"] == "event"]
    assert [line["seq"] for line in events] == list(range(len(record["events"])))
    assert [line["event"] for line in events] == record["events"]
    assert lines[-2]["record"] == record
    end = lines[-1]
    assert end["aborted"] is False
    assert end["faults"] == {str(p): n for p, n in finished.faults.items()}
    in_log = Counter(e["event"]["player"] for e in events if e["event"]["type"] == "player_faulted")
    assert in_log == Counter({p: n for p, n in end["faults"].items() if n})
    # Each agent failure is logged, and charged as one "agent failed" fault of that seat.
    failed = [line["player"] for line in lines if line["kind"] == "agent_failed"]
    charged = [
        e["event"]["player"]
        for e in events
        if e["event"]["type"] == "player_faulted" and e["event"]["reason"].startswith("agent failed:")
    ]
    assert sorted(failed) == sorted(charged)
    # Inputs in the log rebuild the same game (the record line aside).
    rebuilt = load_record(path)
    replay(rebuilt)
    cut = [line for line in lines if line["kind"] not in ("record", "finished")]
    assert [line["input"] for line in cut if line["kind"] == "input"] == record["inputs"]
    return lines
