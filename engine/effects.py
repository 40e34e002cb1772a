"""The small interface through which phase logic acts on a game: emit, kill, open a phase, end.

Phase logic (`engine.night`, `engine.day`, `engine.hunter`) reads and writes the `GameState` and calls
these, nothing else. `Effects` also drives the agenda (`run`): it pops entries and, through the one
table `engine.phases.PHASES`, opens phases and closes them once every awaited action is in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.actions import Action
from engine.config import Reveal
from engine.events import (
    PUBLIC,
    DeathCause,
    Event,
    GameEnded,
    PhaseStarted,
    PlayerDied,
    PlayerFaulted,
    to_player,
)
from engine.outcome import Outcome, Termination
from engine.phases import PHASES, STEPS, PhaseSpec
from engine.roles import ROLE_SPECS
from engine.state import AgendaEntry, GameState
from engine.vocabulary import Phase, PlayerId, Team

# Enum members as plain globals where they are read often: `Reveal.ROLE` costs ~0.07 µs a read in
# CPython 3.11 (the enum metaclass's attribute lookup).
_REVEAL_ROLE, _REVEAL_NONE = Reveal.ROLE, Reveal.NONE


class Effects:
    """What phase logic may do to `state`, and the loop that runs the agenda."""

    __slots__ = ("emit", "spec", "state")

    def __init__(self, state: GameState) -> None:
        """Effects on `state`."""
        self.state = state
        #: The open phase's spec (a function of `state.phase`, kept to save a lookup per action).
        self.spec: PhaseSpec = PHASES[Phase.NIGHT]
        #: emit(event): route `event` once to the log and the views its audience allows
        #: (`engine.observation.Routing.route`, bound here: it runs for every event).
        self.emit: Callable[[Event], None] = state.routing.route

    # ------------------------------------------------------------------ the four effects

    def kill(self, player: PlayerId, cause: DeathCause) -> None:
        """`player` dies (announced with what the rules reveal); see `check_win` for the end."""
        s = self.state
        s.alive[player] = False
        s.alive_players = tuple(p for p in s.alive_players if p != player)
        role = s.roles[player]
        reveal = s.rules.reveal_on_death
        shown_role = role if reveal is _REVEAL_ROLE else None
        shown_team = ROLE_SPECS[role].team if reveal is not _REVEAL_NONE else None
        # Positional (audience, day, player, cause, role, team): every death comes this way.
        self.emit(PlayerDied(PUBLIC, s.day, player, cause, shown_role, shown_team))

    def open(
        self,
        phase: Phase,
        acting: Sequence[PlayerId],
        speaker: PlayerId | None = None,
        candidates: tuple[PlayerId, ...] = (),
    ) -> None:
        """Open `phase` for `acting` (their menus from its spec's `menu`), telling its audience; with
        nobody to wait for it resolves at once."""
        s = self.state
        self.spec = spec = PHASES[phase]
        s.phase = phase
        s.phase_id = phase_id = self._new_phase_id()
        s.submitted = {}
        if len(acting) == 1:  # a turn, the common case: no loop
            player = acting[0]
            s.choices = {player: spec.menu(s, player)}
            s.awaiting = {player}
        else:
            menu = spec.menu
            s.choices = {p: menu(s, p) for p in acting}
            s.awaiting = set(acting)
        audience = spec.audience or to_player(acting[0])
        self.emit(PhaseStarted(audience, s.day, phase, phase_id, speaker, candidates))  # positional: hot path
        if not acting:  # `run` goes on from here
            s.choices = {}
            spec.resolver(s, self, {})

    def next_turn(self, speaker: PlayerId) -> None:
        """Open the open turn phase again, for `speaker`: the same as `open(phase, (speaker,), speaker)`,
        without looking up what is already known (every speech of a discussion comes this way)."""
        s = self.state
        spec = self.spec
        # `_new_phase_id`, inlined: a discussion opens a turn per speech.
        phase_id, used = s.phase_rng.getrandbits(31), s.used_phase_ids
        while phase_id in used:
            phase_id = s.phase_rng.getrandbits(31)
        used.add(phase_id)
        s.phase_id = phase_id
        s.submitted = {}
        s.choices = {speaker: spec.menu(s, speaker)}
        s.awaiting = {speaker}
        self.emit(PhaseStarted(spec.audience or to_player(speaker), s.day, s.phase, phase_id, speaker, ()))

    def end(self, winner: Team | None, termination: Termination, reason: str) -> None:
        """The game ends here: no later phase opens, nobody is awaited."""
        s = self.state
        s.outcome = Outcome(winner=winner, termination=termination, day=s.day, reason=reason)
        s.phase = Phase.GAME_OVER
        s.awaiting.clear()
        s.choices = {}
        s.agenda.clear()
        self.emit(
            GameEnded(
                audience=PUBLIC,
                day=s.day,
                winner=winner,
                termination=termination.value,
                reason=reason,
                roles=tuple((p, s.roles[p]) for p in s.players),
            )
        )

    # ------------------------------------------------------------------ helpers built on them

    def check_win(self) -> bool:
        """End the game if a side has won (checked after every death); return whether it is over."""
        s = self.state
        alive = s.alive
        wolves = sum(1 for p in s.wolves if alive[p])
        others = len(s.alive_players) - wolves
        if wolves == 0:
            self.end(Team.VILLAGE, Termination.WOLVES_ELIMINATED, "every werewolf is dead")
        elif wolves >= others:
            reason = (
                _count(wolves, "werewolf", "werewolves")
                + " alive against "
                + _count(others, "other", "others")
            )
            self.end(Team.WOLVES, Termination.WOLF_PARITY, reason)
        return s.outcome is not None

    def schedule(self, *entries: AgendaEntry) -> None:
        """Put `entries` at the front of the agenda, in this order."""
        self.state.agenda.extendleft(reversed(entries))

    def fault(self, player: PlayerId, reason: str) -> None:
        """Tell `player` (and the game master) that he faulted in the current phase."""
        s = self.state
        self.emit(
            PlayerFaulted(
                audience=to_player(player),
                day=s.day,
                player=player,
                phase=s.phase,
                phase_id=s.phase_id,
                reason=reason,
            )
        )

    # ------------------------------------------------------------------ the driver

    def run(self) -> None:
        """Run the agenda until a phase waits for players or the game ends."""
        s = self.state
        agenda = s.agenda
        while s.outcome is None and not s.awaiting and agenda:
            key, arg = agenda.popleft()
            spec = PHASES.get(key)
            if spec is None:
                STEPS[key](s, self, arg)
                continue
            opening = spec.opener(s, self, arg)
            if opening is not None:
                self.open(key, *opening)

    def _new_phase_id(self) -> int:
        # Opaque, not a counter: a counter would let every player count the hidden phases (the wolves'
        # chat turns, the witch, a hunter's shot) between two public ones. Drawn from a stream of its
        # own so that the game's RNG, and so the game, is the same whatever the ids are.
        s = self.state
        phase_id, used = s.phase_rng.getrandbits(31), s.used_phase_ids
        while phase_id in used:
            phase_id = s.phase_rng.getrandbits(31)
        used.add(phase_id)
        return phase_id

    def close(self) -> None:
        """Every awaited action is in: resolve the open phase together (seat order, never arrival order),
        then run the agenda on."""
        s = self.state
        submitted: dict[PlayerId, Action] = s.submitted
        s.choices = {}
        self.spec.resolver(s, self, submitted)
        if not s.awaiting:  # a speech may have opened the next turn already
            self.run()


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
