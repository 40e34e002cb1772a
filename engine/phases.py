"""The one table of the game's shape: each phase's spec, and the instant steps between phases.

A phase is opened by its `opener` (who acts, and any wake-up it tells first: the witch is told the
victim), offers each acting player `menu(state, player)`, and, once every awaited action is in (or the
deadline has passed), is closed by its `resolver`, together and in seat order. `Effects` is the only
reader of this table (`run` pops the agenda, `open` finds a phase's spec). Adding a phase: a `Phase`
member, its functions, one line here, and an agenda entry `(Phase.X, arg)` scheduled from wherever it
happens (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine import day, hunter, night
from engine.actions import Action, Choice
from engine.agenda import Step
from engine.events import GAME_MASTER, PUBLIC, WOLVES, Audience
from engine.state import GameState, Opening
from engine.vocabulary import Phase, PlayerId

if TYPE_CHECKING:
    from engine.effects import Effects


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseSpec:
    """How one phase opens, what it offers and how it closes.

    Attributes:
        phase: the phase this spec describes.
        opener: who acts (an `Opening`), or None to skip the phase; may emit wake-up events first.
        menu: a player's choices while the phase is open (every menu ends with abstain).
        resolver: applies the submitted actions (a dict, iterated in seat order where order matters).
        audience: who sees the phase open; None: the acting player alone (a hunter's shot).
        acknowledged: each action gets an `ActionRecorded` back (simultaneous phases, whose results
            come only when everyone is in); turn phases answer with their own event at once.
    """

    phase: Phase
    opener: Callable[[GameState, Effects, Any], Opening | None]
    menu: Callable[[GameState, PlayerId], tuple[Choice, ...]]
    resolver: Callable[[GameState, Effects, dict[PlayerId, Action]], None]
    audience: Audience | None
    acknowledged: bool


PHASES: dict[Any, PhaseSpec] = {
    spec.phase: spec
    for spec in (
        PhaseSpec(
            phase=Phase.WOLF_CHAT,
            opener=day.open_turns,
            menu=day.speak_menu,
            resolver=day.resolve_speech,
            audience=WOLVES,
            acknowledged=False,
        ),
        PhaseSpec(
            phase=Phase.NIGHT,
            opener=night.open_night,
            menu=night.night_menu,
            resolver=night.resolve_night,
            audience=PUBLIC,
            acknowledged=True,
        ),
        PhaseSpec(
            phase=Phase.WITCH,
            opener=night.open_witch,
            menu=night.witch_menu,
            resolver=night.resolve_witch,
            audience=GAME_MASTER,
            acknowledged=True,
        ),
        PhaseSpec(
            phase=Phase.DISCUSSION,
            opener=day.open_turns,
            menu=day.speak_menu,
            resolver=day.resolve_speech,
            audience=PUBLIC,
            acknowledged=False,
        ),
        PhaseSpec(
            phase=Phase.BIDDING,
            opener=day.open_bidding,
            menu=day.bid_menu,
            resolver=day.resolve_bidding,
            audience=PUBLIC,
            acknowledged=True,
        ),
        PhaseSpec(
            phase=Phase.VOTE,
            opener=day.open_vote,
            menu=day.vote_menu,
            resolver=day.resolve_vote,
            audience=PUBLIC,
            acknowledged=True,
        ),
        PhaseSpec(
            phase=Phase.LAST_WORDS,
            opener=day.open_last_words,
            menu=day.speak_menu,
            resolver=day.resolve_speech,
            audience=PUBLIC,
            acknowledged=False,
        ),
        PhaseSpec(
            phase=Phase.HUNTER,
            opener=hunter.open_shot,
            menu=hunter.menu,
            resolver=hunter.resolve_shot,
            audience=None,
            acknowledged=False,
        ),
    )
}

#: The instant steps: they run at once, and queue what follows them.
STEPS: dict[Any, Callable[[GameState, Effects, Any], None]] = {
    Step.NIGHTFALL: night.nightfall,
    Step.DAWN: night.dawn,
    Step.DAY: day.daybreak,
    Step.EXECUTE: day.execute,
}
