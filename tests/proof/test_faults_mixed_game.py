"""Fault proofs, one game with every kind of fault at once (remote: killed, an illegal answer, a missed
deadline; local: raising; LLM: a bad reply and a 503), checked line by line against its JSONL log.
"""

from __future__ import annotations

import threading
from typing import Any

from actors.agents import RandomAgent
from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings
from actors.messages import Deliver
from engine import Role
from engine.events import PlayerFaulted
from net.protocol import RequestFrame
from tests.fakes import Collector, CrashingAgent
from tests.llm.fake_ollama import KNOWN_MODEL, Reply, running_fake, valid_content
from tests.proof.fault_table import CONFIG, GRACE_S
from tests.proof.remote_kit import (
    WAIT_S,
    Hosted,
    RemoteAgent,
    assert_agent_saw_its_audience,
    assert_faults_only,
    assert_log_matches,
    assert_valid_outcome,
    faulted,
    host_game,
)


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
