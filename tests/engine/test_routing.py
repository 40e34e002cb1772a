"""Each event's audience is decided once, by the engine, and readable per view from a cursor.

A consumer that keeps one cursor per view (a player's, the public one, the full log) and reads what was
routed to that view since its cursor after every input must end up with exactly the log filtered by the
audience rule (`may_see`), in order, with nothing twice: that is what the game master delivers.
"""

from __future__ import annotations

import random

import pytest

from engine import PRESETS, Event, Game, PlayerId, Scope, may_see
from engine.roles import ROLE_SPECS
from tests.engine.helpers import play_random

SEEDS = 20


class Views:
    """What a fan-out that keeps one cursor per view has read so far."""

    def __init__(self, game: Game) -> None:
        self.seen: dict[PlayerId, list[Event]] = {p: [] for p in game.players}
        self.public: list[Event] = []
        self.full: list[Event] = []
        self.read(game)

    def read(self, game: Game) -> None:
        for p, seen in self.seen.items():
            seen.extend(game.visible_since(p, len(seen)))
        self.public.extend(game.public_since(len(self.public)))
        self.full.extend(game.events_since(len(self.full)))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_views_read_from_cursors_are_the_log_filtered_by_audience(preset: str) -> None:
    for seed in range(SEEDS):
        game = Game.new(PRESETS[preset], seed=seed)
        views = Views(game)
        play_random(game, random.Random(seed), deadline_rate=0.05, after_step=views.read)
        seen, public = views.seen, views.public
        assert views.full == list(game.events)
        assert public == [e for e in game.events if e.audience.scope is Scope.PUBLIC]
        assert tuple(public) == game.public_events()
        for p in game.players:
            is_wolf = ROLE_SPECS[game.role_of(p)].is_wolf
            assert seen[p] == [e for e in game.events if may_see(e.audience, p, is_wolf=is_wolf)], p
            assert tuple(seen[p]) == game.observe(p).events


def test_cursor_past_the_end_reads_nothing() -> None:
    game = Game.new(PRESETS["aiwolf-5"], seed=1)
    p = game.players[0]
    end = len(game.visible_since(p, 0))
    assert game.visible_since(p, end) == ()
    assert game.public_since(len(game.public_events())) == ()
