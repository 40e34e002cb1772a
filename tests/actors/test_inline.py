"""Instant agents play in the game master's thread; thinking agents keep a thread of their own.

An instant seat must behave exactly like a threaded one (same requests, same answers, same faults,
same record); a thinking seat that blocks must hold up neither the game master nor another seat.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from actors.agents import Agent, RandomAgent
from actors.heuristic import HeuristicAgent
from actors.inline import InlineSeat, is_instant
from actors.messages import (
    FULL_VIEW,
    ActionRejected,
    AgentFailed,
    AgentReport,
    GameFinished,
    RequestAction,
    SubmitAction,
)
from actors.player import PlayerActor
from actors.runner import play_game, start_game
from actors.scheduler import ManualScheduler
from actors.scripted import ScriptedAgent
from engine import Action, Choice, Game, GameConfig, Observation, PlayerId, Role, Vote, preset
from engine.events import ActionRecorded, Event, PlayerFaulted
from tests.fakes import Collector, CrashingAgent

WAIT = 20.0  # seconds: generous bound for a whole game on a loaded 2-core machine
CONFIG = preset("classic-8")
#: The night awaits Bruno (seer), Damien and Gaelle (wolves) and Elise (doctor) at once.
ROLES = {
    "Alice": Role.VILLAGER,
    "Bruno": Role.SEER,
    "Chloe": Role.VILLAGER,
    "Damien": Role.WEREWOLF,
    "Elise": Role.DOCTOR,
    "Fabien": Role.VILLAGER,
    "Gaelle": Role.WEREWOLF,
    "Hugo": Role.VILLAGER,
}


class Instant:
    """Plays like `inner` and declares itself instant; notes the thread of each decision."""

    instant = True

    def __init__(self, inner: Agent) -> None:
        self.inner = inner
        self.threads: list[str] = []

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.threads.append(threading.current_thread().name)
        return self.inner.decide(observation, choices)


class Thinking(Instant):
    """The same, but not instant: it gets a `PlayerActor`."""

    instant = False


class Blocking:
    """A thinking agent whose decisions wait until the test sets `release` (bounded by WAIT)."""

    def __init__(self, inner: Agent) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.entered.set()
        self.release.wait(WAIT)
        self.returned.set()
        return self.inner.decide(observation, choices)


class InstantCrashing(CrashingAgent):
    instant = True


class InstantIllegal:
    """Instant; votes for a player who is not on the menu at its first vote, plays `inner` otherwise."""

    instant = True

    def __init__(self, inner: Agent) -> None:
        self.inner = inner
        self.cheated = False

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        if not self.cheated and any(c.kind.value == "vote" for c in choices):
            self.cheated = True
            return Vote(PlayerId("Nobody"))
        return self.inner.decide(observation, choices)


class BrokenReport(RandomAgent):
    """Instant; reading its report raises (a threaded seat's actor would crash)."""

    instant = True

    @property
    def last_report(self) -> AgentReport | None:
        raise RuntimeError("report unreadable")


class GatedRandom(RandomAgent):
    """A subclass of an instant agent whose own `decide` may block: it does not inherit the claim."""

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        threading.Event().wait(0)  # stands for waiting on something
        return super().decide(observation, choices)


class GatedRandomClaimed(GatedRandom):
    """The same, restating the claim for its own `decide`."""

    instant = True


def _faults(events: list[Event], player: str) -> list[str]:
    return [e.reason for e in events if isinstance(e, PlayerFaulted) and e.player == player]


def test_the_built_in_agents_are_instant_and_wrappers_are_not():
    assert is_instant(RandomAgent(1))
    assert is_instant(HeuristicAgent(1))
    assert is_instant(ScriptedAgent([]))
    assert not is_instant(CrashingAgent(RandomAgent(1)))  # a wrapper does not inherit the claim
    assert not is_instant(Thinking(RandomAgent(1)))
    assert not is_instant(GatedRandom(1))  # overrides `decide` without restating the claim
    assert is_instant(GatedRandomClaimed(1))
    assert is_instant(BrokenReport(1))  # `decide` is still RandomAgent's


def played(agents: dict[PlayerId, Agent], **options: Any) -> tuple[GameFinished, dict[PlayerId, Any]]:
    """Play a game of `agents` (seed 3) to its end: how it finished, and the seats given a `PlayerActor`."""
    running = start_game(CONFIG, agents, seed=3, **options)
    try:
        finished = running.wait(WAIT)
        players = dict(running.players)
    finally:
        running.stop()
    return finished, players


def test_a_subclass_that_overrides_decide_keeps_a_thread_of_its_own():
    agents: dict[PlayerId, Agent] = {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}
    agents[PlayerId("Bruno")] = GatedRandom(1)
    _, players = played(agents, roles=ROLES)
    assert list(players) == ["Bruno"]


def test_instant_agents_decide_in_the_game_masters_thread_and_start_no_thread_of_their_own():
    agents = {p: Instant(RandomAgent(i)) for i, p in enumerate(CONFIG.players)}
    finished, players = played(agents)
    assert finished.outcome is not None
    assert players == {}
    threads = {name for agent in agents.values() for name in agent.threads}
    assert len(threads) == 1
    assert threads.pop().startswith("GameMasterActor-")


def test_a_thinking_agent_keeps_its_own_player_actor():
    agents: dict[PlayerId, Agent] = {p: Instant(RandomAgent(i)) for i, p in enumerate(CONFIG.players)}
    thinker = Thinking(RandomAgent(99))
    agents[PlayerId("Bruno")] = thinker
    _, players = played(agents, roles=ROLES)
    assert list(players) == ["Bruno"]
    assert thinker.threads
    assert {t.split("-")[0] for t in thinker.threads} == {"PlayerActor"}


def test_without_inlining_every_agent_gets_its_own_player_actor():
    agents = {p: Instant(RandomAgent(i)) for i, p in enumerate(CONFIG.players)}
    _, players = played(agents, inline=False)
    assert list(players) == list(CONFIG.players)
    asked = [set(a.threads) for a in agents.values() if a.threads]  # a seat killed first is never asked
    assert all(len(threads) == 1 for threads in asked)
    assert len(set.union(*asked)) == len(asked)


def test_a_blocked_thinking_seat_holds_up_neither_the_game_master_nor_the_other_seats():
    """Bruno blocks in the first night; the wolves (inline) and the doctor (own thread) answer, the
    game master records their actions, and at the deadline it plays Bruno's default and moves on."""
    agents: dict[PlayerId, Agent] = {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}
    blocker = Blocking(RandomAgent(50))
    agents[PlayerId("Bruno")] = blocker
    agents[PlayerId("Elise")] = Thinking(RandomAgent(51))
    scheduler, full = ManualScheduler(), Collector()
    running = start_game(
        CONFIG, agents, seed=3, roles=ROLES, scheduler=scheduler, timeout_s=30, observers=[(full, FULL_VIEW)]
    )
    try:
        assert blocker.entered.wait(WAIT)

        def recorded(events: list[Event]) -> set[str]:
            return {e.player for e in events if isinstance(e, ActionRecorded)}

        assert full.wait_for(lambda events: {"Damien", "Gaelle", "Elise"} <= recorded(events), WAIT)
        assert "Bruno" not in recorded(full.events)
        assert scheduler.fire_all() == 1  # the night's deadline, while Bruno still blocks
        assert full.wait_for(lambda events: "no action before the deadline" in _faults(events, "Bruno"), WAIT)
        assert full.wait_for(lambda events: any(e.type == "day_broke" for e in events), WAIT)
        assert not blocker.returned.is_set()  # all of this happened while Bruno was still deciding
    finally:
        blocker.release.set()
        running.stop()
    assert _faults(full.events, "Bruno")[0] == "no action before the deadline"
    assert not any(_faults(full.events, p) for p in ("Damien", "Gaelle", "Elise"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("config", [preset("classic-8"), preset("aiwolf-5")], ids=lambda c: c.name)
def test_instant_seats_play_the_same_game_as_threaded_seats(config: GameConfig, seed: int):
    """Same seed, same agents: the same requests, hence the same record as a thread per seat."""
    records = []
    for inline in (True, False):
        agents = {p: RandomAgent(seed * 100 + i) for i, p in enumerate(config.players)}
        finished = play_game(config, agents, seed=seed, wait_s=WAIT, inline=inline)
        assert finished.outcome is not None
        records.append(_canonical(finished.record))
    assert records[0] == records[1]


def _canonical(record: dict[str, Any]) -> dict[str, Any]:
    """The record with each run of simultaneous answers in seat order: threaded answers arrive in
    whatever order their threads finish, and the engine records (and acknowledges) arrival order."""
    return {
        **record,
        "inputs": _sorted_runs(record["inputs"], lambda i: "player" in i),
        "events": _sorted_runs(record["events"], lambda e: e["type"] == "action_recorded"),
    }


def _sorted_runs(items: list[dict[str, Any]], in_run: Callable[[dict[str, Any]], bool]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for item in items:
        if in_run(item):
            run.append(json.dumps(item, sort_keys=True))
            continue
        out += sorted(run)
        run = []
        out.append(json.dumps(item, sort_keys=True))
    return out + sorted(run)


def _request(player: PlayerId, reply_to: Collector, phase_id: int = 1) -> RequestAction:
    game = Game.with_roles(CONFIG, ROLES, seed=3)
    return RequestAction(
        game_id="g",
        phase_id=phase_id,
        player=player,
        observation=game.observe(player),
        choices=game.legal_actions(player),
        deadline=30.0,
        reply_to=reply_to,
    )


def _replies_inline(agent: Agent, requests: int) -> list[Any]:
    collector = Collector()
    seat = InlineSeat(PlayerId("Bruno"), agent)
    for phase in range(requests):
        seat.tell(_request(PlayerId("Bruno"), collector, phase))
    return collector.messages


def _replies_threaded(agent: Agent, requests: int) -> list[Any]:
    collector = Collector()
    ref = PlayerActor.start(PlayerId("Bruno"), agent)
    try:
        for phase in range(requests):
            ref.tell(_request(PlayerId("Bruno"), collector, phase))
    finally:
        ref.stop(block=True, timeout=WAIT)  # queued behind the requests: they are all answered
    return collector.messages


def _untimed(messages: list[Any]) -> list[Any]:
    return [
        SubmitAction(**{**{f: getattr(m, f) for f in m.__slots__}, "thought_s": 0.0})
        if isinstance(m, SubmitAction)
        else m
        for m in messages
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomAgent(7),
        lambda: CrashingAgent(RandomAgent(7), crash_at=2),
        lambda: InstantIllegal(RandomAgent(7)),
    ],
    ids=["random", "raises", "illegal"],
)
def test_an_inline_seat_answers_exactly_as_a_player_actor(make: Callable[[], Agent]):
    assert _untimed(_replies_inline(make(), 3)) == _untimed(_replies_threaded(make(), 3))


def test_an_inline_seat_whose_agent_raises_answers_once_with_agent_failed():
    replies = _replies_inline(InstantCrashing(RandomAgent(7), crash_at=2), 3)
    assert [type(m) for m in replies] == [SubmitAction, AgentFailed]
    assert replies[1].error == "RuntimeError: boom at decision 2"


def test_an_inline_seat_whose_report_cannot_be_read_fails_instead_of_the_game_master():
    (reply,) = _replies_inline(BrokenReport(7), 2)
    assert isinstance(reply, AgentFailed)
    assert reply.error == "seat crashed: RuntimeError('report unreadable')"


def test_an_inline_seat_keeps_the_reasons_of_its_rejected_answers():
    seat = InlineSeat(PlayerId("Bruno"), RandomAgent(1))
    seat.tell(ActionRejected(game_id="g", phase_id=1, player=PlayerId("Bruno"), reason="late"))
    assert seat.rejections == ["late"]


def _drive(scheduler: ManualScheduler, done: threading.Event) -> None:
    """Fire each phase's deadline until the game ends. Every seat is inline, so each phase's answers
    are in the game master's mailbox before its deadline is armed: firing never overtakes one."""
    give_up = time.monotonic() + WAIT
    while time.monotonic() < give_up:
        if done.is_set():
            return
        if scheduler.wait_pending(0.05):
            scheduler.fire_all()
    raise AssertionError("the game did not end")


def test_an_instant_agent_that_raises_or_answers_illegally_faults_and_plays_defaults():
    agents: dict[PlayerId, Agent] = {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}
    agents[PlayerId("Damien")] = InstantCrashing(RandomAgent(1), crash_at=1)
    agents[PlayerId("Chloe")] = InstantIllegal(RandomAgent(2))
    scheduler, full = ManualScheduler(), Collector()
    running = start_game(
        CONFIG, agents, seed=4, roles=ROLES, scheduler=scheduler, observers=[(full, FULL_VIEW)]
    )
    try:
        assert running.players == {}
        _drive(scheduler, full.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    damien, chloe = _faults(full.events, "Damien"), _faults(full.events, "Chloe")
    assert damien == ["agent failed: RuntimeError: boom at decision 1"]  # then defaults, no deadline fault
    if chloe:  # Chloe lived to vote: her illegal vote is a fault, and the deadline another
        assert chloe[0].startswith("illegal answer: ")
        assert chloe[1:2] == ["no action before the deadline"]
    assert finished.faults["Damien"] == 1
