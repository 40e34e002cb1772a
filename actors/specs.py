"""Seat and game specs from strings: agent specs, rule switches, role tables, seats by number or name.

What `run.py` (and any other front end: a tournament file, a web form) reads from its user, parsed
in one place. Every parser raises `ValueError` (`ConfigError` is one) with a message that says what
is wrong and what is accepted, so a front end only has to print it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from actors.agents import Agent, RandomAgent
from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, Limiter, LLMAgent, LLMSettings, OllamaOptions
from actors.llm.config import BACKENDS, Backend
from actors.scripted import ScriptedAgent
from engine import ConfigError, GameConfig, PlayerId, Rules, preset, seat_seed

#: The agent specs a seat takes; `remote` is a seat for an agent that connects over the network, `human`
#: a remote seat for a person (the browser page), with a deadline fit for one, `aiwolf` a remote seat
#: for an AIWolf NLP agent (it connects to `/ws` and speaks AIWolf's protocol).
AGENT_KINDS = (
    "heuristic",
    "random",
    "scripted:PATH",
    "ollama:MODEL",
    "openai:MODEL",
    "remote",
    "human[:SECONDS]",
    "aiwolf",
)
REMOTE = "remote"
HUMAN = "human"
#: A person's time to answer each request unless `human:SECONDS` says otherwise: reading the
#: discussion and typing a speech takes longer than an agent's 30 s.
HUMAN_DEADLINE_S = 120.0
AIWOLF = "aiwolf"

#: (seed, seat index) -> the seat's agent; None: a remote seat.
AgentFactory = Callable[[int, int], Agent | None]
#: (model name, backend) -> the settings of an LLM seat (only asked for when a spec names a model).
LLMSettingsFor = Callable[[str, Backend], LLMSettings]
#: An LLM seat's settings -> the limiter of its host's requests (default: the process's host pool).
LimiterFor = Callable[[LLMSettings], Limiter]
_EXAMPLE_MODEL = {"ollama": "llama3.2", "openai": "qwen3-8b"}


def agent_factory(
    spec: str,
    config: GameConfig,
    llm_settings: LLMSettingsFor | None = None,
    *,
    limiter_for: LimiterFor | None = None,
) -> AgentFactory:
    """Parse one agent spec (see `AGENT_KINDS`) into a factory; `scripted:PATH` reads its script now.

    `limiter_for` gives LLM seats their host's limiter (a tournament on Ray: one that holds across
    the cluster); by default each seat takes its host's pool in this process (actors/llm/pool.py)."""
    kind, _, arg = spec.partition(":")
    if kind in (REMOTE, AIWOLF) and not arg:
        return lambda _seed, _i: None
    if kind == HUMAN:
        human_deadline(spec)  # checked now
        return lambda _seed, _i: None
    if kind == "heuristic" and not arg:
        return lambda seed, _i: HeuristicAgent(seed)
    if kind == "random" and not arg:
        return lambda seed, _i: RandomAgent(seed)
    if kind == "scripted":
        if not arg:
            raise ValueError("scripted needs a path: scripted:path/to/script.toml")
        script = ScriptedAgent.from_file(Path(arg))  # read (and checked) once
        # Each seat plays the script from its start: a script's position is its own seat's.
        return lambda _seed, _i: ScriptedAgent(script.steps, name=script.name)
    if kind in BACKENDS:
        backend: Backend = "openai" if kind == "openai" else "ollama"
        if not arg:
            raise ValueError(f"{kind} needs a model: {kind}:MODEL (e.g. {kind}:{_EXAMPLE_MODEL[kind]})")
        settings = (llm_settings or (lambda model, backend: LLMSettings(model=model, backend=backend)))(
            arg, backend
        )
        limiter = limiter_for(settings) if limiter_for is not None else None
        return lambda seed, i: LLMAgent(
            settings,
            config,
            persona=PERSONAS[(seed + i) % len(PERSONAS)],
            fallback=HeuristicAgent(seed),
            limiter=limiter,
        )
    raise ValueError(f"unknown agent {spec!r} (known: {', '.join(AGENT_KINDS)})")


def human_deadline(spec: str) -> float | None:
    """The deadline of a `human[:SECONDS]` seat spec, or None if `spec` is not a human seat."""
    kind, sep, arg = spec.partition(":")
    if kind != HUMAN:
        return None
    if not sep:
        return HUMAN_DEADLINE_S
    try:
        seconds = float(arg)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"human:SECONDS takes a number of seconds > 0 (e.g. human:90), got {spec!r}")
    return seconds


def seat_deadlines(specs: Mapping[PlayerId, str]) -> dict[PlayerId, float]:
    """The seats whose deadline is their own (people's seats), with it."""
    deadlines = {p: human_deadline(spec) for p, spec in specs.items()}
    return {p: d for p, d in deadlines.items() if d is not None}


def human_seats(specs: Mapping[PlayerId, str]) -> list[PlayerId]:
    """The seats kept for people, in seat order."""
    return [p for p, spec in specs.items() if spec.partition(":")[0] == HUMAN]


