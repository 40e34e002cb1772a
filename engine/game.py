"""The game of Werewolf as a pure, seeded state machine: actions in, events out.

Theory of operation
-------------------
Rule 1. The engine never reads a clock, the environment or the global `random`. Random streams owned
by the game deal the roles and draw every speaking order, tie-break and opaque phase id, always over
lists in seat order, so one seed (and key) and one sequence of inputs give one game. A hosted game is
keyed (`engine.seeding`): its streams come from a secret key, so knowing the seed is not knowing the deal.

Rule 2. The game is a queue of steps (the *agenda*, `engine.agenda.Step`: night, wolves' chat turns,
night actions, witch, dawn, day, speaking turns, votes, executions, hunter shots). The night's steps
live in `engine.night`, the day's in `engine.day`. Steps run in order until one opens a
phase that waits for players (`awaiting()`); inputs (`apply`, `deadline_passed`) close that phase
and the agenda runs on. Night and vote phases collect every awaited action first and resolve them
together in seat order, so results never depend on arrival order.

Rule 3. `apply` validates everything before it changes anything; an illegal action raises
`IllegalAction` and leaves the state as it was (compare `snapshot()`).

Rule 4. A side's victory is checked after every death (night deaths, which are simultaneous, are
checked together). The game ends there: no later phase opens.

Rule 5. Every event is routed once, when emitted, to the players its audience allows
(`observation.may_see`) and, if public, to the public view; `observe(player)` reads only what was
routed to that player, and `visible_since` / `public_since` / `events_since` give each view's new events
from a cursor, so a consumer (the game master's fan-out) never filters again.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from engine import day, night
from engine.actions import (
    MAX_BID,
    Abstain,
    Action,
    ActionKind,
    Choice,
    action_to_dict,
)
from engine.agenda import Step
from engine.config import GameConfig, Reveal
from engine.errors import ConfigError, IllegalAction
from engine.events import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    ActionRecorded,
    Audience,
    DeathCause,
    Event,
    GameEnded,
    GameStarted,
    PhaseStarted,
    PlayerDied,
    PlayerFaulted,
    Reasoned,
    RoleAssigned,
    WolvesMet,
    to_player,
)
from engine.observation import Observation, Routing
from engine.outcome import Outcome, Termination
from engine.roles import ROLE_SPECS
from engine.seeding import stream_seed
from engine.snapshot import snapshot_of
from engine.vocabulary import TURN_PHASES, Phase, PlayerId, Role, Team

ABSTAIN_CHOICE = Choice(ActionKind.ABSTAIN)
_NO_POTIONS = (False, False)
_BID_MENU = (Choice(ActionKind.BID, max_bid=MAX_BID), ABSTAIN_CHOICE)
DEADLINE_REASON = "no action before the deadline"


class Game:
    """One game of Werewolf. Pure: no I/O, no clock, no global randomness."""

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
        if key is None:  # the unkeyed streams of old: reproducible from the seed, not secret
            self._rng = random.Random(seed)
            self._phase_rng = random.Random(f"phase-ids/{seed}")
            self._deal_rng = self._rng
        else:  # independent streams: what players see of one tells nothing about another
            self._rng = random.Random(stream_seed(key, "draws"))
            self._phase_rng = random.Random(stream_seed(key, "phase-ids"))
            self._deal_rng = random.Random(stream_seed(key, "deal"))
        self._used_phase_ids: set[int] = {0}
        self._players: tuple[PlayerId, ...] = config.players
        self._seat = {p: i for i, p in enumerate(self._players)}
        self._forced_roles = roles is not None
        self._roles: dict[PlayerId, Role] = self._deal() if roles is None else self._check_deal(roles)
        self._wolves = tuple(p for p in self._players if ROLE_SPECS[self._roles[p]].is_wolf)
        self._alive: dict[PlayerId, bool] = dict.fromkeys(self._players, True)
        self._alive_players = self._players
        self._day = 0
        self._phase = Phase.NIGHT
        self._phase_id = 0
        self._awaiting: set[PlayerId] = set()
        self._choices: dict[PlayerId, tuple[Choice, ...]] = {}
        self._submitted: dict[PlayerId, Action] = {}
        self._agenda: deque[tuple[Step, Any]] = deque([(Step.NIGHT, None)])
        self._vote_round = 1
        self._potions: dict[PlayerId, list[bool]] = {
            p: [True, True] for p in self._players if ROLE_SPECS[self._roles[p]].witch
        }
        self._last_protected: dict[PlayerId, PlayerId | None] = {}
        self._night = night.NightState()
        self._executed_today: PlayerId | None = None
        self._last_speaker: PlayerId | None = None
        self._last_speech = ""
        self._mention = re.compile(
            r"\b(" + "|".join(re.escape(p) for p in self._players) + r")\b", re.IGNORECASE
        )
        self._speak_menu = (Choice(ActionKind.SPEAK, max_chars=self.rules.max_speech_chars), ABSTAIN_CHOICE)
        self._outcome: Outcome | None = None
        routing = Routing(self._players, self._wolves)
        self._events, self._public, self._visible = routing.log, routing.public, routing.seen
        self._emit: Callable[[Event], None] = routing.route  # every event, routed once (Rule 5)
        # Inputs are kept as (player, action) pairs or ready-made dicts, and turned into plain dicts
        # only when read: converting every action on the hot path cost more than the rule itself.
        self._inputs: list[tuple[PlayerId, Action] | dict[str, Any]] = []
        self._start()

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

    def _deal(self) -> dict[PlayerId, Role]:
        deck = [role for role, count in self.config.roles for _ in range(count)]
        self._deal_rng.shuffle(deck)
        return dict(zip(self._players, deck, strict=True))

    def _check_deal(self, roles: Mapping[PlayerId, Role]) -> dict[PlayerId, Role]:
        if set(roles) != set(self._players):
            raise ConfigError("the deal must give a role to every player and to nobody else")
        counts: dict[Role, int] = {}
        for role in roles.values():
            counts[role] = counts.get(role, 0) + 1
        if counts != self.config.role_counts:
            raise ConfigError(
                f"the deal {counts} does not match the config's roles {self.config.role_counts}"
            )
        return {p: roles[p] for p in self._players}

    def _start(self) -> None:
        self._emit(GameStarted(audience=PUBLIC, day=0, players=self._players, roles=self.config.roles))
        for p in self._players:
            self._emit(RoleAssigned(audience=to_player(p), day=0, player=p, role=self._roles[p]))
        self._emit(WolvesMet(audience=WOLVES, day=0, wolves=self._wolves))
        self._run()

    # ------------------------------------------------------------------ public queries

    @property
    def players(self) -> tuple[PlayerId, ...]:
        """Every player in seat order."""
        return self._players

    @property
    def alive_players(self) -> tuple[PlayerId, ...]:
        """The living, in seat order."""
        return self._alive_players

    @property
    def day(self) -> int:
        """The current day; night N precedes day N."""
        return self._day

    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self._phase

    @property
    def phase_id(self) -> int:
        """The current phase's id: unique within the game and opaque, so late answers can be recognised."""
        return self._phase_id

    @property
    def events(self) -> tuple[Event, ...]:
        """The whole event log (game master's view)."""
        return tuple(self._events)

    @property
    def inputs(self) -> tuple[dict[str, Any], ...]:
        """Every accepted input, in order: what a replay re-applies."""
        return self.inputs_since(0)

    def inputs_since(self, index: int) -> tuple[dict[str, Any], ...]:
        """The inputs from position `index` on, as plain dicts (fresh copies)."""
        return tuple(
            dict(item) if isinstance(item, dict) else {"player": item[0], "action": action_to_dict(item[1])}
            for item in self._inputs[index:]
        )

    def events_since(self, index: int) -> tuple[Event, ...]:
        """The events from position `index` of the log on (cheaper than slicing `events`)."""
        return tuple(self._events[index:])

    def public_since(self, index: int) -> tuple[Event, ...]:
        """The public events from position `index` of the public view on (routed when emitted)."""
        return tuple(self._public[index:])

    def visible_since(self, player: PlayerId, index: int) -> tuple[Event, ...]:
        """The events routed to `player` from position `index` of his view on (his observation's events)."""
        return tuple(self._visible[player][index:])

    @property
    def forced_roles(self) -> bool:
        """Whether the deal was given explicitly (`with_roles`) rather than drawn from the seed."""
        return self._forced_roles

    def role_of(self, player: PlayerId) -> Role:
        """A player's role (game master knowledge: never hand this to a player)."""
        return self._roles[player]

    def is_alive(self, player: PlayerId) -> bool:
        """Whether `player` is alive."""
        return self._alive[player]

    def outcome(self) -> Outcome | None:
        """How the game ended, or None while it goes on."""
        return self._outcome

    def awaiting(self) -> frozenset[PlayerId]:
        """The players whose action the current phase still waits for."""
        return frozenset(self._awaiting)

    def legal_actions(self, player: PlayerId) -> tuple[Choice, ...]:
        """What `player` may do now: a menu of choices, empty if nothing is expected of him."""
        if player in self._awaiting:
            return self._choices[player]
        return ()

    def observe(self, player: PlayerId) -> Observation:
        """Everything `player` may know now: his secrets plus the events he was allowed to see."""
        role = self._roles[player]
        spec = ROLE_SPECS[role]
        potions = self._potions.get(player, _NO_POTIONS)
        phase, phase_id = self._shown_phase(player)
        return Observation(
            player=player,
            role=role,
            team=spec.team,
            alive=self._alive[player],
            day=self._day,
            phase=phase,
            phase_id=phase_id,
            players=self._players,
            alive_players=self._alive_players,
            wolves=self._wolves if spec.is_wolf else (),
            heal_left=potions[0],
            poison_left=potions[1],
            events=tuple(self._visible[player]),
        )

    def _shown_phase(self, player: PlayerId) -> tuple[Phase, int]:
        # A phase whose opening `player` may not see (the wolves' chat, the witch, a hunter's shot) must
        # not show through his observation either: it would reveal hidden roles. He is shown the last
        # phase he saw open, unless he is the one awaited.
        if self._outcome is not None or player in self._awaiting:
            return self._phase, self._phase_id
        for event in reversed(self._visible[player]):
            if isinstance(event, PhaseStarted):
                return event.phase, event.phase_id
        return Phase.NIGHT, 0

    def public_events(self) -> tuple[Event, ...]:
        """The events everyone may see, in order (a spectator's public view)."""
        return tuple(self._public)

    def snapshot(self) -> tuple[Any, ...]:
        """A comparable value of the whole mutable state (to check that nothing changed)."""
        return snapshot_of(self)

    # ------------------------------------------------------------------ inputs

    def apply(self, player: PlayerId, action: Action) -> list[Event]:
        """Apply `player`'s action; return the events it caused. Raises IllegalAction (state unchanged)."""
        self._check(player, action)
        mark = len(self._events)
        self._inputs.append((player, action))
        self._awaiting.discard(player)
        self._submitted[player] = action
        if self._phase not in TURN_PHASES:
            self._emit(
                ActionRecorded(audience=to_player(player), day=self._day, player=player, action=action)
            )
        if not self._awaiting:
            self._resolve()
            self._run()
        return self._events[mark:]

    def deadline_passed(self, phase_id: int | None = None) -> list[Event]:
        """The current phase's time is up: every missing player faults and abstains, then it resolves.

        A deadline for another phase (`phase_id` not current) is stale and ignored.
        """
        if self._outcome is not None or not self._awaiting:
            return []
        if phase_id is not None and phase_id != self._phase_id:
            return []
        mark = len(self._events)
        self._inputs.append({"deadline": self._phase_id})
        for p in self._players:
            if p in self._awaiting:
                self._fault(p, DEADLINE_REASON)
                self._submitted[p] = Abstain()
        self._awaiting.clear()
        self._resolve()
        self._run()
        return self._events[mark:]

    def note_fault(self, player: PlayerId, reason: str) -> list[Event]:
        """Record a fault of `player` seen outside the engine (an illegal or unparsable answer).

        Once the game is over a fault is ignored, like a deadline: nothing follows GameEnded.
        """
        if player not in self._seat:
            raise IllegalAction(f"unknown player {player!r}", player)
        if self._outcome is not None:
            return []
        mark = len(self._events)
        self._inputs.append({"fault": player, "reason": reason})
        self._fault(player, reason)
        return self._events[mark:]

    def note_reasoning(self, player: PlayerId, text: str) -> list[Event]:
        """Record a player's private reasoning (seen only by the game master and the full view).

        It changes nothing in the game; it is an input so that a replayed log keeps it in place.
        """
        if player not in self._seat:
            raise IllegalAction(f"unknown player {player!r}", player)
        if self._outcome is not None:
            return []
        mark = len(self._events)
        self._inputs.append({"reasoning": player, "text": text})
        phase, phase_id = self._phase, self._phase_id
        self._emit(
            Reasoned(
                audience=GAME_MASTER, day=self._day, player=player, phase=phase, phase_id=phase_id, text=text
            )
        )
        return self._events[mark:]

    def _check(self, player: PlayerId, action: Action) -> None:
        # The common case first (an awaited player, a legal action); the reasons are worked out only
        # when the action is refused.
        choices = self._choices.get(player) if player in self._awaiting else None
        if choices is None:
            raise IllegalAction(self._why_not_awaited(player), player, action)
        kind = getattr(action, "kind", None)
        for choice in choices:
            if choice.kind is kind:
                refusal = choice.refusal(action)
                if refusal is None:
                    return
                raise IllegalAction(refusal, player, action)
        allowed = ", ".join(c.kind.value for c in choices)
        raise IllegalAction(
            f"{kind} is not allowed in the {self._phase} phase (allowed: {allowed})", player, action
        )

    def _why_not_awaited(self, player: PlayerId) -> str:
        if self._outcome is not None:
            return "the game is over"
        if player not in self._seat:
            return f"unknown player {player!r}"
        if player in self._submitted:
            return f"already acted in this {self._phase} phase"
        if not self._alive[player]:
            return "dead players cannot act"
        return f"nothing is expected of {player} in this {self._phase} phase"

    # ------------------------------------------------------------------ machinery

    def _fault(self, player: PlayerId, reason: str) -> None:
        self._emit(
            PlayerFaulted(
                audience=to_player(player),
                day=self._day,
                player=player,
                phase=self._phase,
                phase_id=self._phase_id,
                reason=reason,
            )
        )

    def _run(self) -> None:
        while self._outcome is None and not self._awaiting and self._agenda:
            step, arg = self._agenda.popleft()
            _STEPS[step](self, arg)

    def _push_front(self, *steps: tuple[Step, Any]) -> None:
        self._agenda.extendleft(reversed(steps))

    def _open(
        self,
        phase: Phase,
        awaiting: list[PlayerId],
        audience: Audience,
        *,
        speaker: PlayerId | None = None,
        candidates: tuple[PlayerId, ...] = (),
    ) -> None:
        self._phase = phase
        self._phase_id = self._new_phase_id()
        self._submitted = {}
        if phase in TURN_PHASES and phase is not Phase.HUNTER:  # the hot path: one speaker, a fixed menu
            self._choices = {awaiting[0]: self._speak_menu}
        else:
            self._choices = {p: self._menu(phase, p, candidates) for p in awaiting}
        self._awaiting = set(awaiting)
        self._emit(
            PhaseStarted(
                audience=audience,
                day=self._day,
                phase=phase,
                phase_id=self._phase_id,
                speaker=speaker,
                candidates=candidates,
            )
        )
        if not awaiting:
            self._resolve()

    def _new_phase_id(self) -> int:
        # Opaque, not a counter: a counter would let every player count the hidden phases (the wolves'
        # chat turns, the witch, a hunter's shot) between two public ones. Drawn from a stream of its
        # own so that the game's RNG, and so the game, is the same whatever the ids are.
        while True:
            candidate = self._phase_rng.getrandbits(31)
            if candidate not in self._used_phase_ids:
                self._used_phase_ids.add(candidate)
                return candidate

    def _menu(self, phase: Phase, player: PlayerId, candidates: tuple[PlayerId, ...]) -> tuple[Choice, ...]:
        if phase in TURN_PHASES and phase is not Phase.HUNTER:
            return self._speak_menu
        if phase is Phase.BIDDING:
            return _BID_MENU
        if phase is Phase.VOTE:
            pool = candidates or self._alive_players
            targets = tuple(p for p in pool if p != player or self.rules.allow_self_vote)
            return (Choice(ActionKind.VOTE, targets), ABSTAIN_CHOICE)
        if phase is Phase.HUNTER:
            return (Choice(ActionKind.SHOOT, self._others_alive(player)), ABSTAIN_CHOICE)
        return (*night.menu(self, phase, player), ABSTAIN_CHOICE)

    def _others_alive(self, player: PlayerId) -> tuple[PlayerId, ...]:
        return tuple(p for p in self._alive_players if p != player)

    def _resolve(self) -> None:
        submitted = self._submitted
        self._choices = {}
        _RESOLVERS[self._phase](self, submitted)

    def _shuffled(self, players: tuple[PlayerId, ...]) -> list[PlayerId]:
        order = list(players)
        self._rng.shuffle(order)
        return order

    def _draw(self, players: tuple[PlayerId, ...]) -> PlayerId:
        return players[0] if len(players) == 1 else self._rng.choice(players)

    # ------------------------------------------------------------------ deaths and the end

    def _kill(self, player: PlayerId, cause: DeathCause) -> None:
        self._alive[player] = False
        self._alive_players = tuple(p for p in self._alive_players if p != player)
        role = self._roles[player]
        reveal = self.rules.reveal_on_death
        self._emit(
            PlayerDied(
                audience=PUBLIC,
                day=self._day,
                player=player,
                cause=cause,
                role=role if reveal is Reveal.ROLE else None,
                team=ROLE_SPECS[role].team if reveal is not Reveal.NONE else None,
            )
        )

    def _check_win(self) -> bool:
        wolves = sum(1 for p in self._alive_players if ROLE_SPECS[self._roles[p]].is_wolf)
        others = len(self._alive_players) - wolves
        if wolves == 0:
            self._end(Team.VILLAGE, Termination.WOLVES_ELIMINATED, "every werewolf is dead")
        elif wolves >= others:
            self._end(
                Team.WOLVES,
                Termination.WOLF_PARITY,
                _count(wolves, "werewolf", "werewolves")
                + " alive against "
                + _count(others, "other", "others"),
            )
        return self._outcome is not None

    def _end(self, winner: Team | None, termination: Termination, reason: str) -> None:
        self._outcome = Outcome(winner=winner, termination=termination, day=self._day, reason=reason)
        self._phase = Phase.GAME_OVER
        self._awaiting.clear()
        self._choices = {}
        self._agenda.clear()
        self._emit(
            GameEnded(
                audience=PUBLIC,
                day=self._day,
                winner=winner,
                termination=termination.value,
                reason=reason,
                roles=tuple((p, self._roles[p]) for p in self._players),
            )
        )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


_STEPS: dict[Step, Callable[[Game, Any], None]] = {
    Step.NIGHT: night.step_night,
    Step.WOLF_TURN: night.step_wolf_turn,
    Step.NIGHT_ACTIONS: night.step_night_actions,
    Step.WITCH: night.step_witch,
    Step.DAWN: night.step_dawn,
    Step.DAY: day.step_day,
    Step.TURN: day.step_turn,
    Step.BIDDING: day.step_bidding,
    Step.VOTE: day.step_vote,
    Step.EXECUTE: day.step_execute,
    Step.LAST_WORDS: day.step_last_words,
    Step.HUNTER: night.step_hunter,
}

_RESOLVERS: dict[Phase, Callable[[Game, dict[PlayerId, Action]], None]] = {
    Phase.WOLF_CHAT: day.resolve_speech,
    Phase.DISCUSSION: day.resolve_speech,
    Phase.LAST_WORDS: day.resolve_speech,
    Phase.BIDDING: day.resolve_bidding,
    Phase.VOTE: day.resolve_vote,
    Phase.HUNTER: day.resolve_hunter,
    Phase.NIGHT: night.resolve_night,
    Phase.WITCH: night.resolve_witch,
}
