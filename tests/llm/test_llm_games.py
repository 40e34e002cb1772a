"""Whole games of LLM seats on the fake Ollama server: outcomes, faults, reasoning, usage, parallelism."""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from typing import Any

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.llm.reply import kinds_in
from actors.messages import FULL_VIEW, GameFinished
from actors.runner import play_game, start_game
from engine import GameConfig, Outcome, PlayerId, Team, Termination, preset
from engine.events import PlayerFaulted, Reasoned
from tests.fakes import Collector, ShownAgent
from tests.llm.fake_ollama import KNOWN_MODEL, FakeOllama, Recorded, Reply, running_fake, valid_content

CONFIG = preset("classic-8")
PHASE_S = 30.0  # each phase's deadline: never reached when the fake answers at once
GAME_S = 60.0  # bound on a whole game
SEAT = re.compile(r"^You are (\w+),")


def seat_of(request: Recorded | dict[str, Any]) -> PlayerId:
    """The seat a chat request comes from, read from its system prompt ("You are <name>, ...")."""
    messages = request.messages if isinstance(request, Recorded) else request["messages"]
    match = SEAT.match(messages[0]["content"])
    assert match is not None
    return PlayerId(match.group(1))


def llm_seats(
    config: GameConfig, fake: FakeOllama, limiter: threading.BoundedSemaphore, **settings: Any
) -> dict[PlayerId, LLMAgent]:
    settings = {"model": KNOWN_MODEL, "host": fake.url, "timeout_s": 10.0, "parallel": 8, **settings}
    return {
        p: LLMAgent(
            LLMSettings(**settings),
            config,
            persona=PERSONAS[i],
            fallback=HeuristicAgent(i),
            limiter=limiter,
        )
        for i, p in enumerate(config.players)
    }


def assert_valid_outcome(outcome: Outcome | None, finished: GameFinished) -> None:
    assert outcome is not None
    if outcome.termination is Termination.MAX_DAYS:
        assert outcome.winner is None
    else:
        assert outcome.winner in (Team.VILLAGE, Team.WOLVES)
    assert finished.record["events"][-1]["type"] == "game_ended"


def per_seat(chats: list[Recorded]) -> dict[PlayerId, list[Recorded]]:
    seats: dict[PlayerId, list[Recorded]] = {}
    for chat in chats:
        seats.setdefault(seat_of(chat), []).append(chat)
    return seats


def assert_usage_matches_the_server(finished: GameFinished, chats: list[Recorded]) -> None:
    """`GameFinished.usage` sums, per seat, exactly what the server was asked and counted."""
    by_seat = per_seat(chats)
    assert set(finished.usage) == set(by_seat)
    for seat, requests in by_seat.items():
        usage = finished.usage[seat]
        assert usage["calls"] == len(requests), seat
        assert usage["retries"] == sum(len(r.messages) > 2 for r in requests), seat
        assert usage["prompt_tokens"] == sum(r.prompt_eval_count for r in requests), seat
        assert usage["completion_tokens"] == sum(r.eval_count for r in requests), seat
        assert usage["latency_s"] > 0


def test_a_classic_game_of_eight_llm_seats_finishes_without_faults():
    full = Collector()
    with running_fake() as fake:
        seats = llm_seats(CONFIG, fake, threading.BoundedSemaphore(8))
        finished = play_game(
            CONFIG, seats, seed=5, timeout_s=PHASE_S, wait_s=GAME_S, observers=[(full, FULL_VIEW)]
        )
        chats = fake.chats
    assert_valid_outcome(finished.outcome, finished)
    assert finished.faults == dict.fromkeys(CONFIG.players, 0)
    assert not [e for e in full.events if isinstance(e, PlayerFaulted)]
    assert all(chat.status == 200 for chat in chats)
    assert all(len(chat.messages) == 2 for chat in chats)  # never re-asked
    assert all(seat.last_report is None or not seat.last_report.fallback for seat in seats.values())
    assert_usage_matches_the_server(finished, chats)
    # Every answer's reasoning was recorded for the game master, once per request.
    reasoned = Counter(e.player for e in full.events if isinstance(e, Reasoned))
    assert reasoned == Counter(seat_of(chat) for chat in chats)


BAD_SEATS = frozenset(CONFIG.players[1::2])  # every other seat gets garbage on its first attempt
GARBAGE = "Sure! As a werewolf I would vote for"


def half_bad(request: dict[str, Any], n: int) -> Reply:
    """Garbage for the first attempt of the seats in BAD_SEATS, valid replies otherwise."""
    if seat_of(request) in BAD_SEATS and len(request["messages"]) == 2:
        return Reply(content=f"{GARBAGE} #{n}")
    return Reply(content=valid_content(request, n))


