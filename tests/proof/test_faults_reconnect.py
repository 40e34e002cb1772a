"""Fault proofs, a reconnect storm: agents dropping their connection (FIN or RST) at every request, right
after answering, and whenever a chaos observer says so; each still gets its audience's events exactly
once, and nobody is faulted. With tight deadlines, the faults are exactly the deadlines really missed.

Every game is logged (`log_path`) and every log is checked by `assert_log_matches`.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

import pytest

from actors.messages import Deliver
from engine.events import PlayerFaulted
from net.hosting import HostedGame
from net.protocol import RequestFrame
from tests.fakes import Collector
from tests.proof.fault_table import CONFIG, PHASE_S, PLAYERS
from tests.proof.remote_kit import (
    WAIT_S,
    Hook,
    RemoteAgent,
    assert_agent_saw_its_audience,
    assert_faults_only,
    assert_full_view_complete,
    assert_log_matches,
    assert_valid_outcome,
    faulted,
    host_game,
    reset_connection,
)


def drop_at_every_request(agent: RemoteAgent, request: RequestFrame) -> None:
    """Drop the connection (FIN) the first time each request arrives; answer its re-sent copy."""
    if agent.notes.setdefault("dropped", set()).isdisjoint({request.phase_id}):
        agent.notes["dropped"].add(request.phase_id)
        agent.client.disconnect()  # the answer below fails; the SDK reconnects and resumes


def reset_at_every_request(agent: RemoteAgent, request: RequestFrame) -> None:
    """The same with a TCP reset."""
    if request.phase_id not in agent.notes.setdefault("dropped", set()):
        agent.notes["dropped"].add(request.phase_id)
        reset_connection(agent.client)


def answer_then_drop(agent: RemoteAgent, request: RequestFrame) -> None:
    """Send the answer itself, then drop at once: the answer counts, the request is not re-sent."""
    link = agent.client._link
    assert link is not None
    answer = {"type": "act", "phase_id": request.phase_id, "action": {"kind": "abstain"}}
    link.send(answer)
    agent.notes["answered"] = agent.notes.get("answered", 0) + 1
    agent.client.disconnect()


class Chaos(Collector):
    """A full-view subscriber that, every `every` events, drops the next victim's connection (FIN),
    from the game master's thread: drops land anywhere, mid-catch-up and between requests."""

    def __init__(self, victims: list[RemoteAgent], every: int) -> None:
        super().__init__()
        self.victims = itertools.cycle(victims)
        self.every = every
        self.count = 0
        self.drops = 0

    def tell(self, message: Any) -> None:
        super().tell(message)
        if isinstance(message, Deliver):
            for _ in message.events:
                self.count += 1
                if self.count % self.every == 0:
                    victim = next(self.victims)
                    if victim.client._link is not None:
                        victim.client.disconnect()
                        self.drops += 1


STORM: dict[str, Hook | None] = {
    PLAYERS[0]: drop_at_every_request,
    PLAYERS[1]: reset_at_every_request,
    PLAYERS[2]: drop_at_every_request,
    PLAYERS[3]: answer_then_drop,
    PLAYERS[4]: drop_at_every_request,
}


@pytest.mark.parametrize("seed", [12, 25])  # seeds where every storm seat is asked 10+ times
def test_reconnect_storm_loses_nothing_and_faults_nobody(server, tmp_path, seed):
    hooks: dict[str, Hook | None] = {p: STORM.get(p) for p in PLAYERS}
    hosted = host_game(
        server, CONFIG, seed=seed, remote=hooks, timeout_s=PHASE_S, log_path=tmp_path / "game.jsonl"
    )
    finished = hosted.finished
    assert_valid_outcome(finished)
    assert_faults_only(finished, {})  # no deadline was missed, so nobody faulted
    for player, agent in hosted.agents.items():
        assert_agent_saw_its_audience(hosted, agent)
        assert [e.code for e in agent.client.errors] == [], player
        assert agent.client.rejections == [], player
    for player in (PLAYERS[0], PLAYERS[1], PLAYERS[2], PLAYERS[4]):
        agent = hosted.agents[player]
        drops = len(agent.notes.get("dropped", ()))
        assert drops >= 5, f"{player} was asked too little to storm ({drops})"
        assert agent.client.connections == drops + 1
        # The answer never left: each request came again after the resume, and was answered then.
        asked = Counter(r.phase_id for r in agent.requests)
        assert set(asked) == agent.notes["dropped"], player
        assert set(asked.values()) == {2}, player
    answered = hosted.agents[PLAYERS[3]].notes.get("answered", 0)
    assert answered >= 5
    assert hosted.agents[PLAYERS[3]].client.connections == answered + 1
    # Its answers got through although the socket closed right behind them: never asked twice.
    assert len({r.phase_id for r in hosted.agents[PLAYERS[3]].requests}) == answered
    assert hosted.seconds < PHASE_S / 2
    assert_full_view_complete(hosted)
    assert_log_matches(tmp_path / "game.jsonl", finished)


