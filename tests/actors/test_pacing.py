"""Per-seat deadlines (a person's seat gets more time) and pacing (`pace_s`: a minimum time per phase,
so a game of instantaneous agents can be watched). Time is the manual clock: nothing sleeps."""

from __future__ import annotations

import itertools
import threading

from actors.agents import RandomAgent
from actors.messages import FULL_VIEW, RequestAction
from actors.runner import start_game
from actors.scheduler import ManualScheduler
from engine import Phase, PlayerId, Role, preset
from tests.fakes import Collector, InstantSeat, SilentSeat

WAIT = 20.0
ROLES = {"Alice": Role.WEREWOLF, "Bruno": Role.SEER, "Chloe": Role.POSSESSED}
ROLES |= {"Damien": Role.VILLAGER, "Elise": Role.VILLAGER}


class ClockedSeat(InstantSeat):
    """Answers at once, and notes the manual clock's time of each request."""

    def __init__(
        self, agent: RandomAgent, scheduler: ManualScheduler, times: list[tuple[float, RequestAction]]
    ) -> None:
        super().__init__(agent)
        self.scheduler = scheduler
        self.times = times

    def tell(self, message: object) -> None:
        if isinstance(message, RequestAction):
            self.times.append((self.scheduler.now(), message))
        super().tell(message)


def _run_to_end(scheduler: ManualScheduler, done: threading.Event, limit: int = 2000) -> None:
    """Move the clock to the next due timer until the game is over; bounded, no sleeping."""
    for _ in range(limit):
        if done.is_set():
            return
        if not scheduler.wait_pending(5):
            if done.is_set():
                return
            raise AssertionError("the game waits for nothing and does not end")
        scheduler.advance(0) or scheduler.advance(_next_due(scheduler))
    raise AssertionError("game did not end within the budget")


def _next_due(scheduler: ManualScheduler) -> float:
    with scheduler._lock:
        due = min((e.due for e in scheduler._heap.entries if not e.cancelled), default=scheduler.now())
    return max(0.0, due - scheduler.now())


def test_a_seat_with_its_own_deadline_gets_it_and_the_others_keep_theirs():
    config = preset("aiwolf-5")
    scheduler = ManualScheduler()
    person = PlayerId("Bruno")
    times: list[tuple[float, RequestAction]] = []
    seats: dict[PlayerId, InstantSeat] = {
        p: ClockedSeat(RandomAgent(i), scheduler, times) for i, p in enumerate(config.players)
    }
    seats[person] = SilentSeat()
    watcher = Collector()
    running = start_game(
        config,
        seats,
        seed=5,
        roles=ROLES,
        scheduler=scheduler,
        timeout_s=30,
        seat_timeouts={person: 120.0},
        observers=[(watcher, FULL_VIEW)],
    )
    try:
        assert scheduler.wait_pending(5)
        first = seats[person].requests[0]
        assert first.deadline == 120.0  # night 1: the seer (the person) is awaited
        assert scheduler.advance(119.0) == 0  # the 30 s deadline of the others does not end it
        assert scheduler.advance(1.0) == 1
        _run_to_end(scheduler, watcher.finished)
        running.wait(WAIT)
    finally:
        running.stop()
    # The requests of a phase the person is not awaited in have the game's 30 s.
    theirs = {r.phase_id for r in seats[person].requests}
    others = [(now, r) for now, r in times if r.phase_id not in theirs]
    assert others
    assert all(r.deadline == now + 30 for now, r in others)
    assert all(r.deadline == now + 120 for now, r in times if r.phase_id in theirs)


def test_pace_spaces_the_phases_of_instant_agents():
    config = preset("aiwolf-5")
    scheduler = ManualScheduler()
    times: list[tuple[float, RequestAction]] = []
    seats = {p: ClockedSeat(RandomAgent(i), scheduler, times) for i, p in enumerate(config.players)}
    watcher = Collector()
    running = start_game(
        config, seats, seed=5, roles=ROLES, scheduler=scheduler, pace_s=4.0, observers=[(watcher, FULL_VIEW)]
    )
    try:
        _run_to_end(scheduler, watcher.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    assert all(n == 0 for n in finished.faults.values())  # nobody lost time to the pace
    starts: dict[int, float] = {}
    for now, request in times:
        starts.setdefault(request.phase_id, now)
    moments = sorted(starts.values())
    assert len(moments) > 5
    assert moments[0] == 0.0
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert all(gap >= 4.0 for gap in gaps), gaps


def test_without_pace_instant_agents_play_without_waiting():
    config = preset("aiwolf-5")
    scheduler = ManualScheduler()
    times: list[tuple[float, RequestAction]] = []
    seats = {p: ClockedSeat(RandomAgent(i), scheduler, times) for i, p in enumerate(config.players)}
    watcher = Collector()
    running = start_game(
        config, seats, seed=5, roles=ROLES, scheduler=scheduler, observers=[(watcher, FULL_VIEW)]
    )
    try:
        assert watcher.finished.wait(WAIT)  # the clock never moved
        running.wait(WAIT)
    finally:
        running.stop()
    assert {now for now, _ in times} == {0.0}


def test_hidden_phases_are_not_paced():
    # Their length would tell what they hide: the wolves' chat turns count the living wolves, the
    # witch's phase says she lives. With instant agents they take no time, paced or not.
    config = preset("agentscope-9")
    scheduler = ManualScheduler()
    times: list[tuple[float, RequestAction]] = []
    seats = {p: ClockedSeat(RandomAgent(i), scheduler, times) for i, p in enumerate(config.players)}
    watcher = Collector()
    running = start_game(
        config, seats, seed=5, scheduler=scheduler, pace_s=4.0, observers=[(watcher, FULL_VIEW)]
    )
    try:
        _run_to_end(scheduler, watcher.finished)
        running.wait(WAIT)
    finally:
        running.stop()
    hidden = {Phase.WOLF_CHAT, Phase.WITCH, Phase.HUNTER}
    starts: dict[int, tuple[float, Phase]] = {}
    for now, request in times:
        starts.setdefault(request.phase_id, (now, request.observation.phase))
    public = sorted(now for now, phase in starts.values() if phase not in hidden)
    assert any(phase in hidden for _, phase in starts.values())
    assert public == [4.0 * i for i in range(len(public))]  # one pace per public phase, none for hidden ones
    assert all(now in public for now, phase in starts.values() if phase in hidden)
