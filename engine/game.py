"""The game of Werewolf as a pure, seeded state machine: inputs in, events out.

Theory of operation
-------------------
Shape (after OpenSpiel's game/state split and h11's single transition table). A `Game` is the public
face of one `GameState` (`engine.state`): a value with public fields holding everything the game is
made of. Phase logic lives in `engine.night`, `engine.day` and `engine.hunter` as plain functions of
that state and of `Effects` (`engine.effects`: emit, kill, open a phase, end), never of `Game`. One
table, `engine.phases.PHASES`, gives each phase its opener (who acts), menu, resolver and audience;
`Effects.run` is the one place that reads it.

Rule 1. The engine never reads a clock, the environment or the global `random`. Random streams owned
by the game deal the roles and draw every speaking order, tie-break and opaque phase id, always over
lists in seat order, so one seed (and key) and one sequence of inputs give one game. A hosted game is
keyed (`engine.seeding`): its streams come from a secret key, so knowing the seed is not knowing the deal.

Rule 2. The game is a queue of entries (the *agenda*): phases that wait for players (the wolves' chat
turns, the night, the witch, speaking turns, bidding, votes, last words, hunter shots) and instant steps
(nightfall, dawn, daybreak, an execution). Entries run in order until one opens a phase that waits for
players (`awaiting()`); inputs close that phase and the agenda runs on. Night and vote phases collect
every awaited action first and resolve them together in seat order, so results never depend on
arrival order.

Rule 3. Every input is a typed, immutable value (`engine.inputs`: `Act`, `Deadline`, `Fault`,
`Reasoning`) handled by `handle`; `apply` and the other entry points only build one. An action is
validated before anything changes; an illegal action raises `IllegalAction` and leaves the state as it
was (compare `snapshot()`, which freezes every field of the state).

Rule 4. A side's victory is checked after every death (night deaths, which are simultaneous, are
checked together). The game ends there: no later phase opens.

Rule 5. Every event is routed once, when emitted, to the players its audience allows
(`observation.may_see`) and, if public, to the public view; `observe(player)` reads only what was
routed to that player, and `visible_since` / `public_since` / `events_since` give each view's new events
from a cursor, so a consumer (the game master's fan-out) never filters again.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, NoReturn

from engine.actions import Abstain, Action, Choice
from engine.agenda import Step
from engine.config import GameConfig
from engine.effects import Effects
from engine.errors import IllegalAction
from engine.events import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    ActionRecorded,
    Event,
    GameStarted,
    Reasoned,
    RoleAssigned,
    WolvesMet,
    to_player,
)
from engine.inputs import Act, Deadline, Fault, Input, Reasoning, input_to_dict
from engine.observation import Observation, Routing, last_phase_seen
from engine.outcome import Outcome
from engine.roles import ROLE_SPECS
from engine.seeding import stream_seed
from engine.state import GameState, check_deal, deal, snapshot, table_of
from engine.vocabulary import Phase, PlayerId, Role

_NO_POTIONS = (False, False)
_new_act = tuple.__new__  # Act(player, action) without NamedTuple's Python-level __new__ (every action)
DEADLINE_REASON = "no action before the deadline"


class Game:
    """One game of Werewolf. Pure: no I/O, no clock, no global randomness.

    Attributes:
        config, rules, seed, key: what the game was made from.
        state: the whole mutable state (`engine.state.GameState`); read it, never write it from outside.
    """

    __slots__ = ("_fx", "config", "forced_roles", "key", "rules", "seed", "state")

    def __init__(
        self,
        config: GameConfig,
        *,
        seed: int,
        roles: Mapping[PlayerId, Role] | None = None,
        key: bytes | None = None,
    ) -> None:
        """Start a game; prefer `Game.new` (seeded deal) or `Game.with_roles` (scripted tests).

        `key` (from `engine.seeding.game_key`) makes every draw secret; without it the seed alone decides.
        """
        self.config = config
        self.rules = config.rules
        self.seed = seed
        self.key = key
        #: Whether the deal was given explicitly (`with_roles`) rather than drawn from the seed.
        self.forced_roles = roles is not None
        if key is None:  # the unkeyed streams of old: reproducible from the seed, not secret
            rng = random.Random(seed)
            phase_rng = random.Random(f"phase-ids/{seed}")
            deal_rng = rng
        else:  # independent streams: what players see of one tells nothing about another
            rng = random.Random(stream_seed(key, "draws"))
            phase_rng = random.Random(stream_seed(key, "phase-ids"))
            deal_rng = random.Random(stream_seed(key, "deal"))
        players = config.players
        table = table_of(players, config.rules.max_speech_chars)
        dealt = deal(config, deal_rng) if roles is None else check_deal(config, roles)
        wolves = tuple(p for p in players if ROLE_SPECS[dealt[p]].is_wolf)
        self.state = s = GameState(
            config=config,
            rules=config.rules,
            players=players,
            seat=table.seat,
            roles=dealt,
            wolves=wolves,
            mention=table.mention,
            speak_menu=table.speak_menu,
            rng=rng,
            phase_rng=phase_rng,
            alive=dict.fromkeys(players, True),
            alive_players=players,
            potions={p: [True, True] for p in players if ROLE_SPECS[dealt[p]].witch},
            routing=Routing(players, wolves),
        )
        s.agenda.append((Step.DAY, None) if config.rules.day_zero else (Step.NIGHTFALL, None))
        self._fx = fx = Effects(s)
        fx.emit(GameStarted(PUBLIC, 0, players, config.roles))
        for p in players:
            fx.emit(RoleAssigned(to_player(p), 0, p, dealt[p]))
        fx.emit(WolvesMet(WOLVES, 0, wolves))
        fx.run()

    # ------------------------------------------------------------------ construction

    @classmethod
    def new(cls, config: GameConfig, *, seed: int, key: bytes | None = None) -> Game:
        """A game whose roles are dealt by the seed (and the key, if given)."""
        return cls(config, seed=seed, key=key)

    @classmethod
    def with_roles(
        cls, config: GameConfig, roles: Mapping[PlayerId, Role], *, seed: int = 0, key: bytes | None = None
    ) -> Game:
        """A game with an explicit deal (it must match the config's role counts); for tests and scenarios."""
        return cls(config, seed=seed, roles=roles, key=key)

    # ------------------------------------------------------------------ public queries

    @property
    def players(self) -> tuple[PlayerId, ...]:
        """Every player in seat order."""
        return self.state.players

    @property
    def alive_players(self) -> tuple[PlayerId, ...]:
        """The living, in seat order."""
        return self.state.alive_players

    @property
    def day(self) -> int:
        """The current day; night N precedes day N."""
        return self.state.day

    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self.state.phase

    @property
    def phase_id(self) -> int:
        """The current phase's id: unique within the game and opaque, so late answers can be recognised."""
        return self.state.phase_id

    @property
    def events(self) -> tuple[Event, ...]:
        """The whole event log (game master's view)."""
        return tuple(self.state.routing.log)

    @property
    def inputs(self) -> tuple[dict[str, Any], ...]:
        """Every accepted input, in order, in its log form: what a replay re-applies."""
        return self.inputs_since(0)

    def inputs_since(self, index: int) -> tuple[dict[str, Any], ...]:
        """The inputs from position `index` on, as plain dicts (fresh copies)."""
        return tuple(input_to_dict(item) for item in self.state.inputs[index:])

    def events_since(self, index: int) -> tuple[Event, ...]:
        """The events from position `index` of the log on (cheaper than slicing `events`)."""
        return tuple(self.state.routing.log[index:])

    def public_since(self, index: int) -> tuple[Event, ...]:
        """The public events from position `index` of the public view on (routed when emitted)."""
        return tuple(self.state.routing.public[index:])

    def visible_since(self, player: PlayerId, index: int) -> tuple[Event, ...]:
        """The events routed to `player` from position `index` of his view on (his observation's events)."""
        return tuple(self.state.routing.seen(player)[index:])

    def public_events(self) -> tuple[Event, ...]:
        """The events everyone may see, in order (a spectator's public view)."""
        return tuple(self.state.routing.public)

    def role_of(self, player: PlayerId) -> Role:
        """A player's role (game master knowledge: never hand this to a player)."""
        return self.state.roles[player]

    def is_alive(self, player: PlayerId) -> bool:
        """Whether `player` is alive."""
        return self.state.alive[player]

    def outcome(self) -> Outcome | None:
        """How the game ended, or None while it goes on."""
        return self.state.outcome

    def awaiting(self) -> frozenset[PlayerId]:
        """The players whose action the current phase still waits for."""
        return frozenset(self.state.awaiting)

    def legal_actions(self, player: PlayerId) -> tuple[Choice, ...]:
        """What `player` may do now: a menu of choices, empty if nothing is expected of him."""
        s = self.state
        return s.choices[player] if player in s.awaiting else ()

    def observe(self, player: PlayerId) -> Observation:
        """Everything `player` may know now: his secrets plus the events he was allowed to see."""
        s = self.state
        role = s.roles[player]
        spec = ROLE_SPECS[role]
        potions = s.potions.get(player, _NO_POTIONS)
        # `Routing.seen`, inlined (this runs before every action): catch the view up with the public one.
        routing = s.routing
        view, public = routing.views[player], routing.public
        if view.public_upto < len(public):
            view.events += public[view.public_upto :]
            view.public_upto = len(public)
        seen = view.events
        if s.outcome is not None or player in s.awaiting:
            phase, phase_id = s.phase, s.phase_id
        else:
            phase, phase_id = last_phase_seen(seen)
        # Positional, in field order: built before every action, and keywords cost a third of it.
        return Observation(
            player,
            role,
            spec.team,
            s.alive[player],
            s.day,
            phase,
            phase_id,
            s.players,
            s.alive_players,
            s.wolves if spec.is_wolf else (),
            potions[0],
            potions[1],
            tuple(seen),
        )

    def snapshot(self) -> tuple[Any, ...]:
        """A comparable value of the whole state (to check that nothing changed)."""
        return snapshot(self.state)

    # ------------------------------------------------------------------ inputs

    def handle(self, item: Input) -> list[Event]:
        """Handle one input; return the events it caused. Raises IllegalAction (state unchanged).

        The one entry point: `apply`, `deadline_passed`, `note_fault` and `note_reasoning` build an input
        and call this, and a replay is a loop over a record's inputs.
        """
        if isinstance(item, Act):
            return self.apply(*item)
        if isinstance(item, Deadline):
            return self._deadline(item.phase_id)
        if isinstance(item, Fault):
            return self._noted(item, item.player)
        if isinstance(item, Reasoning):
            return self._noted(item, item.player)
        raise TypeError(f"not an input: {item!r}")

    def apply(self, player: PlayerId, action: Action) -> list[Event]:
        """Apply `player`'s action; return the events it caused. Raises IllegalAction (state unchanged)."""
        s = self.state
        # The common case inline (an awaited player, a legal action): this runs for every action.
        awaiting = s.awaiting
        if player in awaiting:
            kind = getattr(action, "kind", None)
            for choice in s.choices[player]:
                if choice.kind is kind:
                    refusal = choice.refusal(action)
                    if refusal is None:
                        break
                    raise IllegalAction(refusal, player, action)
            else:
                self._refuse(player, action)
        else:
            self._refuse(player, action)
        log = s.routing.log
        mark = len(log)
        s.inputs.append(_new_act(Act, (player, action)))
        awaiting.discard(player)
        s.submitted[player] = action
        fx = self._fx
        if fx.spec.acknowledged:
            fx.emit(ActionRecorded(to_player(player), s.day, player, action))
        if not awaiting:
            fx.close()
        return log[mark:]

    def deadline_passed(self, phase_id: int | None = None) -> list[Event]:
        """The current phase's time is up: every missing player faults and abstains, then it resolves.

        A deadline for another phase (`phase_id` not current) is stale and ignored.
        """
        return self._deadline(phase_id)

    def note_fault(self, player: PlayerId, reason: str) -> list[Event]:
        """Record a fault of `player` seen outside the engine (an illegal or unparsable answer).

        Once the game is over a fault is ignored, like a deadline: nothing follows GameEnded.
        """
        return self._noted(Fault(player, reason), player)

    def note_reasoning(self, player: PlayerId, text: str) -> list[Event]:
        """Record a player's private reasoning (seen only by the game master and the full view).

        It changes nothing in the game; it is an input so that a replayed log keeps it in place.
        """
        return self._noted(Reasoning(player, text), player)

    def _deadline(self, phase_id: int | None) -> list[Event]:
        s = self.state
        if s.outcome is not None or not s.awaiting:
            return []
        if phase_id is not None and phase_id != s.phase_id:
            return []
        log = s.routing.log
        mark = len(log)
        s.inputs.append(Deadline(s.phase_id))
        fx = self._fx
        for p in s.players:
            if p in s.awaiting:
                fx.fault(p, DEADLINE_REASON)
                s.submitted[p] = Abstain()
        s.awaiting.clear()
        fx.close()
        return log[mark:]

    def _noted(self, item: Fault | Reasoning, player: PlayerId) -> list[Event]:
        s = self.state
        if player not in s.seat:
            raise IllegalAction(f"unknown player {player!r}", player)
        if s.outcome is not None:
            return []
        log = s.routing.log
        mark = len(log)
        s.inputs.append(item)
        if isinstance(item, Fault):
            self._fx.fault(player, item.reason)
        else:
            self._fx.emit(
                Reasoned(
                    audience=GAME_MASTER,
                    day=s.day,
                    player=player,
                    phase=s.phase,
                    phase_id=s.phase_id,
                    text=item.text,
                )
            )
        return log[mark:]

    def _refuse(self, player: PlayerId, action: Action) -> NoReturn:
        s = self.state
        if player not in s.awaiting:
            raise IllegalAction(self._why_not_awaited(player), player, action)
        kind = getattr(action, "kind", None)
        allowed = ", ".join(c.kind.value for c in s.choices[player])
        raise IllegalAction(
            f"{kind} is not allowed in the {s.phase} phase (allowed: {allowed})", player, action
        )

    def _why_not_awaited(self, player: PlayerId) -> str:
        s = self.state
        if s.outcome is not None:
            return "the game is over"
        if player not in s.seat:
            return f"unknown player {player!r}"
        if player in s.submitted:
            return f"already acted in this {s.phase} phase"
        if not s.alive[player]:
            return "dead players cannot act"
        return f"nothing is expected of {player} in this {s.phase} phase"
