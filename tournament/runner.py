"""Run a tournament: schedule, resume from the store, dispatch games, record each as it ends.

`run_tournament(plan, db_path)` is the Python API under `run.py tournament`. The runner's thread is the
store's only writer. It keeps at most `limits.games_at_once` games in flight, never puts a contestant
in more than its `max_games` games at once (over every machine: a GPU host is never oversubscribed),
gives each seat of an LLM contestant the least busy of its `hosts` (counted in seats in flight: a
game's seats spread over the hosts, so no host waits on another's queue), and plays a failed game again up to
`limits.retries` times before recording it as failed. Run it again with the same plan and database
and it plays only what is missing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from actors.host_secret import load_host_secret
from engine import GameConfig, game_key
from tournament.executor import BeforeGame, Executor, LocalExecutor, RayExecutor
from tournament.game import GameResult, GameSpec, SeatSpec
from tournament.plan import Plan
from tournament.schedule import ScheduledGame, build_schedule
from tournament.store import Store

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    """Where the tournament stands; given to the progress callback after every change."""

    total: int
    done: int = 0  # recorded, including those of earlier runs
    failed: int = 0  # recorded as failed
    running: int = 0
    resumed: int = 0  # recorded before this run started
    started_at: float = field(default_factory=time.monotonic)
    last: GameResult | None = None

    @property
    def eta_s(self) -> float | None:
        """Seconds left at this run's pace so far (None before its first game ends)."""
        played = self.done - self.resumed
        if played <= 0:
            return None
        return (time.monotonic() - self.started_at) / played * (self.total - self.done)


ProgressFn = Callable[[Progress], None]


def run_tournament(
    plan: Plan,
    db_path: Path,
    *,
    secret: bytes | None = None,
    executor: str = "local",
    address: str | None = None,
    log_dir: Path | None = None,
    progress: ProgressFn | None = None,
    ray_cpus_per_game: float = 1.0,
    ray_num_cpus: int | None = None,
    before_game: BeforeGame | None = None,
) -> Progress:
    """Play every game of `plan` not yet in the database at `db_path`; returns the final progress.

    `secret`: the host secret games are keyed with (default: this host's, `load_host_secret`): the same
    plan with the same secret gives the same deals. `executor`: "local" or "ray" (`address` of a cluster,
    or None for a local instance).
    """
    configs = plan.configs()
    schedule = build_schedule(plan, configs)
    secret = secret if secret is not None else load_host_secret()
    log_dir = log_dir or db_path.with_name(db_path.stem + "-logs")
    with Store(db_path) as store:
        store.bind_plan(plan)
        recorded = store.finished()
        counts = store.counts()
        state = Progress(total=len(schedule), done=len(recorded), failed=counts.get("failed", 0))
        state.resumed = state.done
        pending = deque(g for g in schedule if g.index not in recorded)
        if not pending:
            return state
        runner: Executor
        if executor == "ray":
            runner = RayExecutor(
                address,
                retries=plan.limits.retries,
                cpus_per_game=ray_cpus_per_game,
                num_cpus=ray_num_cpus,
                before_game=before_game,
                host_limits=plan.host_limits(),
            )
        elif executor == "local":
            runner = LocalExecutor(plan.limits.games_at_once, before_game)
        else:
            raise ValueError(f"unknown executor {executor!r} (local or ray)")
        try:
            _Dispatch(plan, configs, secret, log_dir, store, runner, state, progress).run(pending)
        finally:
            runner.close()
    return state


class _Dispatch:
    def __init__(  # noqa: PLR0917 - private, built in one place
        self,
        plan: Plan,
        configs: list[GameConfig],
        secret: bytes,
        log_dir: Path,
        store: Store,
        runner: Executor,
        state: Progress,
        progress: ProgressFn | None,
    ) -> None:
        self.plan = plan
        self.configs = configs
        self.secret = secret
        self.log_dir = log_dir
        self.store = store
        self.runner = runner
        self.state = state
        self.progress = progress or (lambda _p: None)
        self.busy: Counter[str] = Counter()  # games in flight per contestant
        self.host_load: Counter[str] = Counter()  # seats in flight per LLM host
        self.hosts: dict[int, list[str | None]] = {}  # game -> the host of each seat (None: no LLM)
        self.attempts: Counter[int] = Counter()
        self.contestants = {c.name: c for c in plan.contestant}

    def run(self, pending: deque[ScheduledGame]) -> None:
        in_flight: dict[int, ScheduledGame] = {}
        while pending or in_flight:
            while len(in_flight) < self.plan.limits.games_at_once:
                game = self._next_startable(pending)
                if game is None:
                    break
                self._start(game)
                in_flight[game.index] = game
            self.state.running = len(in_flight)
            self.progress(self.state)
            result = self.runner.next_result()
            game = in_flight.pop(result.index)
            self._release(game)
            if result.status != "done" and self.attempts[game.index] <= self.plan.limits.retries:
                logger.info("game %s failed (%s): playing it again", game.index, result.error)
                pending.appendleft(game)
                continue
            self.store.record(
                game, self.plan.table[game.table].label, result, self.attempts[game.index], time.time()
            )
            self.state.done += 1
            self.state.failed += result.status != "done"
            self.state.last = result
        self.state.running = 0
        self.progress(self.state)

    def _next_startable(self, pending: deque[ScheduledGame]) -> ScheduledGame | None:
        """The first pending game whose contestants all have room (per-contestant `max_games`)."""
        for i, game in enumerate(pending):
            if all(
                self.contestants[c].max_games is None or self.busy[c] < (self.contestants[c].max_games or 0)
                for c in game.contestants
            ):
                del pending[i]
                return game
        return None

    def _start(self, game: ScheduledGame) -> None:
        self.attempts[game.index] += 1
        for c in game.contestants:
            self.busy[c] += 1
        chosen: list[str | None] = []
        for c in game.seats:
            hosts = self.contestants[c].hosts
            host = min(hosts, key=lambda h: (self.host_load[h], hosts.index(h))) if hosts else None
            if host is not None:
                self.host_load[host] += 1
            chosen.append(host)
        self.hosts[game.index] = chosen
        self.runner.submit(self.spec(game, chosen))

    def _release(self, game: ScheduledGame) -> None:
        for c in game.contestants:
            self.busy[c] -= 1
        for host in self.hosts.pop(game.index, []):
            if host is not None:
                self.host_load[host] -= 1

    def spec(self, game: ScheduledGame, hosts: list[str | None]) -> GameSpec:
        """The self-contained description of `game` a worker plays."""
        base = self.configs[game.table]
        config = GameConfig.build(
            dict(base.roles), players=list(game.names), rules=base.rules, name=base.name
        )
        seats: list[SeatSpec] = []
        for c, host in zip(game.seats, hosts, strict=True):
            contestant = self.contestants[c]
            settings = self.plan.llm_settings(contestant, host)
            llm = settings.model_dump(mode="json") if settings is not None else None
            seats.append(SeatSpec(c, contestant.agent, llm))
        return GameSpec(
            index=game.index,
            config=config.to_dict(),
            seed=game.seed,
            key=game_key(self.secret, game.seed),
            seats=tuple(seats),
            phase_deadline_s=self.plan.limits.phase_deadline_s,
            game_deadline_s=self.plan.limits.game_deadline_s,
            log_path=str(self.log_dir / f"game-{game.index:05d}.jsonl"),
        )
