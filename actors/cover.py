"""Hidden turns take a fixed time: when the game master may let each event out, by public information only.

Theory of operation
-------------------
Hidden phases (the wolves' chat, the witch, a hunter's shot) and who acts in the night are secret, but
a game master that moves on as soon as seats answer shows them in its timing: the time from nightfall
to the night phase counts the wolves' chat turns, so the living wolves; a pause before dawn says the
witch lives with a potion; a pause after a death says the dead man was the hunter; how long the night
phase takes says which night actors live. The cover holds the game master's outward progress so that
the time between two public moments depends only on the config and on what is public.

Every phase lasts at most its deadline, so each hidden turn is given a budget `B` (`budget`): by
default the longest deadline the game uses. A host may choose less: the game master then gives a
hidden phase (and the night phase) no more than B, so the cover stays exact and a slow seat (a
person, a slow model) gets less time in those phases instead. When every seat is an instant agent,
hidden turns take microseconds: B = 0 and nothing is held. The holds, by the engine's agenda
(`engine.night`, `engine.day`):

- nightfall at t: the next public event (the night phase's opening) waits until t + K*B, K the chat
  turns the wolves could have (`chat_turns`);
- the night phase, its requests sent at t: nothing but its own acknowledgements goes out before t + B
  (its end, so the seer's result, the wolves' choice and the witch's wake-up, cannot tell who lived to
  answer), then the next public event (dawn) waits W*B more, W = 1 if a witch may be alive;
- an announcement of deaths (dawn, a hunter's shot) at t: the next public event waits until
  t + h*B, h the hunters who may be among the dead (`hunter_turns`); after an execution with last
  words, the hunter shoots after them: the wait counts from the end of the last words;
- the game's end is never held: it reveals every role.

The hidden phases themselves are not held (their requests go out at once): only what follows them is.
`Cover.admit` answers, event by event, "may this go out now?"; the game master stops at the first
event that may not, and asks again when the time comes (a scheduler timer). Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from actors.inline import is_instant
from engine import GameConfig, PlayerId, Role
from engine.events import (
    ActionRecorded,
    DeathCause,
    Event,
    GameEnded,
    HunterShot,
    NightFell,
    PhaseStarted,
    PlayerDied,
    PlayerFaulted,
    Reasoned,
    Scope,
    Spoke,
)
from engine.roles import ROLE_SPECS
from engine.vocabulary import Phase

#: Clock slack: a hold due at t is over at t (a timer's due time may differ from t by rounding).
EPSILON_S = 1e-9
_NIGHT_OWN = (ActionRecorded, PlayerFaulted, Reasoned)  # what a player is told of his own night answer
_LAST_WORDS_OWN = (Spoke, PlayerFaulted, Reasoned)


def longest_deadline(timeout_s: float, seat_timeouts: Mapping[PlayerId, float] | None = None) -> float:
    """The longest deadline a phase of the game can have: the game's, or a seat's own if longer."""
    return max((timeout_s, *(seat_timeouts or {}).values()))


def budget(
    hidden_turn_s: float | None,
    seats: Iterable[object],
    *,
    timeout_s: float,
    seat_timeouts: Mapping[PlayerId, float] | None = None,
) -> float:
    """The time each hidden turn is given (0: no cover).

    `hidden_turn_s` None is automatic: 0 when every seat is an instant agent (`actors.inline.is_instant`;
    a remote seat or a thinking agent is not), else the longest deadline (exact cover). A number is
    the host's choice; a negative one is a ValueError.
    """
    if hidden_turn_s is not None:
        if not hidden_turn_s >= 0:  # also refuses NaN
            raise ValueError(f"the hidden turn must be 0 or more seconds, got {hidden_turn_s}")
        return float(hidden_turn_s)
    if all(is_instant(seat) for seat in seats):
        return 0.0
    return longest_deadline(timeout_s, seat_timeouts)


def let_out(batch: tuple[Event, ...], out: set[int]) -> tuple[Event, ...]:
    """The part of a view's `batch` of new events that was let out: the events whose `id` is in `out`.

    The cover lets out a prefix of the log, and every view keeps the log's order, so this is a prefix of
    the batch. Events are mutable dataclasses (not hashable): they are known by identity.
    """
    count = 0
    while count < len(batch) and id(batch[count]) in out:
        count += 1
    return batch[:count]


class Cover:
    """The hold schedule of one game: feed it every event, in order, as the game master lets it out."""

    def __init__(self, config: GameConfig, budget_s: float) -> None:
        """Cover the game of `config` with `budget_s` per hidden turn (> 0)."""
        self.budget_s = budget_s
        self._rules = config.rules
        counts = config.role_counts
        self._wolves = sum(n for r, n in counts.items() if ROLE_SPECS[r].is_wolf)
        self._witches = sum(n for r, n in counts.items() if ROLE_SPECS[r].witch)
        self._hunter_roles = {r for r in counts if ROLE_SPECS[r].shoots_on_death}
        self._hunter_teams = {ROLE_SPECS[r].team for r in self._hunter_roles}
        self._hunters = sum(counts[r] for r in self._hunter_roles)
        self._living = len(config.players)
        self._revealed: dict[Role, int] = {}  # roles of the dead that were announced
        self._known_hunters: set[PlayerId] = set()  # dead men known to be hunters (revealed, or shot)
        self._due = -math.inf  # the next public event waits until then
        self._anchor = 0.0  # when the last announcement went out
        self._known_at_anchor = 0
        self._possible = 0  # deaths of that announcement who may be hunters
        self._night_end: float | None = None  # the open night phase's padded end
        self._after_last_words: int | None = None  # hunter turns that follow the last words
        self._last_words_open = False

    # ------------------------------------------------------------------ counts (public information only)

    def chat_turns(self) -> int:
        """The wolves' chat turns tonight could have: rounds x the wolves who may be alive, if two may."""
        if not self._rules.wolf_chat or self._wolves < 2:  # noqa: PLR2004 - a chat needs two
            return 0
        dead = sum(n for r, n in self._revealed.items() if ROLE_SPECS[r].is_wolf)
        # The game goes on only while the wolves are fewer than the others.
        wolves = min(self._wolves - dead, (self._living - 1) // 2)
        return self._rules.wolf_chat_rounds * wolves if wolves >= 2 else 0  # noqa: PLR2004

    def witch_turns(self) -> int:
        """1 if a witch may be alive (her potions are secret), else 0."""
        dead = sum(n for r, n in self._revealed.items() if ROLE_SPECS[r].witch)
        return 1 if self._witches > dead else 0

    def hunter_turns(self, possible: int) -> int:
        """Hunter shots that may follow `possible` deaths that may be hunters'."""
        return max(0, min(possible, self._hunters - self._known_at_anchor))

    # ------------------------------------------------------------------ the schedule

    def admit(self, event: Event, now: float) -> float | None:
        """None if `event` may go out at `now` (it is then taken as gone out), else when to ask again."""
        if isinstance(event, GameEnded):
            return None
        if self._night_end is not None and not isinstance(event, _NIGHT_OWN):
            if now + EPSILON_S < self._night_end:
                return self._night_end
            self._night_end = None  # the night phase is over and padded: the witch may wake
            self._due = now + self.witch_turns() * self.budget_s
        if self._last_words_open and not isinstance(event, _LAST_WORDS_OWN):
            self._last_words_open = False  # the last words are over: the hunter may shoot
            self._due = now + (self._after_last_words or 0) * self.budget_s
            self._after_last_words = None
        public = event.audience.scope is Scope.PUBLIC
        if public and not isinstance(event, PlayerDied) and now + EPSILON_S < self._due:
            return self._due
        self._note(event, now, public=public)
        return None

    def requested(self, now: float) -> None:
        """The current phase's requests went out at `now`: an open night phase is padded from then."""
        if self._night_end is not None:
            self._night_end = now + self.budget_s

    def _note(self, event: Event, now: float, *, public: bool) -> None:
        if isinstance(event, PhaseStarted):
            if event.phase is Phase.NIGHT:
                self._night_end = now + self.budget_s
            elif event.phase is Phase.LAST_WORDS and self._after_last_words is not None:
                self._last_words_open = True
        if not public:
            return
        if isinstance(event, PlayerDied):
            self._on_death(event)
            return
        if isinstance(event, HunterShot):
            self._known_hunters.add(event.hunter)
        self._anchor, self._known_at_anchor, self._possible = now, len(self._known_hunters), 0
        if isinstance(event, NightFell):
            self._due = now + self.chat_turns() * self.budget_s

    def _on_death(self, event: PlayerDied) -> None:
        self._living -= 1
        if event.role is not None:
            self._revealed[event.role] = self._revealed.get(event.role, 0) + 1
        if self._may_be_hunter(event):
            self._possible += 1
        turns = self.hunter_turns(self._possible)
        if event.cause is DeathCause.EXECUTION and self._rules.last_words:
            self._after_last_words = turns
        else:
            self._due = self._anchor + turns * self.budget_s

    def _may_be_hunter(self, event: PlayerDied) -> bool:
        if event.role is not None:
            if event.role in self._hunter_roles:
                self._known_hunters.add(event.player)
                return True
            return False
        return event.team is None or event.team in self._hunter_teams
