"""The whole mutable state of one game as one value with public fields (OpenSpiel's *state*).

Phase logic (`engine.night`, `engine.day`, `engine.hunter`) reads and writes these fields directly and
acts on the world only through `engine.effects.Effects` (emit, kill, open a phase, end). `snapshot`
freezes every field, so a new field is covered the moment it is declared: there is no list to keep.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.actions import ABSTAIN_CHOICE, Action, ActionKind, Choice
from engine.config import GameConfig, Rules
from engine.errors import ConfigError
from engine.inputs import Input
from engine.observation import Routing
from engine.outcome import Outcome
from engine.vocabulary import Phase, PlayerId, Role


@dataclass(slots=True)
class NightState:
    """What tonight's actions have decided so far."""

    victim: PlayerId | None = None
    protected: list[PlayerId] = field(default_factory=list)
    healed: PlayerId | None = None
    poisoned: list[PlayerId] = field(default_factory=list)


class Opening(NamedTuple):
    """What a phase's opener decides: who acts, and what its `PhaseStarted` shows."""

    acting: list[PlayerId]
    speaker: PlayerId | None = None
    candidates: tuple[PlayerId, ...] = ()


class Table(NamedTuple):
    """What every game at one table shares (built once per table: `table_of`); never changed."""

    seat: dict[PlayerId, int]
    mention: re.Pattern[str]
    speak_menu: tuple[Choice, ...]


@functools.lru_cache(maxsize=256)
def table_of(players: tuple[PlayerId, ...], max_speech_chars: int) -> Table:
    """The seats, the pattern that finds a player's name in speech, and the speaking turns' menu."""
    return Table(
        seat={p: i for i, p in enumerate(players)},
        mention=re.compile(r"\b(" + "|".join(re.escape(p) for p in players) + r")\b", re.IGNORECASE),
        speak_menu=(Choice(ActionKind.SPEAK, max_chars=max_speech_chars), ABSTAIN_CHOICE),
    )


#: One entry of the agenda: a phase to open (`engine.phases.PHASES`) or an instant step
#: (`engine.phases.STEPS`), with its argument (the speakers of a discussion, a revote's candidates,
#: a bidding turn's number, a dead hunter, ...).
AgendaEntry = tuple[Any, Any]


@dataclass(slots=True, kw_only=True)
class GameState:
    """Everything one game is made of. The table and the deal never change once the game has started.

    Attributes:
        config, rules: the game's configuration; players: seats in order; seat: player -> seat index.
        roles: the deal; wolves: the werewolves in seat order; mention: matches a player's name in speech;
            speak_menu: every speaking turn's menu.
        rng: the draws (speaking orders, tie-breaks); phase_rng: the opaque phase ids.
        alive: who lives; alive_players: the living in seat order (kept in step with `alive`).
        day, phase, phase_id: where the game is; used_phase_ids: every id drawn so far.
        awaiting: who the open phase still waits for; choices: their menus; submitted: what came in.
        agenda: what comes next, in order; speakers: who speaks after the current turn (engine.day);
            candidates: a revote's candidates; vote_round: 1 or 2.
        potions: each witch's [heal, poison] left; last_protected: each protector's last target.
        night: tonight's decisions; executed_today: who the vote killed (the medium learns it).
        last_speaker, last_speech: the bidding discussion's memory of the last turn.
        outcome: how the game ended, once it has.
        routing: every event (`log`), the public ones, each player's view (`engine.observation.Routing`).
        inputs: every accepted input, typed, in order (what a replay re-applies).
    """

    config: GameConfig
    rules: Rules
    players: tuple[PlayerId, ...]
    seat: dict[PlayerId, int]
    roles: dict[PlayerId, Role]
    wolves: tuple[PlayerId, ...]
    mention: re.Pattern[str]
    speak_menu: tuple[Choice, ...]
    rng: random.Random
    phase_rng: random.Random
    alive: dict[PlayerId, bool]
    alive_players: tuple[PlayerId, ...]
    routing: Routing
    day: int = 0
    phase: Phase = Phase.NIGHT
    phase_id: int = 0
    used_phase_ids: set[int] = field(default_factory=lambda: {0})
    awaiting: set[PlayerId] = field(default_factory=set)
    choices: dict[PlayerId, tuple[Choice, ...]] = field(default_factory=dict)
    submitted: dict[PlayerId, Action] = field(default_factory=dict)
    agenda: deque[AgendaEntry] = field(default_factory=deque)
    speakers: deque[PlayerId] = field(default_factory=deque)
    candidates: tuple[PlayerId, ...] = ()
    vote_round: int = 1
    potions: dict[PlayerId, list[bool]] = field(default_factory=dict)
    last_protected: dict[PlayerId, PlayerId | None] = field(default_factory=dict)
    night: NightState = field(default_factory=NightState)
    executed_today: PlayerId | None = None
    last_speaker: PlayerId | None = None
    last_speech: str = ""
    outcome: Outcome | None = None
    inputs: list[Input] = field(default_factory=list)


def freeze(value: object) -> object:
    """`value` as nested tuples (sets and dicts sorted, random streams by their state), comparable."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(map(str, value)))
    if isinstance(value, list | deque | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, random.Random):
        return value.getstate()
    if isinstance(value, NightState):
        return freeze(dataclasses.astuple(value))
    if isinstance(value, Routing):  # the players' views are the log, filtered: the log says it all
        return tuple(value.log)
    return value


def snapshot(state: GameState) -> tuple[object, ...]:
    """Every field of `state`, frozen: equal snapshots mean equal games (engine/game.py Rule 3)."""
    return tuple(freeze(getattr(state, f.name)) for f in dataclasses.fields(state))


def draw(state: GameState, players: tuple[PlayerId, ...]) -> PlayerId:
    """One of `players`, drawn from the game's stream (no draw when there is only one)."""
    return players[0] if len(players) == 1 else state.rng.choice(players)


def shuffled(state: GameState, players: tuple[PlayerId, ...]) -> list[PlayerId]:
    """`players` in an order drawn from the game's stream."""
    order = list(players)
    state.rng.shuffle(order)
    return order


def deal(config: GameConfig, rng: random.Random) -> dict[PlayerId, Role]:
    """The config's roles dealt to its seats by `rng`."""
    deck = [role for role, count in config.roles for _ in range(count)]
    rng.shuffle(deck)
    return dict(zip(config.players, deck, strict=True))


def check_deal(config: GameConfig, roles: Mapping[PlayerId, Role]) -> dict[PlayerId, Role]:
    """An explicit deal, checked against the config (ConfigError if it does not match), in seat order."""
    if set(roles) != set(config.players):
        raise ConfigError("the deal must give a role to every player and to nobody else")
    counts: dict[Role, int] = {}
    for role in roles.values():
        counts[role] = counts.get(role, 0) + 1
    if counts != config.role_counts:
        raise ConfigError(f"the deal {counts} does not match the config's roles {config.role_counts}")
    return {p: roles[p] for p in config.players}