def parse_llm_options(items: Sequence[str]) -> OllamaOptions:
    """`KEY=VALUE` Ollama options; a VALUE that is JSON (0.7, true) is taken as such, else as a string."""
    options: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--llm-option takes KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip()] = raw
    try:
        return OllamaOptions.model_validate(options)
    except ValidationError as exc:
        raise ValueError(f"LLM settings: {validation_problems(exc)}") from None


def validation_problems(exc: ValidationError) -> str:
    """A pydantic error as one line: `field: message; ...`."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def parse_rules(items: Sequence[str], base: Rules) -> Rules:
    """`KEY=VALUE` rule switches over `base`: booleans take true/false/yes/no/1/0, integers digits."""
    values = base.to_dict()
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"--rule takes KEY=VALUE, got {item!r}")
        key = key.strip().replace("-", "_")
        if key not in values:
            raise ConfigError(f"unknown rule {key!r} (known: {', '.join(values)})")
        current = values[key]
        if isinstance(current, bool):
            if raw.lower() not in {"true", "false", "yes", "no", "1", "0"}:
                raise ConfigError(f"rule {key} takes true or false, got {raw!r}")
            values[key] = raw.lower() in {"true", "yes", "1"}
        elif isinstance(current, int):
            try:
                values[key] = int(raw)
            except ValueError:
                raise ConfigError(f"rule {key} takes an integer, got {raw!r}") from None
        else:
            values[key] = raw
    return Rules.from_dict(values)


def parse_roles(text: str) -> dict[str, int]:
    """A role table `ROLE=COUNT,...` (a role named twice adds up)."""
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, raw = part.partition("=")
        if not sep or not raw.strip().isdigit():
            raise ConfigError(f"--roles takes ROLE=COUNT,... (e.g. werewolf=2,seer=1), got {part!r}")
        counts[name.strip()] = counts.get(name.strip(), 0) + int(raw)
    return counts


def build_config(
    preset_name: str, *, roles: str | None = None, players: int | None = None, rules: Sequence[str] = ()
) -> GameConfig:
    """A preset, with a role table, a seat count and rule switches over it.

    Only a seat count: the preset's powers are kept and the other seats are villagers.
    """
    base = preset(preset_name)
    parsed_rules = parse_rules(rules, base.rules)
    if roles is None and players is None:
        return GameConfig(players=base.players, roles=base.roles, rules=parsed_rules, name=base.name)
    counts = parse_roles(roles) if roles is not None else {r.value: n for r, n in base.roles}
    if roles is None:
        counts.pop("villager", None)
    seats = players if players is not None else len(base.players)
    return GameConfig.build(counts, players=seats, rules=parsed_rules, name="custom")


def seat_name(config: GameConfig, key: str) -> PlayerId:
    """The seat `key` names: a number from 1, or a player's name (any case)."""
    if key.isdigit():
        number = int(key)
        if not 1 <= number <= len(config.players):
            raise ValueError(f"seat {number} does not exist (seats 1-{len(config.players)})")
        return config.players[number - 1]
    for p in config.players:
        if p.lower() == key.lower():
            return p
    raise ValueError(f"no seat named {key!r} (seats: {', '.join(config.players)})")


def seat_specs(
    config: GameConfig, default: str, *, remote: int = 0, seats: Sequence[str] = (), aiwolf: int = 0
) -> dict[PlayerId, str]:
    """The agent spec of each seat: `default` for all, `remote` for the first `remote` seats, `aiwolf`
    for the next `aiwolf` seats, then each `SEAT=AGENT` override (by number from 1, or by name)."""
    specs = dict.fromkeys(config.players, default)
    if not 0 <= remote <= len(config.players):
        raise ValueError(f"--remote must be between 0 and {len(config.players)}")
    if not 0 <= aiwolf <= len(config.players) - remote:
        raise ValueError(f"--aiwolf must be between 0 and {len(config.players) - remote} (after --remote)")
    for player in config.players[:remote]:
        specs[player] = REMOTE
    for player in config.players[remote : remote + aiwolf]:
        specs[player] = AIWOLF
    for item in seats:
        seat, sep, spec = item.partition("=")
        if not sep:
            raise ValueError(f"--seat takes SEAT=AGENT (e.g. 3=random), got {item!r}")
        specs[seat_name(config, seat.strip())] = spec.strip()
    return specs


def build_agents(
    config: GameConfig,
    specs: Mapping[PlayerId, str],
    *,
    seed: int,
    key: bytes | None,
    llm_settings: LLMSettingsFor | None = None,
) -> dict[PlayerId, Agent | None]:
    """One agent per seat (None: remote), each with its own random stream (`engine.seat_seed`: secret
    when the game is keyed). Every spec is parsed before any agent is made."""
    factories = {spec: agent_factory(spec, config, llm_settings) for spec in dict.fromkeys(specs.values())}
    return {p: factories[specs[p]](seat_seed(key, seed, i), i) for i, p in enumerate(config.players)}
