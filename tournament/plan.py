"""A tournament plan: read from TOML, checked in full before anything runs.

A plan names its contestants (any agent spec `actors.specs` accepts, with options and a display
name), the tables (presets or a custom role table), how many blocks of games, a seed and the limits.
Every problem is a `PlanError` whose message names the line of the file (when it came from one) and
the key that is wrong, so a user fixes the plan, not the program. Example::

    name = "heuristic vs random"
    seed = 7
    blocks = 2                 # blocks per table; a block is one deal played once per seat rotation
    self_play = true           # also one self-play block per contestant (reported apart, not rated)

    [[table]]
    preset = "classic-8"

    [[contestant]]
    name = "heur"
    agent = "heuristic"

    [[contestant]]
    name = "rand"
    agent = "random"

    [limits]
    games_at_once = 2
    phase_deadline_s = 30
    game_deadline_s = 600
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from actors.llm import LLMSettings
from actors.llm.config import Backend
from actors.scripted import ScriptError
from actors.specs import agent_factory, build_config
from engine import ConfigError, GameConfig


class PlanError(ValueError):
    """A plan that cannot run; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contestant(_Strict):
    """One competitor: an agent spec, its options (LLM settings), the name reports show."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[\w.:+-]+$")
    agent: str = Field(min_length=1)
    #: Settings of an LLM seat (`actors.llm.LLMSettings` fields, e.g. timeout_s, options); none otherwise.
    options: dict[str, Any] = Field(default_factory=dict)
    #: LLM servers this contestant's games are spread over (least busy first); default: options' host.
    hosts: list[str] = Field(default_factory=list)
    #: Games this contestant may be in at once, over every executor (a GPU host is never oversubscribed).
    max_games: int | None = Field(default=None, ge=1)
    #: Seats it may take in one mixed game (a big model may be too slow to fill half a table).
    max_seats: int | None = Field(default=None, ge=1)


class Table(_Strict):
    """A preset, or a custom role table over a preset's rules."""

    preset: str = "classic-8"
    roles: dict[str, int] | None = None
    players: int | None = Field(default=None, ge=3)
    rules: dict[str, bool | int | str] = Field(default_factory=dict)

    def config(self) -> GameConfig:
        """The game configuration this table plays (raises ConfigError when it cannot exist)."""
        roles = ",".join(f"{k}={v}" for k, v in self.roles.items()) if self.roles is not None else None
        rules = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.rules.items()]
        return build_config(self.preset, roles=roles, players=self.players, rules=rules)

    @property
    def label(self) -> str:
        """How reports name the table."""
        return self.preset if self.roles is None and self.players is None and not self.rules else "custom"


class Limits(_Strict):
    """How much runs at once and how long anything may take."""

    games_at_once: int = Field(default=2, ge=1, le=1024)
    #: Requests in flight per LLM host (Ollama's OLLAMA_NUM_PARALLEL), unless a contestant sets `parallel`.
    llm_in_flight: int = Field(default=1, ge=1, le=64)
    phase_deadline_s: float = Field(default=30.0, gt=0)
    game_deadline_s: float = Field(default=1800.0, gt=0)
    #: Times a failed game (crashed, timed out, lost its worker) is played again before it counts as failed.
    retries: int = Field(default=1, ge=0, le=10)


