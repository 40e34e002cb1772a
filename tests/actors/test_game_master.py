"""The game master through real actors: outcomes, audiences, deadlines, late/illegal answers, crashes."""

from __future__ import annotations

import threading

import pykka
import pytest

from actors.agents import RandomAgent
from actors.game_master import GameMasterActor
from actors.messages import (
    FULL_VIEW,
    PUBLIC_VIEW,
    ActionRejected,
    AgentReport,
    DeadlineReached,
    Deliver,
    GameFinished,
    RequestAction,
    SubmitAction,
    Usage,
)
from actors.player import PlayerActor
from actors.runner import play_game, start_game
from actors.scheduler import ManualScheduler, ThreadingScheduler
from actors.scripted import ScriptedAgent, ScriptStep
from engine import (
    Abstain,
    Game,
    GameConfig,
    Inspect,
    Phase,
    PlayerId,
    Role,
    Speak,
    Team,
    Vote,
    event_to_dict,
    preset,
)
from engine.events import PlayerFaulted
from tests.fakes import Collector, CrashingAgent, InstantSeat, ShownAgent, SilentSeat

WAIT = 20.0  # seconds: generous bound for a whole game of instant agents on a loaded 2-core machine


def _audience_ok(event: dict, player: str, wolves: set[str]) -> bool:
    audience = event["audience"]
    if audience == "public":
        return True
    if audience == "wolves":
        return player in wolves
    return audience == f"player:{player}"


def _audiences(record: dict) -> tuple[list[dict], set[str]]:
    ended = next(e for e in record["events"] if e["type"] == "game_ended")
    wolves = {p for p, r in dict(ended["roles"]).items() if r == "werewolf"}
    return record["events"], wolves


@pytest.mark.parametrize("name", ["classic-8", "aiwolf-5", "aiwolf-13", "agentscope-9"])
def test_full_game_each_agent_is_shown_exactly_its_audience(name):
    config = preset(name)
    agents = {p: ShownAgent(RandomAgent(i)) for i, p in enumerate(config.players)}
    public, full = Collector(), Collector()
    running = start_game(config, agents, seed=7, observers=[(public, PUBLIC_VIEW), (full, FULL_VIEW)])
    try:
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    events, wolves = _audiences(finished.record)
    for player, agent in agents.items():
        expected = [e for e in events if _audience_ok(e, player, wolves)]
        sizes = [len(obs.events) for obs in agent.shown]
        assert sizes == sorted(sizes), player  # each request shows all that came before it
        for obs in agent.shown:  # and never anything outside the seat's audience
            assert [event_to_dict(e) for e in obs.events] == expected[: len(obs.events)], player
    assert sum(len(agent.shown) for agent in agents.values()) == sum(
        1 for i in finished.record["inputs"] if "player" in i
    )  # every answer came from what its agent was shown (a seat killed on night 1 may never be asked)
    assert [event_to_dict(e) for e in public.events] == [e for e in events if e["audience"] == "public"]
    assert [event_to_dict(e) for e in full.events] == events
    assert public.finished.is_set()


def test_seats_that_are_not_local_agents_receive_exactly_their_audience_in_sequence():
    config = preset("classic-8")
    seats = {p: InstantSeat(RandomAgent(i)) for i, p in enumerate(config.players)}
    finished = play_game(config, seats, seed=5, wait_s=WAIT)
    assert finished.outcome is not None
    events, wolves = _audiences(finished.record)
    for player, seat in seats.items():
        expected = [e for e in events if _audience_ok(e, player, wolves)]
        assert [event_to_dict(e) for e in seat.events] == expected, player
        delivers = [m for m in seat.messages if isinstance(m, Deliver)]
        assert [d.first_seq for d in delivers] == [
            sum(len(d.events) for d in delivers[:i]) for i in range(len(delivers))
        ]
        assert isinstance(seat.messages[-1], GameFinished)


class TracingPlayerActor(PlayerActor):
    """A local seat that notes the kind of every message it is sent."""

    def __init__(self, player: PlayerId, agent: RandomAgent, kinds: list[str]) -> None:
        super().__init__(player, agent)
        self._kinds = kinds

    def on_receive(self, message: object) -> None:
        self._kinds.append(type(message).__name__)
        super().on_receive(message)


def test_local_agent_seats_are_sent_requests_not_events():
    # Everything a local agent knows comes in each RequestAction's observation: waking its thread with
    # every batch of events would only cost time.
    config = preset("aiwolf-5")
    kinds: list[str] = []
    seats = {p: TracingPlayerActor.start(p, RandomAgent(i), kinds) for i, p in enumerate(config.players)}
    scheduler = ThreadingScheduler()
    done: pykka.ThreadingFuture[GameFinished] = pykka.ThreadingFuture()
    master = GameMasterActor.start(
        Game.new(config, seed=5), seats, scheduler=scheduler, timeout_s=30, on_finished=done.set
    )
    try:
        assert done.get(timeout=WAIT).outcome is not None
    finally:
        for ref in (master, *seats.values()):
            ref.stop(block=True, timeout=5)
        scheduler.close()
    assert "RequestAction" in kinds
    assert set(kinds) <= {"RequestAction", "ActionRejected"}


