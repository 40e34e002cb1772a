"""Fault proofs: whatever breaks, every game ends with a valid outcome, the faults are charged to the
seats that broke and to no other, and nothing is lost (streams, full view, JSONL log).

- Remote agents killed mid-phase (socket gone, FIN or RST, never back): the seat forfeits after the
  grace period; the game goes on without waiting for deadlines.
- Local agents raising (first decision, mid-game, in a vote) and a player actor that itself crashes.
- A reconnect storm: agents dropping their connection at every request, right after answering, and
  whenever a chaos observer says so; each still gets its audience's events exactly once.
- The LLM server failing mid-game (500s; dying mid-request then refusing connections).
- One game with every kind of fault at once, checked line by line against its log.
- Messages that reach the game master after the end (a late answer, a queued deadline, a seat given
  up): dropped, the game finished once.

Every game is logged (`log_path`) and every log is checked by `assert_log_matches`.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest

from actors.agents import Agent, RandomAgent
from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.messages import (
    FULL_VIEW,
    AgentFailed,
    AgentReport,
    DeadlineReached,
    Deliver,
    GameFinished,
    SubmitAction,
)
from actors.runner import play_game, start_game
from actors.scheduler import ManualScheduler
from engine import Abstain, ActionKind, Choice, Observation, PlayerId, Role, preset
from engine.actions import Action
from engine.events import PlayerFaulted
from net.hosting import HostedGame
from net.protocol import RequestFrame
from net.server import NetworkServer, ServerConfig
from tests.fakes import Collector, CrashingAgent, InstantSeat
from tests.llm.fake_ollama import KNOWN_MODEL, FakeOllama, Recorded, Reply, running_fake, valid_content
from tests.proof.remote_kit import (
    WAIT_S,
    Hook,
    Hosted,
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

CONFIG = preset("classic-8")
PLAYERS = list(CONFIG.players)
GRACE_S = 0.3
PHASE_S = 30.0  # deadlines no test below should ever reach (except the one that misses one on purpose)


@pytest.fixture
def server() -> Iterator[NetworkServer]:
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------- (a) killed agents


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


# ---------------------------------------------------------------------------------------- (b) raising agents


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


# ---------------------------------------------------------------------------------------- (c) reconnect storm


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


# ------------------------------------------------------------------------------ (d) LLM server failing

SEAT = re.compile(r"^You are (\w+),")
LLM_SEATS = PLAYERS[::2]  # Alice, Chloe, Elise, Gaelle; the others are local RandomAgents


def seat_of(chat: Recorded) -> str:
    match = SEAT.match(chat.messages[0]["content"])
    assert match is not None
    return match.group(1)


def mixed_table(fake: FakeOllama, timeout_s: float = 10.0) -> dict[PlayerId, Agent]:
    settings = LLMSettings(model=KNOWN_MODEL, host=fake.url, timeout_s=timeout_s, parallel=8)
    limiter = threading.BoundedSemaphore(8)
    agents: dict[PlayerId, Agent] = {p: RandomAgent(50 + i) for i, p in enumerate(PLAYERS)}
    for i, p in enumerate(LLM_SEATS):
        agents[p] = LLMAgent(
            settings, CONFIG, persona=PERSONAS[i], fallback=HeuristicAgent(i), limiter=limiter
        )
    return agents


def llm_inputs_after_first_fault(finished: Any, player: str) -> list[dict[str, Any]]:
    inputs = finished.record["inputs"]
    first = next(i for i, item in enumerate(inputs) if item.get("fault") == player)
    return [item for item in inputs[first:] if item.get("player") == player]


FAIL_AFTER = 6  # chat calls answered before the server fails


def test_llm_server_answering_500_mid_game(tmp_path):
    def responder(request: dict[str, Any], n: int) -> Reply:
        if n >= FAIL_AFTER:
            return Reply(status=500, content="CUDA error: out of memory")
        return Reply(content=valid_content(request, n))

    with running_fake(responder) as fake:
        agents = mixed_table(fake)
        finished = play_game(
            CONFIG, agents, seed=21, timeout_s=PHASE_S, wait_s=60, log_path=tmp_path / "game.jsonl"
        )
        chats = fake.chats
    assert_valid_outcome(finished)
    failed = Counter(seat_of(c) for c in chats if c.status == 500)
    assert sum(failed.values()) == len(chats) - FAIL_AFTER > 0
    # One fault per failed call, on the seat that made it, and nowhere else.
    assert_faults_only(finished, failed)
    for player, reasons in faulted(finished).items():
        assert player in LLM_SEATS
        assert set(reasons) == {"Ollama error 500: CUDA error: out of memory; the built-in agent decided"}
        # The built-in agent decided for it: the seat still acted (not only abstained).
        acted = llm_inputs_after_first_fault(finished, player)
        assert any(item["action"]["kind"] != "abstain" for item in acted), player
    for player in LLM_SEATS:  # usage counts only the calls that were answered
        answered = sum(1 for c in chats if seat_of(c) == player and c.status == 200)
        assert finished.usage.get(player, {}).get("calls", 0) == answered
    assert_log_matches(tmp_path / "game.jsonl", finished)


def test_llm_server_dying_mid_request_then_refusing(tmp_path):
    """At call FAIL_AFTER the server dies: calls in flight are cut, later ones are refused."""
    stopper: list[threading.Thread] = []

    def responder(request: dict[str, Any], n: int) -> Reply:
        if n >= FAIL_AFTER:
            if not stopper:
                stopper.append(threading.Thread(target=fake.stop, daemon=True))
                stopper[0].start()
            return Reply(content=valid_content(request, n), delay=30)  # cut short by the stop
        return Reply(content=valid_content(request, n))

    with running_fake(responder) as fake:
        url = fake.url
        agents = mixed_table(fake)
        finished = play_game(
            CONFIG, agents, seed=22, timeout_s=PHASE_S, wait_s=60, log_path=tmp_path / "game.jsonl"
        )
        cut = Counter(seat_of(c) for c in fake.chats if c.n >= FAIL_AFTER)
    for thread in stopper:
        thread.join(WAIT_S)
    assert_valid_outcome(finished)
    assert sum(cut.values()) >= 1
    reasons = faulted(finished)
    assert set(reasons) <= set(LLM_SEATS)
    assert set(reasons) >= set(cut)
    broken = 0
    for player, seat_reasons in reasons.items():
        agent = agents[PlayerId(player)]
        assert isinstance(agent, LLMAgent)
        kinds = [
            "cut" if r.startswith("LLM call failed (") and r.endswith("built-in agent decided") else r
            for r in seat_reasons
        ]
        no_server = [k for k in kinds if k.startswith(f"no Ollama server at {url}")]
        assert len(no_server) <= 1, seat_reasons
        assert set(kinds) - set(no_server) <= {"cut"}, seat_reasons
        assert kinds.count("cut") >= cut[player]
        if no_server:  # said once, then the built-in agent plays the seat without further faults
            broken += 1
            assert kinds[-1] == no_server[0], seat_reasons
            assert kinds[-1].endswith("the built-in agent plays this seat from now on")
            assert agent._broken is not None
        acted = llm_inputs_after_first_fault(finished, player)
        assert any(item["action"]["kind"] != "abstain" for item in acted), player
    assert broken >= 1
    assert_faults_only(finished, {p: len(r) for p, r in reasons.items()})
    assert_log_matches(tmp_path / "game.jsonl", finished)


# ---------------------------------------------------------------------------------------- (e) the log


class DeadlineWatch(Collector):
    """Full-view subscriber that flags a player's first 'no action before the deadline' fault."""

    def __init__(self, player: str) -> None:
        super().__init__()
        self.player = player
        self.missed = threading.Event()

    def tell(self, message: Any) -> None:
        super().tell(message)
        if isinstance(message, Deliver):
            for event in message.events:
                if (
                    isinstance(event, PlayerFaulted)
                    and event.player == self.player
                    and event.reason == "no action before the deadline"
                ):
                    self.missed.set()