class Plan(_Strict):
    """A whole tournament."""

    name: str = "tournament"
    seed: int = Field(default=0, ge=0)
    blocks: int = Field(default=1, ge=1, le=100_000)
    #: Distinct contestants at each mixed table (default: all of them, or 2 when there are more).
    per_table: int | None = Field(default=None, ge=2)
    self_play: bool = False
    mixed: bool = True
    contestant: list[Contestant] = Field(min_length=1)
    table: list[Table] = Field(default_factory=lambda: [Table()])
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="after")
    def _distinct_names(self) -> Plan:
        names = [c.name for c in self.contestant]
        if len(set(names)) != len(names):
            raise ValueError(f"contestant names must differ: {', '.join(names)}")
        return self

    @property
    def group_size(self) -> int:
        """Contestants sharing each mixed table."""
        if self.per_table is not None:
            return self.per_table
        return len(self.contestant) if len(self.contestant) <= 2 else 2  # noqa: PLR2004

    def configs(self) -> list[GameConfig]:
        """Each table's game configuration, in plan order."""
        return [t.config() for t in self.table]

    def host_limits(self) -> dict[str, int]:
        """Each LLM host of the plan with its limit (requests in flight; one per host, checked on load)."""
        limits: dict[str, int] = {}
        for contestant in self.contestant:
            hosts: list[str | None] = [*contestant.hosts] or [None]
            for host in hosts:
                settings = self.llm_settings(contestant, host)
                if settings is not None:
                    limits.setdefault(settings.host, settings.parallel)
        return limits

    def llm_settings(self, contestant: Contestant, host: str | None = None) -> LLMSettings | None:
        """The LLM settings of `contestant` (None for agents that take none), on `host` if given."""
        asked = _asked_settings(contestant)
        if asked is None:
            return None
        model, backend = asked
        values: dict[str, Any] = {
            "parallel": self.limits.llm_in_flight,
            **contestant.options,
            "model": model,
            "backend": backend,
        }
        if host is not None:
            values["host"] = host
        elif contestant.hosts:
            values["host"] = contestant.hosts[0]
        return LLMSettings.model_validate(values)


def _asked_settings(contestant: Contestant) -> tuple[str, Backend] | None:
    """The (model, backend) an agent spec asks LLM settings for, None if it takes none: found by asking
    `actors.specs` (no list of kinds here, so every LLM backend it knows works in a plan)."""
    asked: list[tuple[str, Backend]] = []

    def settings(model: str, backend: Backend) -> LLMSettings:
        asked.append((model, backend))
        return LLMSettings(model=model, backend=backend)

    factory = agent_factory(contestant.agent, _PROBE_CONFIG, settings)
    if not asked and factory(0, 0) is None:
        raise ValueError(f"{contestant.agent}: a tournament has no remote seats")
    return asked[0] if asked else None


_PROBE_CONFIG = build_config("classic-8")


def load_plan(path: Path) -> Plan:
    """Read and check the plan at `path`; raises PlanError naming the file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: {exc.strerror or exc}") from None
    return parse_plan(text, source=str(path), base=path.parent)


def parse_plan(text: str, *, source: str = "<plan>", base: Path | None = None) -> Plan:
    """Parse and check a plan from TOML text; `base` resolves relative `scripted:` paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{source}: not TOML: {exc}") from None
    if base is not None:
        _resolve_paths(data, base)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        what = "unknown key (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        raise PlanError(f"{_where(text, source, loc)}: {_dotted(loc)}: {what}") from None
    check_plan(plan, text, source)
    return plan


def check_plan(plan: Plan, text: str = "", source: str = "<plan>") -> None:
    """What pydantic cannot see: agent specs and options, tables, whether the seats can be filled."""
    for i, contestant in enumerate(plan.contestant):
        where = _where(text, source, ("contestant", i, "agent"))
        try:
            takes = _asked_settings(contestant) is not None
        except (ValueError, OSError, ScriptError) as exc:
            raise PlanError(f"{where}: contestant {contestant.name!r}: {exc}") from None
        if not takes and (contestant.options or contestant.hosts):
            key = "options" if contestant.options else "hosts"
            raise PlanError(
                f"{_where(text, source, ('contestant', i, key))}: contestant {contestant.name!r}: "
                f"{contestant.agent} takes no {key}"
            )
        if takes:
            try:
                hosts: list[str | None] = [*contestant.hosts] or [None]
                for host in hosts:
                    plan.llm_settings(contestant, host)
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ("contestant", i, "options", *err["loc"])
                what = "unknown option (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
                raise PlanError(f"{_where(text, source, loc)}: {_dotted(loc)}: {what}") from None
    _check_host_limits(plan, text, source)
    n = len(plan.contestant)
    group = plan.group_size
    if plan.mixed and n < 2:  # noqa: PLR2004
        raise PlanError(
            f"{_where(text, source, ('contestant',))}: mixed tables need two contestants or more "
            "(for one contestant alone: mixed = false, self_play = true)"
        )
    if plan.mixed and group > n:
        raise PlanError(
            f"{_where(text, source, ('per_table',))}: per_table: {group} contestants per table, "
            f"but the plan names only {n}"
        )
    if not plan.mixed and not plan.self_play:
        raise PlanError(
            f"{_where(text, source, ('mixed',))}: mixed: no game to play (mixed and self_play off)"
        )
    for i, table in enumerate(plan.table):
        try:
            config = table.config()
        except (ConfigError, ValueError) as exc:
            raise PlanError(f"{_where(text, source, ('table', i, 'preset'))}: table {i + 1}: {exc}") from None
        if plan.mixed:
            _check_seats(plan, config, text, source, i)