def test_chaos_drops_anywhere_in_the_stream_lose_nothing(server, tmp_path):
    """Connections dropped every few events, from outside the agents, for half the table."""
    chaos = Chaos([], every=5)

    def arm(agents: dict[str, RemoteAgent], game: HostedGame) -> None:
        chaos.victims = itertools.cycle([agents[p] for p in PLAYERS[:4]])

    hosted = host_game(
        server,
        CONFIG,
        seed=13,
        remote=dict.fromkeys(PLAYERS),
        timeout_s=PHASE_S,
        log_path=tmp_path / "game.jsonl",
        full=chaos,
        before_start=arm,
    )
    assert chaos.drops >= 10
    finished = hosted.finished
    assert_valid_outcome(finished)
    assert_faults_only(finished, {})
    for agent in hosted.agents.values():
        assert_agent_saw_its_audience(hosted, agent)
    reconnections = sum(a.client.connections - 1 for a in hosted.agents.values())
    assert reconnections >= chaos.drops // 2  # a drop may hit a link already closing
    assert_full_view_complete(hosted)
    assert_log_matches(tmp_path / "game.jsonl", finished)


class FaultWatch(Collector):
    """Full-view subscriber with an event per (player, phase_id), set when that fault is published."""

    def __init__(self) -> None:
        super().__init__()
        self._flags: dict[tuple[str, int], threading.Event] = {}
        self._flags_lock = threading.Lock()

    def flag(self, player: str, phase_id: int) -> threading.Event:
        with self._flags_lock:
            return self._flags.setdefault((player, phase_id), threading.Event())

    def tell(self, message: Any) -> None:
        super().tell(message)
        if isinstance(message, Deliver):
            for event in message.events:
                if isinstance(event, PlayerFaulted):
                    self.flag(event.player, event.phase_id).set()


STALL_AT = (3, 8)


def test_storm_with_tight_deadlines_faults_exactly_the_deadlines_really_missed(server, tmp_path):
    """Deadlines of 0.5 s; four seats drop at every request, and at their 3rd and 8th also stall
    until their deadline has passed. Faults must be exactly the (seat, phase) pairs the log shows asked
    and never answered in time: none for a reconnection that made it, one for each real miss."""
    watch = FaultWatch()

    def storm_and_stall(agent: RemoteAgent, request: RequestFrame) -> None:
        dropped = agent.notes.setdefault("dropped", set())
        if request.phase_id not in dropped:
            dropped.add(request.phase_id)
            agent.client.disconnect()
        elif len(dropped) in STALL_AT and request.phase_id not in agent.notes.setdefault("stalled", set()):
            agent.notes["stalled"].add(request.phase_id)
            assert watch.flag(agent.player, request.phase_id).wait(WAIT_S), "the deadline never passed"

    hooks: dict[str, Hook | None] = {p: storm_and_stall if i < 4 else None for i, p in enumerate(PLAYERS)}
    hosted = host_game(
        server, CONFIG, seed=23, remote=hooks, timeout_s=0.5, log_path=tmp_path / "game.jsonl", full=watch
    )
    finished = hosted.finished
    assert_valid_outcome(finished)
    lines = assert_log_matches(tmp_path / "game.jsonl", finished)
    asked = {(line["player"], line["phase_id"]) for line in lines if line["kind"] == "request"}
    answered = {
        (line["player"], line["phase_id"])
        for line in lines
        if line["kind"] == "answer" and line["status"] == "accepted"
    }
    missed = [
        (e["player"], e["phase_id"])
        for e in finished.record["events"]
        if e["type"] == "player_faulted" and e["reason"] == "no action before the deadline"
    ]
    assert len(missed) == len(set(missed))
    # Every phase asked and not answered ended on its deadline (the game ended in an answered one).
    assert set(missed) == asked - answered
    assert all(r == "no action before the deadline" for rs in faulted(finished).values() for r in rs)
    stalled = {(a.player, phase) for a in hosted.agents.values() for phase in a.notes.get("stalled", ())}
    assert len(stalled) >= 4
    assert stalled <= set(missed)
    for agent in hosted.agents.values():
        assert_agent_saw_its_audience(hosted, agent)
    assert_full_view_complete(hosted)
