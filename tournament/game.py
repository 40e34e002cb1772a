"""Play one scheduled game anywhere (this process, another one, a Ray worker) and measure it.

A `GameSpec` is everything a worker needs, in plain picklable values: the table (config as a dict),
the seat names, the seed and the game's key (never the host secret), each seat's agent spec and LLM
settings, and on Ray where its LLM hosts' cluster-wide limits are. `play_spec` plays it through
`actors.runner.start_game` and returns a `GameResult`: the outcome and, per seat, role, side,
survival, faults, usage and the role-play counts the ratings use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.agents import Agent
from actors.llm import LLMSettings
from actors.llm.config import Backend
from actors.runner import RunningGame, SeatOccupant, start_game
from actors.scheduler import Scheduler
from actors.specs import AgentFactory, LLMSettingsFor, agent_factory
from engine import ROLE_SPECS, GameConfig, PlayerId, Role, Team, seat_seed
from engine.game import DEADLINE_REASON
from tournament.limits import RayHostLimits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeatSpec:
    """Who plays one seat: the contestant's name, agent spec and LLM settings (as a dict) if any."""

    contestant: str
    agent: str
    llm: dict[str, Any] | None = None


@dataclass(frozen=True)
class GameSpec:
    """One game, ready to play in any process."""

    index: int
    config: dict[str, Any]  # GameConfig.to_dict(), players already renamed
    seed: int
    key: bytes
    seats: tuple[SeatSpec, ...]
    phase_deadline_s: float
    game_deadline_s: float
    log_path: str | None = None
    #: Set on Ray: the run whose host limit actors (tournament/limits.py) the LLM seats hold slots of.
    host_limits: RayHostLimits | None = None


@dataclass
class SeatResult:
    """One seat's game."""

    seat: int
    name: str
    contestant: str
    role: str
    side: str
    survived: bool
    death_day: int | None = None
    death_cause: str | None = None
    decisions: int = 0
    faults: int = 0
    fallbacks: int = 0  # decisions the built-in agent took for an LLM seat (server down, timeout)
    timeouts: int = 0
    retries: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    votes: int = 0  # day votes cast for someone
    wolf_votes: int = 0  # of those, for a wolf


@dataclass
class GameResult:
    """What came of one game: `status` is "done" or "failed" (then `error` says why)."""

    index: int
    status: str
    winner: str | None = None
    termination: str | None = None
    days: int = 0
    wall_s: float = 0.0
    error: str | None = None
    log_path: str | None = None
    seats: list[SeatResult] = field(default_factory=list)


def play_spec(
    spec: GameSpec, scheduler: Scheduler | None = None, on_start: Callable[[RunningGame], None] | None = None
) -> GameResult:
    """Play `spec` to its end (or its deadline) and stop every actor it started; never raises for a
    game that goes wrong, it returns a failed result instead (an interrupt still propagates).
    `on_start` is told the running game (an executor that must be able to abort it)."""
    start = time.perf_counter()
    try:
        config = GameConfig.from_dict(spec.config)
        agents = build_seats(config, spec)
        log_path = Path(spec.log_path) if spec.log_path else None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
        running = start_game(
            config,
            agents,
            seed=spec.seed,
            key=spec.key,
            timeout_s=spec.phase_deadline_s,
            scheduler=scheduler,
            log_path=log_path,
            game_id=f"g{spec.index}",
            # No timing cover: nobody watches a tournament game live, and its agents (in this process)
            # read no clock; the cover would only hold each night for whole deadlines.
            hidden_turn_s=0.0,
        )
        if on_start is not None:
            on_start(running)
        try:
            finished = running.wait(spec.game_deadline_s)
        finally:
            running.stop()
    except Exception as exc:
        logger.warning("game %s failed: %s", spec.index, exc)
        return GameResult(spec.index, "failed", error=f"{type(exc).__name__}: {exc}", wall_s=_since(start))
    if finished.outcome is None:
        return GameResult(spec.index, "failed", error="aborted", wall_s=_since(start))
    result = measure(spec, finished.record, finished.faults, finished.usage)
    result.wall_s = _since(start)
    return result


def _since(start: float) -> float:
    return time.perf_counter() - start