MIXED_ROLES = {
    "Alice": Role.WEREWOLF,  # remote, killed at its 2nd request
    "Bruno": Role.SEER,  # remote, one illegal answer at night 1
    "Chloe": Role.DOCTOR,  # remote, sleeps through its night-1 deadline
    "Damien": Role.WEREWOLF,  # local, raises at its 2nd decision
    **dict.fromkeys(["Elise", "Fabien", "Gaelle", "Hugo"], Role.VILLAGER),  # Elise: an LLM seat
}


def test_every_fault_of_a_mixed_game_is_in_the_log(server, tmp_path):
    """Remote: killed, illegal answer, missed deadline; local: raising; LLM: bad reply and a 500."""
    short_s = 3.0  # one deadline is missed on purpose; the other agents answer at once
    killed, illegal, late = "Alice", "Bruno", "Chloe"
    crasher, llm = "Damien", "Elise"
    watch = DeadlineWatch(late)
    missed_once: list[int] = []

    def kill_at_second(agent: RemoteAgent, request: RequestFrame) -> None:
        if len(agent.requests) == 2:
            agent.kill()

    def illegal_first(agent: RemoteAgent, request: RequestFrame) -> None:
        if len(agent.requests) == 1:
            bad = {
                "type": "act",
                "phase_id": request.phase_id,
                "action": {"kind": "vote", "target": "Nobody"},
            }
            assert agent.client._link is not None
            agent.client._link.send(bad)  # rejected and faulted; the legal answer follows

    def sleep_through_first(agent: RemoteAgent, request: RequestFrame) -> None:
        if not missed_once:
            missed_once.append(request.phase_id)
            assert watch.missed.wait(WAIT_S + short_s), "the deadline never passed"

    def responder(request: dict[str, Any], n: int) -> Reply:
        if n == 0:
            return Reply(content="Sure! I vote for")  # not JSON: faulted, re-asked
        if n == 2:
            return Reply(status=503, content="overloaded")
        return Reply(content=valid_content(request, n))

    with running_fake(responder) as fake:
        llm_agent = LLMAgent(
            LLMSettings(model=KNOWN_MODEL, host=fake.url, timeout_s=short_s),
            CONFIG,
            persona=PERSONAS[0],
            fallback=HeuristicAgent(0),
        )
        local: dict[str, Any] = {
            crasher: CrashingAgent(RandomAgent(1), crash_at=2),
            llm: llm_agent,
            "Fabien": RandomAgent(2),
            "Gaelle": RandomAgent(3),
            "Hugo": RandomAgent(4),
        }
        hosted: Hosted = host_game(
            server,
            CONFIG,
            seed=31,
            remote={killed: kill_at_second, illegal: illegal_first, late: sleep_through_first},
            local=local,
            timeout_s=short_s,
            grace_s=GRACE_S,
            log_path=tmp_path / "game.jsonl",
            full=watch,
            roles=MIXED_ROLES,
        )
    finished = hosted.finished
    assert_valid_outcome(finished)
    reasons = faulted(finished)
    assert reasons[killed] == [f"agent failed: disconnected for more than {GRACE_S:g} s"]
    assert len(reasons[illegal]) == 1
    assert reasons[illegal][0].startswith("illegal answer: ")
    assert reasons[late] == ["no action before the deadline"]
    assert reasons[crasher] == ["agent failed: RuntimeError: boom at decision 2"]
    assert reasons[llm][0].startswith("invalid reply (attempt 1): ")
    assert "Ollama error 503: overloaded; the built-in agent decided" in reasons[llm]
    assert set(reasons) == {killed, illegal, late, crasher, llm}
    assert_faults_only(finished, {p: len(r) for p, r in reasons.items()})
    lines = assert_log_matches(tmp_path / "game.jsonl", finished)
    # The log says more than the record: the late answer and the illegal one, with their status.
    answers = [line for line in lines if line["kind"] == "answer"]
    assert any(a["player"] == illegal and a["status"] == "rejected" for a in answers)
    # The late answer was refused, and not as a fault: by the game ("phase N is over", logged as
    # late) if it came before the next request, else by the seat (stale_phase) before the game.
    late_client = hosted.agents[late].client
    refused_by_game = [a for a in answers if a["player"] == late and a["status"] == "late"]
    if refused_by_game:
        assert [r.reason for r in late_client.rejections] == [f"phase {missed_once[0]} is over"]
    else:
        assert [(e.code, e.closing) for e in late_client.errors] == [("stale_phase", False)]
    assert {line["player"] for line in lines if line["kind"] == "agent_failed"} == {killed, crasher}
    for player in (illegal, late):
        assert_agent_saw_its_audience(hosted, hosted.agents[player])


