"""run_tournament: results recorded per game, deterministic, failed games played again, resumable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.tournament.conftest import SECRET, small_plan
from tournament import parse_plan, run_tournament
from tournament.game import GameSpec
from tournament.store import Store, StoreError


def outcomes(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT g.idx, g.winner, g.days, group_concat(s.contestant || ':' || s.role || ':' || s.survived)"
            " FROM games g JOIN seats s ON s.game = g.idx GROUP BY g.idx ORDER BY g.idx"
        ).fetchall()


def test_every_game_is_recorded_with_its_seats(tmp_path: Path) -> None:
    plan = parse_plan(small_plan(self_play=True))
    final = run_tournament(plan, tmp_path / "t.db", secret=SECRET)
    assert (final.done, final.total, final.failed) == (10, 10, 0)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT COUNT(*) FROM seats").fetchone() == (80,)
        logs = [Path(r[0]) for r in conn.execute("SELECT log_path FROM games")]
    assert all(p.exists() and p.stat().st_size > 0 for p in logs)


def test_same_plan_and_secret_give_the_same_games_and_results(tmp_path: Path) -> None:
    plan = parse_plan(small_plan(games_at_once=3))
    run_tournament(plan, tmp_path / "a.db", secret=SECRET)
    run_tournament(parse_plan(small_plan(games_at_once=1)), tmp_path / "b.db", secret=SECRET)
    assert outcomes(tmp_path / "a.db") == outcomes(tmp_path / "b.db")
    run_tournament(parse_plan(small_plan(seed=12)), tmp_path / "c.db", secret=SECRET)
    assert outcomes(tmp_path / "a.db") != outcomes(tmp_path / "c.db")


def test_a_game_that_fails_is_played_again(tmp_path: Path) -> None:
    failures: list[int] = []

    def fail_first_attempt_of_game_3(spec: GameSpec) -> None:
        if spec.index == 3 and not failures:
            failures.append(spec.index)
            raise RuntimeError("worker lost")

    final = run_tournament(
        parse_plan(small_plan()), tmp_path / "t.db", secret=SECRET, before_game=fail_first_attempt_of_game_3
    )
    assert failures == [3]
    assert (final.done, final.failed) == (8, 0)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("SELECT attempts FROM games WHERE idx = 3").fetchone() == (2,)


def test_a_game_that_keeps_failing_is_recorded_as_failed(tmp_path: Path) -> None:
    def always_fail_game_2(spec: GameSpec) -> None:
        if spec.index == 2:
            raise RuntimeError("broken")

    final = run_tournament(
        parse_plan(small_plan()), tmp_path / "t.db", secret=SECRET, before_game=always_fail_game_2
    )
    assert (final.done, final.failed) == (8, 1)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("SELECT status, attempts, error FROM games WHERE idx = 2").fetchone() == (
            "failed",
            2,
            "RuntimeError: broken",
        )


def test_a_second_run_plays_nothing_and_another_plan_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    run_tournament(parse_plan(small_plan()), db, secret=SECRET)
    changed = small_plan(games_at_once=1).replace('agent = "random"', 'agent = "random"\nmax_games = 1')
    again = run_tournament(parse_plan(changed), db, secret=SECRET)  # limits and max_games may change
    assert (again.done, again.resumed) == (8, 8)
    with pytest.raises(StoreError, match="another plan"):
        run_tournament(parse_plan(small_plan(blocks=2)), db, secret=SECRET)
    with pytest.raises(StoreError, match="another plan"):
        run_tournament(
            parse_plan(small_plan().replace('agent = "random"', 'agent = "heuristic"')), db, secret=SECRET
        )
    with Store(db) as store:
        assert store.plan().blocks == 1
