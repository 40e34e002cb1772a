"""Fault proofs, the LLM server failing mid-game (500s; dying mid-request, then refusing connections):
one fault per failed call, on the seat that made it, the built-in agent decides in its place, and the
game ends with a valid outcome.

Every game is logged (`log_path`) and every log is checked by `assert_log_matches`.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

from actors.agents import Agent, RandomAgent
from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.runner import play_game
from engine import PlayerId
from tests.llm.fake_ollama import KNOWN_MODEL, FakeOllama, Recorded, Reply, running_fake, valid_content
from tests.proof.fault_table import CONFIG, PHASE_S, PLAYERS
from tests.proof.remote_kit import (
    WAIT_S,
    assert_faults_only,
    assert_log_matches,
    assert_valid_outcome,
    faulted,
)

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