# ---------------------------------------------------------------------------------------- (f) after the end


def finished_game(log_path: Path) -> tuple[Any, Collector, dict[PlayerId, InstantSeat]]:
    """A game of instant seats played to its end (manual clock: no deadline ever fires by itself)."""
    config = preset("aiwolf-5")
    seats = {p: InstantSeat(RandomAgent(i)) for i, p in enumerate(config.players)}
    watcher = Collector()
    running = start_game(
        config,
        seats,
        seed=1,
        scheduler=ManualScheduler(),
        observers=[(watcher, FULL_VIEW)],
        log_path=log_path,
    )
    running.wait(WAIT_S)
    return running, watcher, seats


LATE = {
    "a second answer to the last phase (an agent answering twice, a slow LLM seat)": "answer",
    "the last phase's deadline, already queued when its last answer came": "deadline",
    "a remote seat given up after the end (its grace timer raced the game_over)": "agent_failed",
}


@pytest.mark.parametrize("what", list(LATE.values()), ids=list(LATE))
def test_a_message_after_the_end_is_dropped_and_the_game_master_survives(tmp_path, what):
    """Found by bench.many_games: any message handled after the end finished the game again (a second
    GameFinished to everyone), then `RunningGame.done.set` raised queue.Full and the game master died
    (fixed in 68e3054)."""
    running, watcher, seats = finished_game(tmp_path / "game.jsonl")
    try:
        last = max((r for seat in seats.values() for r in seat.requests), key=lambda r: r.deadline)
        message: Any = {
            "answer": SubmitAction(
                game_id=running.game_id, phase_id=last.phase_id, player=last.player, action=Abstain()
            ),
            "deadline": DeadlineReached(game_id=running.game_id, phase_id=last.phase_id),
            "agent_failed": AgentFailed(
                game_id=running.game_id, phase_id=last.phase_id, player=last.player, error="gone"
            ),
        }[what]
        running.master.tell(message)
        # Handled in order: if the message killed the game master, this ask fails with ActorDeadError.
        alive = True
        try:
            running.master.ask("are you there?", timeout=WAIT_S)
        except pykka.ActorDeadError:
            alive = False
        told = [m for m in watcher.messages if isinstance(m, GameFinished)]
        seat_told = [m for m in seats[last.player].messages if isinstance(m, GameFinished)]
    finally:
        running.stop()
    assert alive, "the game master died on a message that came after the end"
    assert len(told) == 1, f"the full view was told GameFinished {len(told)} times"
    assert len(seat_told) == 1
    assert_log_matches(tmp_path / "game.jsonl", told[0])
