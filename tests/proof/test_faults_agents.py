"""Fault proofs, broken agents: whatever an agent does, the game ends with a valid outcome, the faults
are charged to the seats that broke and to no other, and nothing is lost (streams, full view, JSONL log).

- Remote agents killed mid-phase (socket gone, FIN or RST, never back): the seat forfeits after the
  grace period; the game goes on without waiting for deadlines.
- Local agents raising (first decision, mid-game, in a vote), a player actor that itself crashes, and an
  agent calling `sys.exit()`: each forfeits its own seat only, and an unrelated game goes on.

Every game is logged (`log_path`) and every log is checked by `assert_log_matches`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from actors.agents import Agent, RandomAgent
from actors.messages import FULL_VIEW, AgentReport, Deliver
from actors.runner import play_game, start_game
from engine import ActionKind, Choice, Observation, PlayerId
from engine.actions import Action
from net.protocol import RequestFrame
from tests.fakes import Collector, CrashingAgent
from tests.proof.fault_table import CONFIG, GRACE_S, PHASE_S, PLAYERS
from tests.proof.remote_kit import (
    WAIT_S,
    RemoteAgent,
    assert_agent_saw_its_audience,
    assert_faults_only,
    assert_full_view_complete,
    assert_log_matches,
    assert_valid_outcome,
    faulted,
    host_game,
)

# --------------------------------------------------------------------------------------- killed remote agents


class Killer:
    """Kills the first `count` agents whose request matches `when` (under a lock: once each)."""

    def __init__(self, when: Callable[[RemoteAgent, RequestFrame], bool], count: int, reset: bool) -> None:
        self.when, self.count, self.reset = when, count, reset
        self.killed: list[tuple[str, str]] = []  # (player, phase) in kill order
        self._lock = threading.Lock()

    def hook(self, agent: RemoteAgent, request: RequestFrame) -> None:
        with self._lock:
            if len(self.killed) >= self.count or not self.when(agent, request):
                return
            self.killed.append((agent.player, request.phase))
        agent.kill(reset=self.reset)


KILLS = {
    "two at their first night request (FIN)": (lambda a, r: r.phase == "night", 2, False),
    "two at their first night request (RST)": (lambda a, r: r.phase == "night", 2, True),
    "three mid-debate, at their 2nd request (RST)": (lambda a, r: len(a.requests) == 2, 3, True),
    "two in the first vote (FIN)": (lambda a, r: r.phase == "vote", 2, False),
    "one in a revote or a later day's vote (RST)": (lambda a, r: r.phase == "vote" and r.day >= 2, 1, True),
}


@pytest.mark.parametrize(("case", "seed"), [(c, 3 + i) for i, c in enumerate(KILLS)])
def test_remote_agents_killed_mid_phase_forfeit_only_their_seats(server, tmp_path, case, seed):
    when, count, reset = KILLS[case]
    killer = Killer(when, count, reset)
    hosted = host_game(
        server,
        CONFIG,
        seed=seed,
        remote=dict.fromkeys(PLAYERS, killer.hook),
        timeout_s=PHASE_S,
        grace_s=GRACE_S,
        log_path=tmp_path / "game.jsonl",
    )
    finished = hosted.finished
    assert len(killer.killed) == count, f"seed {seed} never reached the kills: {killer.killed}"
    dead = [p for p, _ in killer.killed]
    assert_valid_outcome(finished)
    assert_faults_only(finished, dict.fromkeys(dead, 1))
    for player in dead:
        assert faulted(finished)[player] == [f"agent failed: disconnected for more than {GRACE_S:g} s"]
        assert "killed" in str(hosted.agents[player].error)
    # The game never waited for a deadline: the forfeited seats were played by default at once.
    assert hosted.seconds < PHASE_S / 2
    for player, agent in hosted.agents.items():
        if player not in dead:
            assert_agent_saw_its_audience(hosted, agent)
            assert agent.client.errors == []
    assert_full_view_complete(hosted)
    assert_log_matches(tmp_path / "game.jsonl", finished)


# --------------------------------------------------------------------------------------- raising local agents


class Boom(Exception):
    """What the raising agents raise."""


class RaiseInVote:
    """Plays like `inner` until its first vote menu, then raises."""

    def __init__(self, inner: Agent) -> None:
        self.inner = inner

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        if any(c.kind is ActionKind.VOTE for c in choices):
            raise Boom("cannot decide how to vote")
        return self.inner.decide(observation, choices)


class ActorBreaker:
    """Decides fine, but from its `at`-th decision on, reading its `last_report` raises: the error
    escapes `PlayerActor`'s guard around `decide`, so the actor itself crashes."""

    def __init__(self, inner: Agent, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.calls += 1
        return self.inner.decide(observation, choices)

    @property
    def last_report(self) -> AgentReport | None:
        if self.calls >= self.at:
            raise Boom(f"detail unreadable at decision {self.calls}")
        return None


def raising_table(seed: int) -> tuple[dict[PlayerId, Agent], dict[PlayerId, str]]:
    """Four faulty seats among eight, and the start of the fault reason each should get."""
    agents: dict[PlayerId, Agent] = {p: RandomAgent(seed * 10 + i) for i, p in enumerate(PLAYERS)}
    agents[PLAYERS[0]] = CrashingAgent(RandomAgent(1), crash_at=1)
    agents[PLAYERS[2]] = CrashingAgent(RandomAgent(2), crash_at=3)
    agents[PLAYERS[4]] = RaiseInVote(RandomAgent(3))
    agents[PLAYERS[6]] = ActorBreaker(RandomAgent(4), at=2)
    reasons = {
        PLAYERS[0]: "agent failed: RuntimeError: boom at decision 1",
        PLAYERS[2]: "agent failed: RuntimeError: boom at decision 3",
        PLAYERS[4]: "agent failed: Boom: cannot decide how to vote",
        PLAYERS[6]: "agent failed: player actor crashed: Boom('detail unreadable at decision 2')",
    }
    return agents, reasons


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_raising_agents_and_a_crashing_actor_are_isolated(tmp_path, seed):
    agents, reasons = raising_table(seed)
    full = Collector()
    running = start_game(
        CONFIG,
        agents,
        seed=seed,
        timeout_s=PHASE_S,
        log_path=tmp_path / "game.jsonl",
        observers=[(full, FULL_VIEW)],
    )
    try:
        finished = running.wait(WAIT_S)
        crashed_actor_alive = running.players[PLAYERS[6]].is_alive()
        # The raising agents are wrappers, not instant: each has a player actor (instant seats have none).
        others_alive = [ref.is_alive() for p, ref in running.players.items() if p != PLAYERS[6]]
    finally:
        running.stop()
    assert_valid_outcome(finished)
    # Which seats got to fail depends on who lived long enough (a seat killed on night 1 never votes).
    failed = {p: [r] for p, r in reasons.items() if p in faulted(finished)}
    assert faulted(finished) == failed
    assert PLAYERS[0] in failed  # the first decision fails whoever the seat is
    assert_faults_only(finished, dict.fromkeys(failed, 1))
    assert not crashed_actor_alive if PLAYERS[6] in failed else crashed_actor_alive
    assert len(others_alive) == 3
    assert all(others_alive)  # agents that raise keep their actor (it ignores later requests)
    assert [e for m in full.messages if isinstance(m, Deliver) for e in m.events] == full.events
    assert_log_matches(tmp_path / "game.jsonl", finished)


def test_every_kind_of_raising_agent_fails_somewhere_across_the_seeds(tmp_path):
    """The seeds above are not all lucky: together they exercise each raising point."""
    seen: set[str] = set()
    for seed in (1, 2, 7):
        agents, _ = raising_table(seed)
        finished = play_game(CONFIG, agents, seed=seed, timeout_s=PHASE_S, wait_s=WAIT_S)
        seen |= set(faulted(finished))
    assert seen == {PLAYERS[0], PLAYERS[2], PLAYERS[4], PLAYERS[6]}


class ExitingAgent:
    """Untrusted code that calls `sys.exit()` in its 2nd decision (SystemExit is no `Exception`)."""

    def __init__(self, inner: Agent) -> None:
        self.inner, self.calls = inner, 0

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.calls += 1
        if self.calls == 2:
            raise SystemExit(3)
        return self.inner.decide(observation, choices)


class Gated:
    """Plays like `inner`, but its first decision waits (bounded) until `gate` is set."""

    def __init__(self, inner: Agent, gate: threading.Event) -> None:
        self.inner, self.gate, self.waited = inner, gate, False

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        if not self.waited:
            self.waited = True
            self.gate.wait(WAIT_S)
        return self.inner.decide(observation, choices)


def test_an_agent_calling_sys_exit_only_forfeits_its_own_seat():
    """Found by this file: a SystemExit escaping to pykka made it stop every actor in the process,
    aborting the faulty game and an unrelated one running beside it (fixed in 68e3054)."""
    gate = threading.Event()
    bystander: dict[PlayerId, Agent] = {p: RandomAgent(20 + i) for i, p in enumerate(PLAYERS)}
    bystander[PLAYERS[1]] = Gated(RandomAgent(5), gate)  # keeps the other game running meanwhile
    faulty: dict[PlayerId, Agent] = {p: RandomAgent(30 + i) for i, p in enumerate(PLAYERS)}
    faulty[PLAYERS[3]] = ExitingAgent(RandomAgent(6))
    other = start_game(CONFIG, bystander, seed=4, timeout_s=PHASE_S, game_id="bystander")
    try:
        broken = start_game(CONFIG, faulty, seed=5, timeout_s=PHASE_S, game_id="faulty")
        try:
            finished = broken.wait(WAIT_S)
        finally:
            gate.set()
            broken.stop()
        untouched = other.wait(WAIT_S)
    finally:
        other.stop()
    assert untouched.outcome is not None, "an unrelated game was aborted by another game's agent"
    assert_valid_outcome(finished)
    assert faulted(finished) == {PLAYERS[3]: ["agent failed: SystemExit: 3"]}
