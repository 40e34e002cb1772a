"""Fault proofs, messages that reach the game master after the end (a late answer, a queued deadline, a
seat given up): dropped, the game finished once, the game master alive, the log intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pykka
import pytest

from actors.agents import RandomAgent
from actors.messages import FULL_VIEW, AgentFailed, DeadlineReached, GameFinished, SubmitAction
from actors.runner import start_game
from actors.scheduler import ManualScheduler
from engine import Abstain, PlayerId, preset
from tests.fakes import Collector, InstantSeat
from tests.proof.remote_kit import WAIT_S, assert_log_matches


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
