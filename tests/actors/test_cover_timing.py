"""Hidden turns take a fixed time: what a spectator or a villager sees of the clock depends only on
public information. Two games that differ only in hidden state (a dead wolf, witch or hunter instead of
a dead villager) must show the same public moments at the same times, and every villager seat must be
asked at the same times. Seats answer at controlled times on the manual clock; nothing sleeps."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from actors.messages import PUBLIC_VIEW, Deliver, GameFinished, RequestAction, SubmitAction
from actors.runner import RunningGame, start_game
from actors.scheduler import ManualScheduler
from engine import Abstain, Action, GameConfig, Phase, PlayerId, Role, Rules, Vote
from engine.roles import ROLE_SPECS
from engine.vocabulary import Team

ANSWER_S = 3.0  # a seat answers this long after its request (integers keep clock sums exact)
SLOW_S = 8.0  # ... but Bruno's seat (a slower model, say) takes this long
TIMEOUT_S = 10.0
WAIT = 20.0

pytestmark = pytest.mark.cover  # the automatic cover, as run.py and the hosting API give it

BASE = {
    "Alice": Role.WEREWOLF,
    "Bruno": Role.VILLAGER,
    "Chloe": Role.SEER,
    "Damien": Role.WITCH,
    "Elise": Role.HUNTER,
    "Fabien": Role.WEREWOLF,
    "Gaelle": Role.VILLAGER,
}


def _config() -> GameConfig:
    # No discussion (so no public draw depends on the hidden chat's draws), last words, the wolves' chat.
    rules = Rules(discussion_rounds=0, last_words=True, wolf_chat=True, wolf_chat_rounds=1, max_days=2)
    counts: dict[Role, int] = {}
    for role in BASE.values():
        counts[role] = counts.get(role, 0) + 1
    return GameConfig.build(counts, players=list(BASE), rules=rules)


def _decide(player: PlayerId, request: RequestAction) -> Action:
    """The same public behaviour whatever the role: day 1 everyone votes Bruno (he votes Gaelle)."""
    obs = request.observation
    if obs.phase is Phase.VOTE and obs.day == 1:
        return Vote(PlayerId("Gaelle") if player == "Bruno" else PlayerId("Bruno"))
    return Abstain()


class TimedSeat:
    """A seat that is not an instant agent: it answers `ANSWER_S` (Bruno: `SLOW_S`) after each request,
    by a timer."""

    def __init__(self, player: PlayerId, scheduler: ManualScheduler) -> None:
        self.player = player
        self.scheduler = scheduler
        self.requests: list[tuple[float, RequestAction]] = []
        self.seen: list[tuple[float, str]] = []  # its own view's events, as a remote seat gets them

    def tell(self, message: Any) -> None:
        if isinstance(message, Deliver):
            self.seen += [(self.scheduler.now(), e.type) for e in message.events]
        if isinstance(message, RequestAction):
            self.requests.append((self.scheduler.now(), message))
            answer = SubmitAction(
                game_id=message.game_id,
                phase_id=message.phase_id,
                player=message.player,
                action=_decide(self.player, message),
            )
            delay = SLOW_S if self.player == "Bruno" else ANSWER_S
            self.scheduler.call_later(delay, message.reply_to, answer)


class ClockedWatcher:
    """A spectator that notes the manual clock's time of each public event it is delivered."""

    def __init__(self, scheduler: ManualScheduler) -> None:
        self.scheduler = scheduler
        self.seen: list[tuple[float, str]] = []
        self.finished = threading.Event()

    def tell(self, message: Any) -> None:
        if isinstance(message, Deliver):
            self.seen += [(self.scheduler.now(), e.type) for e in message.events]
        elif isinstance(message, GameFinished):
            self.finished.set()