def _check_host_limits(plan: Plan, text: str, source: str) -> None:
    """One `parallel` per LLM host: a host's limit is the server's, shared by every seat on it
    (`actors.llm.pool`), so two contestants giving one host two limits would fail every game."""
    limits: dict[str, tuple[int, str]] = {}
    for i, contestant in enumerate(plan.contestant):
        hosts: list[str | None] = [*contestant.hosts] or [None]
        for host in hosts:
            settings = plan.llm_settings(contestant, host)
            if settings is None:
                break
            seen = limits.setdefault(settings.host, (settings.parallel, contestant.name))
            if seen[0] != settings.parallel:
                raise PlanError(
                    f"{_where(text, source, ('contestant', i, 'options'))}: contestant {contestant.name!r} "
                    f"gives host {settings.host} parallel = {settings.parallel}, {seen[1]!r} gives it "
                    f"{seen[0]}: one limit per host"
                )


def _check_seats(plan: Plan, config: GameConfig, text: str, source: str, i: int) -> None:
    seats = len(config.players)
    group = plan.group_size
    each = -(-seats // group)  # when seats do not divide, a contestant holds the extra seat in turn
    for contestant in plan.contestant:
        if contestant.max_seats is not None and contestant.max_seats < each:
            raise PlanError(
                f"{_where(text, source, ('table', i))}: table {i + 1} has {seats} seats: more than its "
                f"{group} contestants can fill ({contestant.name!r} takes at most {contestant.max_seats}, "
                f"each must take {each})"
            )


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """A `scripted:PATH` relative to the plan's folder, as a user expects."""
    for item in data.get("contestant", []) if isinstance(data.get("contestant"), list) else []:
        agent = item.get("agent") if isinstance(item, dict) else None
        if isinstance(agent, str) and agent.startswith("scripted:"):
            path = Path(agent.partition(":")[2])
            if not path.is_absolute() and (base / path).exists():
                item["agent"] = f"scripted:{base / path}"


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part + 1}]"] if parts else [f"[{part + 1}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([\w.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([\w\-]+)\s*=")


def _where(text: str, source: str, loc: Sequence[Any]) -> str:
    """`source:LINE` for the key at `loc` (table path with array indexes), `source` if not found."""
    line = _find_line(text, loc) if text else None
    return f"{source}:{line}" if line is not None else source


def _find_line(text: str, loc: Sequence[Any]) -> int | None:
    table: str | None = None  # the [[table]] or [table] we are in
    index = -1
    counts: dict[str, int] = {}
    best: int | None = None
    head = str(loc[0]) if loc else ""
    nested = len(loc) > 1 and isinstance(loc[1], int)
    want_index = loc[1] if nested else None
    rest = [str(p) for p in loc[2:] if not isinstance(p, int)] if nested else [str(p) for p in loc[1:]]
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            top = name.split(".")[0]
            if header.group(1) == "[[":
                counts[top] = counts.get(top, -1) + 1
            table, index = top, counts.get(top, 0)
            if top == head and (want_index is None or index == want_index):
                best = best or number
                if not rest:
                    return number
                if name.split(".")[-1] in rest:  # a [contestant.options] sub-table
                    best = number
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        in_place = (table == head and (want_index is None or index == want_index)) or (
            table is None and not nested
        )
        if in_place and key.group(1) in (rest or [head]):
            return number
        if in_place and rest and key.group(1) == rest[0]:
            return number
        if in_place and rest and key.group(1) == rest[-1] and best is not None:
            return number
    return best
