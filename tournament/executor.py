"""Where games run: threads of this process (`LocalExecutor`) or tasks on a Ray cluster (`RayExecutor`).

Both take `GameSpec`s and hand back `GameResult`s to the one thread that writes the store; neither
decides what runs next (the runner does: games at once, per-contestant concurrency, LLM hosts).

- Local: a thread per game in flight, all on one shared `ThreadingScheduler` (one timer thread for
  every game's deadlines). Games are mostly actors waiting on each other or on LLM servers, so threads
  suffice; CPU-bound agents on many cores are what Ray is for.
- Ray: each game is a task (`ray.remote`, `max_retries`): a worker that dies mid-game loses only that
  game, and Ray plays it again on another worker. Each LLM host's limit holds over the whole cluster:
  one named actor per host hands out its request slots (tournament/limits.py). `ray` is an optional
  extra (`pip install -e '.[ray]'`), imported only when this executor is asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from actors.runner import RunningGame
from actors.scheduler import ThreadingScheduler
from tournament.game import GameResult, GameSpec, play_spec
from tournament.limits import RayHostLimits, create_host_semaphores

logger = logging.getLogger(__name__)

#: Called in the worker before each game (fault injection in tests and drills).
BeforeGame = Callable[[GameSpec], None]


class Executor(Protocol):
    """Runs games; results come back in the order they end."""

    def submit(self, spec: GameSpec) -> None:
        """Start `spec` (the runner never submits more than it wants in flight)."""

    def next_result(self) -> GameResult:
        """Block until a submitted game ends; its result."""
        ...

    def close(self) -> None:
        """Stop (games still running are abandoned: they were not recorded)."""


class LocalExecutor:
    """Games in threads of this process, sharing one scheduler."""

    def __init__(self, parallel: int, before_game: BeforeGame | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="tournament-game")
        self._scheduler = ThreadingScheduler()
        self._results: queue.Queue[GameResult] = queue.Queue()
        self._before = before_game
        self._lock = threading.Lock()
        self._running: dict[int, RunningGame] = {}
        self._closed = False

    def submit(self, spec: GameSpec) -> None:
        """Play `spec` on a pool thread."""
        self._pool.submit(self._play, spec)

    def _play(self, spec: GameSpec) -> None:
        try:
            if self._before is not None:
                self._before(spec)
            result = play_spec(spec, self._scheduler, lambda running: self._started(spec.index, running))
        except Exception as exc:  # the runner must hear of every game, even a broken one
            result = GameResult(spec.index, "failed", error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._running.pop(spec.index, None)
        self._results.put(result)

    def _started(self, index: int, running: RunningGame) -> None:
        with self._lock:
            self._running[index] = running
            closed = self._closed
        if closed:  # closed while this game was starting
            _abort(running)

    def next_result(self) -> GameResult:
        """The next game to end."""
        return self._results.get()

    def close(self) -> None:
        """Stop taking games and abort the running ones (Ctrl-C must not wait for them to end: they
        were not recorded, a resumed run plays them again)."""
        with self._lock:
            self._closed = True
            running = list(self._running.values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for game in running:
            _abort(game)
        self._pool.shutdown(wait=True)
        self._scheduler.close()


def _abort(game: RunningGame) -> None:
    """Stop a running game's actors and wake whoever waits for its end."""
    try:
        game.stop()
    except Exception as exc:  # an actor stuck in a call: its thread ends with the call
        logger.warning("game %s did not stop cleanly: %s", game.game_id, exc)
    # The stopped game master will never finish it; queue.Full: it ended on its own first.
    with contextlib.suppress(queue.Full):
        game.done.set_exception(exc_info=(GameAborted, GameAborted("tournament stopped"), None))


class GameAborted(Exception):
    """The executor stopped while the game was running."""


def _play_in_worker(spec: GameSpec, before: BeforeGame | None) -> GameResult:
    if before is not None:
        before(spec)
    return play_spec(spec)


class RayExecutor:
    """Games as Ray tasks: on a cluster (`address`), or on a local instance started here.

    `host_limits` (LLM host -> requests in flight) get one semaphore actor each, created before any
    game is submitted, so every worker's seats on a host share its one limit."""

    def __init__(
        self,
        address: str | None = None,
        *,
        retries: int = 2,
        cpus_per_game: float = 1.0,
        num_cpus: int | None = None,
        before_game: BeforeGame | None = None,
        host_limits: Mapping[str, int] | None = None,
    ) -> None:
        import ray  # noqa: PLC0415 - optional extra, only for this executor

        self._ray: Any = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                # A local instance imports this checkout, wherever the venv's editable install points.
                root = str(Path(__file__).resolve().parent.parent)
                options |= {"num_cpus": num_cpus, "runtime_env": {"env_vars": {"PYTHONPATH": root}}}
            ray.init(address=address, **options)
            self._started = True
        self._task = ray.remote(_play_in_worker).options(
            max_retries=retries, retry_exceptions=False, num_cpus=cpus_per_game
        )
        self._before = before_game
        self._pending: dict[Any, GameSpec] = {}
        self._run = f"run-{uuid.uuid4().hex}"
        self._semaphores = create_host_semaphores(self._run, host_limits or {})

    def submit(self, spec: GameSpec) -> None:
        """Queue `spec` as a task, its LLM seats bound to the run's host limits."""
        # A seat that waited a whole phase for a slot has lost that decision to the deadline anyway.
        limits = RayHostLimits(self._run, wait_s=spec.phase_deadline_s)
        self._pending[self._task.remote(dataclasses.replace(spec, host_limits=limits), self._before)] = spec

    def next_result(self) -> GameResult:
        """The next task to end; a task Ray gave up on (workers died past `retries`) is a failed game."""
        ray = self._ray
        [ref], _ = ray.wait(list(self._pending), num_returns=1)
        spec = self._pending.pop(ref)
        try:
            result: GameResult = ray.get(ref)
        except Exception as exc:
            logger.warning("game %s lost on Ray: %s", spec.index, exc)
            return GameResult(spec.index, "failed", error=f"ray: {type(exc).__name__}")
        return result

    def close(self) -> None:
        """Cancel what is left; shut Ray down if this executor started it."""
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        for semaphore in self._semaphores:
            self._ray.kill(semaphore)
        self._semaphores.clear()
        if self._started:
            self._ray.shutdown()