def drive(scheduler: ManualScheduler, running: RunningGame, done: threading.Event, limit: int = 500) -> None:
    """Let the game master settle (a barrier through its mailbox), then move the clock to the next timer."""
    for _ in range(limit):
        running.master.proxy().game_id.get(timeout=WAIT)  # every message told so far is handled
        if done.is_set():
            return
        with scheduler._lock:
            due = min((e.due for e in scheduler._heap.entries if not e.cancelled), default=None)
        assert due is not None, "the game waits for nothing and does not end"
        scheduler.advance(max(0.0, due - scheduler.now()))
    raise AssertionError("the game did not end within the budget")


def run(roles: dict[str, Role], **options: Any) -> tuple[ClockedWatcher, dict[PlayerId, TimedSeat]]:
    """Play one game of `_config()` with this deal to its end on a manual clock; its watcher and seats."""
    scheduler = ManualScheduler()
    config = _config()
    seats = {p: TimedSeat(p, scheduler) for p in config.players}
    watcher = ClockedWatcher(scheduler)
    running = start_game(
        config,
        seats,
        seed=1,
        roles={PlayerId(p): r for p, r in roles.items()},
        scheduler=scheduler,
        timeout_s=TIMEOUT_S,
        observers=[(watcher, PUBLIC_VIEW)],
        **options,
    )
    try:
        drive(scheduler, running, watcher.finished)
        finished = running.wait(WAIT)
    finally:
        running.stop()
    assert finished.outcome is not None
    return watcher, seats


def play(roles: dict[str, Role], **options: Any) -> tuple[list[tuple[float, str]], dict[str, list]]:
    watcher, seats = run(roles, **options)
    asked = {p: [(t, r.observation.phase.value) for t, r in seat.requests] for p, seat in seats.items()}
    for p, seat in seats.items():
        asked[p] += [(t, f"saw {kind}") for t, kind in seat.seen]
    return watcher.seen, asked


def _swapped(a: str, b: str) -> dict[str, Role]:
    roles = dict(BASE)
    roles[a], roles[b] = roles[b], roles[a]
    return roles


# Day 1 executes Bruno. Base game: Bruno is a villager. Each variant makes him, instead, a wolf (night 2
# then has one wolf: no chat), the witch (night 2 has no witch), the hunter (who does not shoot) or the
# seer (his slow seat then acts in night 1, which ends later: that must not show either).
VARIANTS = {"wolf": "Fabien", "witch": "Damien", "hunter": "Elise", "seer": "Chloe"}


# None: the automatic budget (the longest deadline); 5 s: a host's shorter budget, under Bruno's 8 s, so
# his hidden and night turns are cut at 5 s (their deadline) rather than showing how long they took.
@pytest.mark.parametrize("hidden_turn_s", [None, 5.0])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_public_moments_and_villagers_requests_do_not_depend_on_hidden_roles(variant, hidden_turn_s):
    other = VARIANTS[variant]
    public_a, asked_a = play(_swapped("Bruno", other), hidden_turn_s=hidden_turn_s)
    public_b, asked_b = play(BASE, hidden_turn_s=hidden_turn_s)
    assert [kind for _, kind in public_a] == [kind for _, kind in public_b]  # same public story
    assert public_a == public_b  # ... at the same times
    same = [
        p for p, role in BASE.items() if p not in ("Bruno", other) and ROLE_SPECS[role].team is Team.VILLAGE
    ]
    assert same
    for p in same:
        assert asked_a[p] == asked_b[p], p


def test_no_cover_when_asked_shows_the_difference():
    # The control: with the cover off (0), the hidden chat of night 2 shows in the public times.
    public_a, _ = play(_swapped("Bruno", "Fabien"), hidden_turn_s=0.0)
    public_b, _ = play(BASE, hidden_turn_s=0.0)
    assert [kind for _, kind in public_a] == [kind for _, kind in public_b]
    assert public_a != public_b


def test_every_request_deadline_is_the_full_time_from_when_it_went_out():
    _, seats = run(BASE)
    requests = [(t, r) for seat in seats.values() for t, r in seat.requests]
    first_night = min(t for t, r in requests if r.observation.phase is Phase.NIGHT)
    assert first_night == 2 * TIMEOUT_S  # held for the two chat turns two wolves could have had
    assert all(r.deadline == t + TIMEOUT_S for t, r in requests)
