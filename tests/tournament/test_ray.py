"""The Ray executor on a local Ray instance (started once for the session): same games as locally,
a worker killed mid-game loses only that game, which Ray plays again, and an LLM host's limit holds
over every worker."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.fake_ollama import KNOWN_MODEL, Recorded, Reply, running_fake, valid_content
from tests.tournament.conftest import ROOT, SECRET, small_plan
from tests.tournament.test_dispatch import PLAN as LLM_PLAN
from tests.tournament.test_runner import outcomes
from tournament import parse_plan, run_tournament
from tournament.game import GameSpec

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[None]:
    """One local Ray instance for every Ray test (starting one takes seconds)."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},  # workers import this checkout
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.usefixtures("ray_instance")
def test_ray_plays_the_same_tournament_as_local(tmp_path: Path) -> None:
    plan = parse_plan(small_plan(self_play=True, games_at_once=4))
    on_ray = run_tournament(plan, tmp_path / "ray.db", secret=SECRET, executor="ray")
    assert (on_ray.done, on_ray.failed) == (10, 0)
    assert ray.is_initialized()  # the executor did not shut down an instance it did not start
    run_tournament(plan, tmp_path / "local.db", secret=SECRET)
    assert outcomes(tmp_path / "ray.db") == outcomes(tmp_path / "local.db")


@pytest.mark.usefixtures("ray_instance")
def test_a_worker_killed_mid_game_loses_only_that_game(tmp_path: Path) -> None:
    flag = tmp_path / "killed-once"

    def kill_worker_once(spec: GameSpec) -> None:  # runs in the worker (pickled by value)
        import os  # noqa: PLC0415 - inside the worker

        if spec.index == 2 and not flag.exists():
            flag.write_text(str(os.getpid()))
            os._exit(1)  # the worker process dies, as on a crashed machine

    plan = parse_plan(small_plan(games_at_once=4))
    final = run_tournament(
        plan, tmp_path / "ray.db", secret=SECRET, executor="ray", before_game=kill_worker_once
    )
    assert flag.exists()  # a worker did die
    assert (final.done, final.failed) == (8, 0)
    run_tournament(plan, tmp_path / "local.db", secret=SECRET)
    assert outcomes(tmp_path / "ray.db") == outcomes(tmp_path / "local.db")


def most_in_flight(chats: list[Recorded]) -> int:
    """The most chat requests the fake was answering at once (each from its arrival to its answer)."""
    edges = sorted(
        [(r.arrived, 1) for r in chats] + [(r.finished or r.arrived, -1) for r in chats],
        key=lambda edge: (edge[0], edge[1]),  # an answer at the same instant ends before the next starts
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


@pytest.mark.usefixtures("ray_instance")
def test_an_llm_hosts_limit_holds_over_every_ray_worker(tmp_path: Path) -> None:
    def slow(request: dict[str, object], n: int) -> Reply:
        return Reply(content=valid_content(request, n), delay=0.05)  # the GPU's time on a request

    with running_fake(slow) as fake:
        plan = parse_plan(
            LLM_PLAN.format(model=KNOWN_MODEL, hosts=f'"{fake.url}"', max_games=4) + "llm_in_flight = 1\n"
        )
        final = run_tournament(plan, tmp_path / "ray.db", secret=SECRET, executor="ray")
        chats = fake.chats
    assert (final.done, final.failed) == (4, 0)
    assert len(chats) > 8
    assert most_in_flight(chats) == 1
    with sqlite3.connect(tmp_path / "ray.db") as conn:
        [(calls, faults)] = conn.execute("SELECT SUM(calls), SUM(faults) FROM seats WHERE contestant = 'llm'")
    assert (calls, faults) == (len(chats), 0)  # every request waited for its slot, none failed for it
