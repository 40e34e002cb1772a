"""Dispatch: per-contestant concurrency, LLM seats spread over a contestant's hosts, a real LLM tournament."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.llm.fake_ollama import KNOWN_MODEL, Reply, running_fake, valid_content
from tests.tournament.conftest import SECRET
from tournament import parse_plan, run_tournament, runner
from tournament.game import GameResult, GameSpec, play_spec
from tournament.schedule import build_schedule

PLAN = """\
seed = 4
blocks = 1
[[table]]
roles = {{werewolf = 1, seer = 1}}
players = 4
[[contestant]]
name = "llm"
agent = "ollama:{model}"
hosts = [{hosts}]
max_games = {max_games}
[[contestant]]
name = "heur"
agent = "heuristic"
[limits]
games_at_once = 3
phase_deadline_s = 30
game_deadline_s = 120
"""


class Recording:
    """An executor that plays games in the caller's thread, in order, and remembers what it saw."""

    def __init__(self) -> None:
        self.queue: list[GameSpec] = []
        self.specs: list[GameSpec] = []
        self.most_in_flight = 0

    def submit(self, spec: GameSpec) -> None:
        self.queue.append(spec)
        self.specs.append(spec)
        self.most_in_flight = max(self.most_in_flight, len(self.queue))

    def next_result(self) -> GameResult:
        spec = self.queue.pop(0)
        return GameResult(spec.index, "done", winner="village", days=1, seats=[])

    def close(self) -> None:
        pass


def dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_games: int, hosts: str) -> Recording:
    recording = Recording()
    plan = parse_plan(PLAN.format(model=KNOWN_MODEL, hosts=hosts, max_games=max_games))
    monkeypatch.setattr(runner, "LocalExecutor", lambda *_a, **_k: recording)
    run_tournament(plan, tmp_path / "t.db", secret=SECRET)
    return recording


def test_a_contestant_is_never_in_more_games_than_it_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dispatch(tmp_path / "a", monkeypatch, 1, '"http://h1"').most_in_flight == 1
    assert dispatch(tmp_path / "b", monkeypatch, 3, '"http://h1"').most_in_flight == 3


def test_llm_seats_are_spread_over_the_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = dispatch(tmp_path, monkeypatch, 3, '"http://h1", "http://h2"')
    first = recording.specs[0]
    hosts = Counter(s.llm["host"] for s in first.seats if s.llm is not None)
    assert hosts == {"http://h1": 1, "http://h2": 1}  # two LLM seats, one per host
    assert all(s.llm is None for s in first.seats if s.contestant == "heur")


def test_an_llm_tournament_on_two_fake_hosts(tmp_path: Path) -> None:
    def responder(request: dict[str, object], n: int) -> Reply:
        return Reply(content=valid_content(request, n))

    with running_fake(responder) as one, running_fake(responder) as two:
        plan = parse_plan(PLAN.format(model=KNOWN_MODEL, hosts=f'"{one.url}", "{two.url}"', max_games=2))
        final = run_tournament(plan, tmp_path / "t.db", secret=SECRET)
        assert one.chats
        assert two.chats
    assert (final.done, final.failed) == (4, 0)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        calls, tokens, faults = conn.execute(
            "SELECT SUM(calls), SUM(prompt_tokens + completion_tokens), SUM(faults) FROM seats"
            " WHERE contestant = 'llm'"
        ).fetchone()
    assert calls == len(one.chats) + len(two.chats)
    assert tokens > 0
    assert faults == 0


def test_a_spec_that_cannot_be_built_is_a_failed_game() -> None:
    spec = GameSpec(0, {"players": ["a"], "roles": {}}, 1, SECRET, (), 1.0, 1.0)
    result = play_spec(spec)
    assert result.status == "failed"
    assert result.error is not None
    assert "ConfigError" in result.error


@pytest.mark.deadline(30)
def test_closing_the_local_executor_aborts_games_in_flight() -> None:
    from tournament.executor import LocalExecutor  # noqa: PLC0415

    answered = threading.Event()

    def responder(request: dict[str, object], n: int) -> Reply:
        answered.set()
        return Reply(content=valid_content(request, n), delay=120.0)  # far longer than the test

    with running_fake(responder) as fake:
        plan = parse_plan(PLAN.format(model=KNOWN_MODEL, hosts=f'"{fake.url}"', max_games=2))
        dispatch_ = runner._Dispatch(
            plan, plan.configs(), SECRET, Path("/nonexistent"), None, None, None, None
        )  # type: ignore[arg-type]
        spec = dispatch_.spec(
            build_schedule(plan)[0], [fake.url if c == "llm" else None for c in build_schedule(plan)[0].seats]
        )
        spec = dataclasses.replace(spec, log_path=None)
        executor = LocalExecutor(1)
        executor.submit(spec)
        assert answered.wait(20)  # the game is waiting on its first LLM call
        start = time.monotonic()
        executor.close()
        result = executor.next_result()
        assert time.monotonic() - start < 15  # not the game's 120 s call, nor its deadline
    assert result.status == "failed"
    assert result.error is not None
    assert "aborted" in result.error


def test_fallbacks_to_the_built_in_agent_are_counted(tmp_path: Path) -> None:
    def broken(request: dict[str, object], n: int) -> Reply:
        return Reply(status=500, content="overloaded")

    with running_fake(broken) as fake:
        plan = parse_plan(PLAN.format(model=KNOWN_MODEL, hosts=f'"{fake.url}"', max_games=2))
        final = run_tournament(plan, tmp_path / "t.db", secret=SECRET)
    assert (final.done, final.failed) == (4, 0)  # the built-in agent played every LLM decision
    with sqlite3.connect(tmp_path / "t.db") as conn:
        llm = conn.execute(
            "SELECT SUM(fallbacks), SUM(faults), SUM(decisions) FROM seats WHERE contestant = 'llm'"
        )
        fallbacks, faults, decisions = llm.fetchone()
        [(others,)] = conn.execute("SELECT SUM(fallbacks) FROM seats WHERE contestant = 'heur'")
    assert fallbacks == decisions > 0
    assert faults >= fallbacks
    assert others == 0