def test_deliver_sequence_numbers_are_contiguous_per_view():
    config = preset("aiwolf-5")
    public = Collector()
    finished = play_game(
        config,
        {p: RandomAgent(i) for i, p in enumerate(config.players)},
        seed=3,
        observers=[(public, PUBLIC_VIEW)],
        wait_s=WAIT,
    )
    assert finished.outcome is not None
    delivers = [m for m in public.messages if isinstance(m, Deliver)]
    expected = 0
    for d in delivers:
        assert d.first_seq == expected
        expected += len(d.events)


def _drive(
    scheduler: ManualScheduler, done: threading.Event | pykka.ThreadingFuture, limit: int = 500
) -> int:
    """Fire deadlines one batch at a time until the game is over; bounded, no sleeping."""
    fired = 0
    for _ in range(limit):
        if isinstance(done, threading.Event) and done.is_set():
            return fired
        if not scheduler.wait_pending(5):
            return fired
        fired += scheduler.fire_all()
    raise AssertionError("game did not end within the deadline budget")


def test_silent_seat_defaults_at_each_deadline_and_faults_only_that_seat():
    config = preset("aiwolf-5")
    silent = PlayerId("Alice")
    seats = {
        p: (SilentSeat() if p == silent else InstantSeat(RandomAgent(i)))
        for i, p in enumerate(config.players)
    }
    scheduler = ManualScheduler()
    watcher = Collector()
    running = start_game(config, seats, seed=11, scheduler=scheduler, observers=[(watcher, FULL_VIEW)])
    try:
        _drive(scheduler, watcher.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    faults = finished.faults
    assert faults[silent] > 0
    assert all(n == 0 for p, n in faults.items() if p != silent)
    faulted = [e for e in watcher.events if isinstance(e, PlayerFaulted)]
    assert {e.player for e in faulted} == {silent}
    assert all(e.reason == "no action before the deadline" for e in faulted)


class ClockFiringSeat(InstantSeat):
    """Fires every pending timer of the manual clock when asked to act, before answering: a deadline
    that comes due while the game master is still sending the phase's requests."""

    def __init__(self, agent: RandomAgent, scheduler: ManualScheduler) -> None:
        super().__init__(agent)
        self.scheduler = scheduler

    def tell(self, message: object) -> None:
        if isinstance(message, RequestAction):
            self.scheduler.fire_all()
        super().tell(message)


def test_a_deadline_cannot_overtake_answers_given_while_the_requests_go_out():
    """The phase's deadline is armed once every request is out: the seats that answered at once are
    never faulted by a deadline that fired in between (it used to be armed first)."""
    config = preset("aiwolf-5")
    scheduler = ManualScheduler()
    seats = {p: ClockFiringSeat(RandomAgent(i), scheduler) for i, p in enumerate(config.players)}
    watcher = Collector()
    running = start_game(config, seats, seed=11, scheduler=scheduler, observers=[(watcher, FULL_VIEW)])
    try:
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    assert all(n == 0 for n in finished.faults.values())
    assert not [e for e in watcher.events if isinstance(e, PlayerFaulted)]


def test_late_answer_for_a_finished_phase_is_dropped():
    config = preset("aiwolf-5")
    silent = PlayerId("Bruno")
    seats = {
        p: (SilentSeat() if p == silent else InstantSeat(RandomAgent(i)))
        for i, p in enumerate(config.players)
    }
    scheduler = ManualScheduler()
    watcher = Collector()
    roles = {"Alice": Role.WEREWOLF, "Bruno": Role.SEER, "Chloe": Role.POSSESSED}
    roles |= {"Damien": Role.VILLAGER, "Elise": Role.VILLAGER}
    running = start_game(
        config, seats, seed=5, scheduler=scheduler, roles=roles, observers=[(watcher, FULL_VIEW)]
    )
    try:
        assert scheduler.wait_pending(5)  # night 1 waits for the silent seer
        first_request = seats[silent].requests[0]
        scheduler.fire_all()  # the phase ends with Bruno's default
        # The late answer, for the phase that is over: must change nothing.
        running.master.tell(
            SubmitAction(
                game_id=running.game_id, phase_id=first_request.phase_id, player=silent, action=Abstain()
            )
        )
        # A stale deadline for that same phase must be ignored too.
        running.master.tell(DeadlineReached(game_id=running.game_id, phase_id=first_request.phase_id))
        _drive(scheduler, watcher.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    inputs = finished.record["inputs"]
    late = [i for i in inputs if i.get("player") == silent]
    assert late == []  # Bruno never got an action in: the late one was dropped
    assert finished.outcome is not None


class IllegalFirstAgent:
    """Answers its first request with an inspection of itself (illegal), then plays randomly."""

    def __init__(self) -> None:
        self.inner = RandomAgent(0)
        self.calls = 0

    def decide(self, observation, choices):
        self.calls += 1
        if self.calls == 1:
            return Inspect(observation.player)
        return self.inner.decide(observation, choices)


def test_illegal_answer_is_rejected_faulted_and_defaulted_at_the_deadline():
    config = GameConfig.build({"werewolf": 1, "seer": 1}, players=4)
    roles = {"Alice": Role.WEREWOLF, "Bruno": Role.SEER, "Chloe": Role.VILLAGER, "Damien": Role.VILLAGER}
    seats = {p: InstantSeat(RandomAgent(i)) for i, p in enumerate(config.players)}
    seats["Bruno"] = InstantSeat(IllegalFirstAgent())
    scheduler = ManualScheduler()
    watcher = Collector()
    running = start_game(
        config, seats, seed=1, scheduler=scheduler, roles=roles, observers=[(watcher, FULL_VIEW)]
    )
    try:
        _drive(scheduler, watcher.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    rejections = [m for m in seats["Bruno"].messages if isinstance(m, ActionRejected)]
    assert len(rejections) == 1
    assert "not allowed" in rejections[0].reason
    faults = [e for e in watcher.events if isinstance(e, PlayerFaulted)]
    assert [(f.player, f.reason.split(":")[0]) for f in faults] == [
        ("Bruno", "illegal answer"),
        ("Bruno", "no action before the deadline"),
    ]
    assert faults[0].phase_id == faults[1].phase_id == rejections[0].phase_id
    assert finished.outcome is not None


def test_crashing_agent_is_isolated_and_the_game_finishes():
    config = preset("classic-8")
    crasher = PlayerId("Chloe")
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    agents[crasher] = CrashingAgent(RandomAgent(99), crash_at=2)
    watcher = Collector()
    finished = play_game(config, agents, seed=2, observers=[(watcher, FULL_VIEW)], wait_s=WAIT)
    assert finished.outcome is not None
    faults = [e for e in watcher.events if isinstance(e, PlayerFaulted)]
    assert faults
    assert {f.player for f in faults} == {crasher}
    assert "agent failed: RuntimeError: boom at decision 2" in faults[0].reason


def test_scripted_agent_mismatch_faults_naming_the_step():
    config = GameConfig.build({"werewolf": 1, "seer": 1}, players=4)
    roles = {"Alice": Role.WEREWOLF, "Bruno": Role.SEER, "Chloe": Role.VILLAGER, "Damien": Role.VILLAGER}
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    # The seer's script expects to speak first, but the game opens at night: step 1 fails loudly.
    agents["Bruno"] = ScriptedAgent([ScriptStep(Speak("hello"), Phase.DISCUSSION)], name="seer.toml")
    watcher = Collector()
    finished = play_game(config, agents, seed=4, roles=roles, observers=[(watcher, FULL_VIEW)], wait_s=WAIT)
    assert finished.outcome is not None
    faults = [e for e in watcher.events if isinstance(e, PlayerFaulted) and e.player == "Bruno"]
    assert (
        "seer.toml: step 1 expects the discussion phase, the game asked in the night phase"
        in faults[0].reason
    )


def test_scripted_game_drives_an_exact_scenario():
    """Seer finds the wolf on night 1; everyone votes the wolf on day 1; the village wins on day 1."""
    config = GameConfig.build({"werewolf": 1, "seer": 1}, players=4, rules=preset("aiwolf-5").rules)
    roles = {"Alice": Role.WEREWOLF, "Bruno": Role.SEER, "Chloe": Role.VILLAGER, "Damien": Role.VILLAGER}
    talk = [ScriptStep(Abstain(), Phase.DISCUSSION)] * 3
    agents = {
        "Alice": ScriptedAgent(["night: kill Chloe", *talk, "vote: vote Bruno"]),
        "Bruno": ScriptedAgent(["night: inspect Alice", *talk, "vote: vote Alice"]),
        "Damien": ScriptedAgent([*talk, ScriptStep(Vote(PlayerId("Alice")), Phase.VOTE)]),
        "Chloe": ScriptedAgent([]),  # dies in the night: never asked
    }
    finished = play_game(config, agents, seed=0, roles=roles, wait_s=WAIT)
    assert finished.outcome is not None
    assert finished.outcome.winner is Team.VILLAGE
    assert finished.outcome.day == 1
    assert all(n == 0 for n in finished.faults.values())


def test_aborted_game_reports_to_subscribers():
    config = preset("aiwolf-5")
    seats = {p: SilentSeat() for p in config.players}
    scheduler = ManualScheduler()
    watcher = Collector()
    running = start_game(config, seats, seed=1, scheduler=scheduler, observers=[(watcher, PUBLIC_VIEW)])
    running.master.stop()
    finished = running.wait(WAIT)
    running.stop()
    assert finished.outcome is None
    assert watcher.finished.is_set()
    assert any(isinstance(m, GameFinished) for m in watcher.messages)


class _DiesAtTheEnd(Collector):
    """A subscriber whose actor is gone by the time the game ends: `GameFinished` finds it dead."""

    def tell(self, message: object) -> None:
        if isinstance(message, GameFinished):
            raise pykka.ActorDeadError("gone")
        super().tell(message)


def test_a_dead_subscriber_does_not_hide_the_end_from_the_next_one():
    config = preset("aiwolf-5")
    seats = {p: SilentSeat() for p in config.players}
    dead, live = _DiesAtTheEnd(), Collector()
    running = start_game(
        config,
        seats,
        seed=1,
        scheduler=ManualScheduler(),
        observers=[(dead, PUBLIC_VIEW), (live, PUBLIC_VIEW)],
    )
    running.master.stop()
    running.wait(WAIT)  # returns once GameFinished has been told to every subscriber
    running.stop()
    assert live.finished.is_set(), "the subscriber after a dead one never got GameFinished"
    assert all(seat.finished.is_set() for seat in seats.values())


def test_game_finished_carries_every_role_once_the_game_is_over():
    config = preset("aiwolf-5")
    finished = play_game(
        config, {p: RandomAgent(i) for i, p in enumerate(config.players)}, seed=4, wait_s=WAIT
    )
    ended = next(e for e in finished.record["events"] if e["type"] == "game_ended")
    assert finished.roles == {PlayerId(p): Role(r) for p, r in ended["roles"]}
    assert list(finished.roles) == list(config.players)


def test_an_aborted_game_reveals_no_role():
    config = preset("aiwolf-5")
    running = start_game(
        config, {p: SilentSeat() for p in config.players}, seed=1, scheduler=ManualScheduler()
    )
    running.master.stop()
    finished = running.wait(WAIT)
    running.stop()
    assert finished.outcome is None
    assert finished.roles == {}


class _Reporter:
    """A local agent that reports a fault, reasoning and usage with every answer."""

    def __init__(self, seed: int) -> None:
        self.inner = RandomAgent(seed)
        self.decisions = 0
        self.last_report: AgentReport | None = None

    def decide(self, observation, choices):
        self.decisions += 1
        self.last_report = AgentReport(
            faults=(f"slow #{self.decisions}",),
            reasoning=f"because #{self.decisions}",
            usage=Usage(calls=1, prompt_tokens=10, latency_s=0.5),
        )
        return self.inner.decide(observation, choices)


def test_an_agents_report_becomes_faults_reasoning_and_usage():
    config = preset("aiwolf-5")
    reporter = _Reporter(0)
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    agents[config.players[0]] = reporter
    finished = play_game(config, agents, seed=4, wait_s=WAIT)
    alice = config.players[0]
    n = reporter.decisions
    assert n > 0
    assert finished.faults[alice] == n
    faulted = [e["reason"] for e in finished.record["events"] if e["type"] == "player_faulted"]
    assert faulted == [f"slow #{i}" for i in range(1, n + 1)]
    reasoned = [e for e in finished.record["events"] if e["type"] == "reasoned"]
    assert [e["text"] for e in reasoned] == [f"because #{i}" for i in range(1, n + 1)]
    assert finished.usage == {
        alice: {
            "calls": n,
            "retries": 0,
            "prompt_tokens": 10 * n,
            "completion_tokens": 0,
            "latency_s": 0.5 * n,
        }
    }


class _Thinker(_Reporter):
    """A local agent whose model thinks before answering (a reasoning model's `thinking`)."""

    def decide(self, observation, choices):
        action = super().decide(observation, choices)
        self.last_report = AgentReport(thinking=f"hmm #{self.decisions}", reasoning=f"so #{self.decisions}")
        return action


def test_a_seats_thinking_becomes_private_reasoning_for_the_game_master_only():
    config = preset("aiwolf-5")
    thinker = _Thinker(0)
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    agents[config.players[0]] = thinker
    finished = play_game(config, agents, seed=4, wait_s=WAIT)
    n = thinker.decisions
    reasoned = [e for e in finished.record["events"] if e["type"] == "reasoned"]
    expected = [text for i in range(1, n + 1) for text in (f"(thinking) hmm #{i}", f"so #{i}")]
    assert [e["text"] for e in reasoned] == expected
    assert {e["audience"] for e in reasoned} == {"game_master"}