def test_bad_replies_fault_exactly_their_seats_and_reasoning_reaches_only_the_full_view():
    full = Collector()
    with running_fake(half_bad) as fake:
        seats = {p: ShownAgent(a) for p, a in llm_seats(CONFIG, fake, threading.BoundedSemaphore(8)).items()}
        running = start_game(CONFIG, seats, seed=9, timeout_s=PHASE_S, observers=[(full, FULL_VIEW)])
        try:
            finished = running.wait(GAME_S)
        finally:
            running.stop()
        chats = fake.chats
    assert_valid_outcome(finished.outcome, finished)
    by_seat = per_seat(chats)
    decisions = {p: sum(len(r.messages) == 2 for r in requests) for p, requests in by_seat.items()}

    # Faults: exactly the seats that got garbage, one per decision, each with the raw reply.
    faults = [e for e in full.events if isinstance(e, PlayerFaulted)]
    assert {e.player for e in faults} == BAD_SEATS
    assert Counter(e.player for e in faults) == Counter({p: decisions[p] for p in BAD_SEATS})
    assert all(GARBAGE in e.reason and "invalid reply (attempt 1)" in e.reason for e in faults)
    assert finished.faults == {p: decisions[p] if p in BAD_SEATS else 0 for p in CONFIG.players}
    for seat in CONFIG.players:  # each re-ask carries the seat's own bad reply and the error
        for chat in by_seat[seat]:
            if len(chat.messages) > 2:
                assert seat in BAD_SEATS
                assert chat.messages[2]["content"].startswith(GARBAGE)
                assert "no JSON object" in chat.messages[3]["content"]

    # Reasoning: in the full view, for every decision of every seat; in no player's own stream.
    reasoned = [e for e in full.events if isinstance(e, Reasoned)]
    assert Counter(e.player for e in reasoned) == Counter(decisions)
    for player, seat in seats.items():
        assert len(seat.shown) == decisions.get(player, 0), player
        events = seat.shown[-1].events if seat.shown else ()  # each observation holds all the ones before
        assert not [e for e in events if isinstance(e, Reasoned)], player
        assert not [e for e in events if e.type == "reasoned"], player
        assert all(e.player == player for e in events if isinstance(e, PlayerFaulted)), player

    assert_usage_matches_the_server(finished, chats)
    for p in CONFIG.players:
        assert finished.usage[p]["retries"] == (decisions[p] if p in BAD_SEATS else 0)


# ---------------------------------------------------------------------------------------- parallelism

ONE_DAY = CONFIG.with_rules(max_days=1, bidding_max_turns=1)  # night 1, one speech, one vote, end
VOTE_DELAY_S = 0.25


def slow_votes(request: dict[str, Any], n: int) -> Reply:
    """Valid replies; the vote requests take VOTE_DELAY_S on the server."""
    is_vote = "vote" in kinds_in(request["format"])
    return Reply(content=valid_content(request, n), delay=VOTE_DELAY_S if is_vote else 0.0)


def vote_requests(chats: list[Recorded]) -> list[Recorded]:
    votes = [c for c in chats if "vote" in kinds_in(c.json["format"])]
    assert {c.json["messages"][1]["content"].count("Vote on whom") for c in votes} == {1}
    return sorted(votes, key=lambda c: c.arrived)


def play_one_day(limiter: threading.BoundedSemaphore) -> tuple[GameFinished, list[Recorded], int]:
    with running_fake(slow_votes) as fake:
        seats = llm_seats(ONE_DAY, fake, limiter)
        finished = play_game(ONE_DAY, seats, seed=3, timeout_s=PHASE_S, wait_s=GAME_S)
        chats = fake.chats
    assert finished.outcome is not None
    assert finished.faults == dict.fromkeys(ONE_DAY.players, 0)
    voters = next(len(e["votes"]) for e in finished.record["events"] if e["type"] == "votes_revealed")
    return finished, vote_requests(chats), voters


def test_the_requests_of_a_vote_overlap_when_the_host_allows_it():
    _, votes, voters = play_one_day(threading.BoundedSemaphore(8))
    assert len(votes) == voters >= 5
    first_done = min(v.finished or 0.0 for v in votes)
    assert max(v.arrived for v in votes) < first_done  # all were in flight together
    assert len({v.thread for v in votes}) == len(votes)


def test_a_limiter_of_one_serialises_the_requests():
    finished, votes, voters = play_one_day(threading.BoundedSemaphore(1))
    assert len(votes) == voters >= 5
    for earlier, later in itertools.pairwise(votes):
        assert earlier.finished is not None
        assert later.arrived > earlier.finished  # the next one was sent only after the last answer
    assert finished.outcome is not None


def test_requests_in_flight_never_exceed_the_limit():
    """With a limiter of 3, the vote's requests go three at a time, never more."""
    _, votes, _ = play_one_day(threading.BoundedSemaphore(3))
    moments = sorted([(v.arrived, 1) for v in votes] + [(v.finished or 0.0, -1) for v in votes])
    in_flight = peak = 0
    for _, step in moments:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak == 3