def build_seats(config: GameConfig, spec: GameSpec) -> dict[PlayerId, SeatOccupant]:
    """Each seat's agent, seeded from its own stream of the game's key; LLM seats hold their host's
    cluster-wide limit when the spec has one (Ray), else the host's pool in this process."""
    limiter_for = spec.host_limits.limiter_for if spec.host_limits is not None else None
    factories: dict[tuple[str, str | None], AgentFactory] = {}  # per contestant and LLM host
    agents: dict[PlayerId, SeatOccupant] = {}
    for i, (player, seat) in enumerate(zip(config.players, spec.seats, strict=True)):
        which = (seat.contestant, seat.llm.get("host") if seat.llm is not None else None)
        if which not in factories:
            settings = LLMSettings.model_validate(seat.llm) if seat.llm is not None else None
            factories[which] = agent_factory(seat.agent, config, _given(settings), limiter_for=limiter_for)
        agent: Agent | None = factories[which](seat_seed(spec.key, spec.seed, i), i)
        if agent is None:
            raise ValueError(f"{seat.agent}: a tournament has no remote seats")
        agents[player] = agent
    return agents


def _given(settings: LLMSettings | None) -> LLMSettingsFor:
    def settings_for(_model: str, _backend: Backend) -> LLMSettings:
        if settings is None:
            raise ValueError("this agent needs LLM settings")
        return settings

    return settings_for


def measure(
    spec: GameSpec,
    record: Mapping[str, Any],
    faults: Mapping[PlayerId, int],
    usage: Mapping[PlayerId, Mapping[str, float]],
) -> GameResult:
    """The result of a finished game from its record (events, inputs, outcome) and its counters."""
    players = list(record["config"]["players"])
    roles: dict[str, Role] = {}
    deaths: dict[str, tuple[int, str]] = {}
    timeouts = dict.fromkeys(players, 0)
    votes = dict.fromkeys(players, 0)
    wolf_votes = dict.fromkeys(players, 0)
    events = record["events"]
    for event in events:
        if event["type"] == "game_ended":
            roles = {p: Role(r) for p, r in event["roles"]}
    wolves = {p for p, r in roles.items() if ROLE_SPECS[r].is_wolf}
    for event in events:
        match event["type"]:
            case "player_died":
                deaths.setdefault(event["player"], (int(event["day"]), str(event["cause"])))
            case "player_faulted" if event["reason"] == DEADLINE_REASON:
                timeouts[event["player"]] += 1
            case "votes_revealed":
                for voter, target in event["votes"]:
                    if target is not None:
                        votes[voter] += 1
                        wolf_votes[voter] += target in wolves
    decisions = dict.fromkeys(players, 0)
    for entry in record["inputs"]:
        if isinstance(entry, dict) and entry.get("player") in decisions:
            decisions[entry["player"]] += 1
    outcome = record["outcome"] or {}
    result = GameResult(
        spec.index,
        "done",
        winner=outcome.get("winner"),
        termination=outcome.get("termination"),
        days=int(outcome.get("day", 0)),
        log_path=spec.log_path,
    )
    for i, (player, seat) in enumerate(zip(players, spec.seats, strict=True)):
        role = roles[player]
        used = usage.get(PlayerId(player), {})
        death = deaths.get(player)
        result.seats.append(
            SeatResult(
                seat=i,
                name=player,
                contestant=seat.contestant,
                role=role.value,
                side=Team(ROLE_SPECS[role].team).value,
                survived=death is None,
                death_day=death[0] if death else None,
                death_cause=death[1] if death else None,
                decisions=decisions[player],
                faults=int(faults.get(PlayerId(player), 0)),
                fallbacks=int(used.get("fallbacks", 0)),
                timeouts=timeouts[player],
                retries=int(used.get("retries", 0)),
                calls=int(used.get("calls", 0)),
                prompt_tokens=int(used.get("prompt_tokens", 0)),
                completion_tokens=int(used.get("completion_tokens", 0)),
                latency_s=float(used.get("latency_s", 0.0)),
                votes=votes[player],
                wolf_votes=wolf_votes[player],
            )
        )
    return result
