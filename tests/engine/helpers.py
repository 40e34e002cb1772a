"""Builders and drivers shared by the engine tests.

`make_game` sets up a game with an explicit deal, so scripted scenarios never depend on the seed.
`run_phase` plays one phase of a scripted game; `play_random` plays a whole game from `legal_actions`
only, and `check_step` / `check_observations` hold the invariants the random-play tests rely on.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from engine import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    Abstain,
    Action,
    Audience,
    Event,
    Game,
    GameConfig,
    Phase,
    PlayerId,
    Reveal,
    Role,
    Rules,
    Scope,
    event_to_dict,
    may_see,
    random_action,
    to_player,
)
from engine.events import (
    ActionRecorded,
    GameEnded,
    MediumLearned,
    NightResolved,
    PhaseStarted,
    PlayerDied,
    PlayerFaulted,
    RoleAssigned,
    SeerLearned,
    Spoke,
    WitchWoke,
    WolvesChose,
    WolvesMet,
)
from engine.roles import ROLE_SPECS

E = TypeVar("E", bound=Event)

ALICE, BRUNO, CHLOE, DAMIEN, ELISE, FABIEN, GAELLE, HUGO, INES = (
    PlayerId(name)
    for name in ("Alice", "Bruno", "Chloe", "Damien", "Elise", "Fabien", "Gaelle", "Hugo", "Ines")
)

#: Rules that make a scripted game short: no chat, no discussion, no last words. Scenarios that test one
#: of these switches turn it back on.
QUIET: dict[str, Any] = {"wolf_chat": False, "discussion_rounds": 0, "last_words": False}


def make_game(roles: Mapping[PlayerId, Role], *, seed: int = 0, **rules: Any) -> Game:
    """A game with this exact deal (seats in the mapping's order) and these rule switches."""
    counts = Counter(roles.values())
    config = GameConfig.build(dict(counts), players=list(roles), rules=Rules.from_dict(rules))
    return Game.with_roles(config, roles, seed=seed)


def awaited(game: Game) -> list[PlayerId]:
    """The awaited players in seat order (never iterate the frozenset: its order depends on hashing)."""
    waiting = game.awaiting()
    return [p for p in game.players if p in waiting]


def run_phase(
    game: Game,
    phase: Phase,
    actions: Mapping[PlayerId, Action] | None = None,
    *,
    others: Action | None = None,
) -> list[Event]:
    """Check that `phase` is open, apply `actions` in order, then `others` (default: abstain) for every
    other awaited player; check that the phase closed, and return every event it caused."""
    actions = actions or {}
    assert game.phase is phase, f"expected {phase}, game is in {game.phase}"
    pending = awaited(game)
    assert set(actions) <= set(pending), f"{sorted(actions)} not all awaited in {sorted(pending)}"
    phase_id = game.phase_id
    events: list[Event] = []
    for player, action in actions.items():
        events += game.apply(player, action)
    for player in pending:
        if player not in actions:
            events += game.apply(player, others or Abstain())
    assert game.phase_id != phase_id or game.outcome() is not None, "the phase did not close"
    return events


def of_type(events: Iterable[Event], kind: type[E]) -> list[E]:
    """The events of one class, in order."""
    return [e for e in events if isinstance(e, kind)]


def deaths(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(player, cause) of every death in `events`."""
    return [(e.player, e.cause.value) for e in of_type(events, PlayerDied)]


def log_json(game: Game) -> str:
    """The whole event log as canonical JSON (to compare games across processes)."""
    return json.dumps([event_to_dict(e) for e in game.events], sort_keys=True)


# --------------------------------------------------------------------------------------- random play

Hook = Callable[[Game], None]


def play_random(
    game: Game,
    rng: random.Random,
    *,
    deadline_rate: float = 0.0,
    after_step: Hook | None = None,
    max_steps: int = 20_000,
) -> int:
    """Play `game` to its end with uniformly random legal actions; return the number of inputs.

    Each input comes from an awaited player drawn by `rng` (so arrival order varies, yet the game stays a
    function of `rng`). With probability `deadline_rate` the phase's deadline passes instead (everyone
    still awaited faults and abstains). `after_step` runs after every input.
    """
    steps = 0
    while game.outcome() is None:
        assert steps < max_steps, "the game does not terminate"
        pending = awaited(game)
        assert pending, f"the game waits for nobody in {game.phase}"
        if deadline_rate and rng.random() < deadline_rate:
            game.deadline_passed(game.phase_id)
        else:
            player = pending[0] if len(pending) == 1 else rng.choice(pending)
            game.apply(player, random_action(game.legal_actions(player), rng))
        steps += 1
        if after_step is not None:
            after_step(game)
    return steps


# ---------------------------------------------------------------------------------------- invariants


def allowed_actors(game: Game) -> set[PlayerId]:
    """Who may be awaited although dead: the dying hunter (HUNTER) and the executed player (LAST_WORDS)."""
    if game.phase not in (Phase.HUNTER, Phase.LAST_WORDS):
        return set()
    opened = next(e for e in reversed(game.events) if isinstance(e, PhaseStarted))
    assert opened.phase is game.phase
    assert opened.speaker is not None
    return {opened.speaker}


def check_step(game: Game) -> None:
    """Cheap invariants, checked after every input of every random game.

    - the dead never act, except the documented exceptions (a dying hunter's shot, last words);
    - turn phases await exactly one player; every awaited player has a menu with Abstain in it;
    - the alive list matches `is_alive`; the day never passes `max_days`;
    - at the end: nobody is awaited, the last event is the one GameEnded, and the outcome is valid.
    """
    outcome = game.outcome()
    alive = game.alive_players
    assert alive == tuple(p for p in game.players if game.is_alive(p))
    assert game.day <= game.config.rules.max_days
    if outcome is not None:
        assert game.phase is Phase.GAME_OVER
        assert not game.awaiting()
        assert all(game.legal_actions(p) == () for p in game.players)
        check_outcome(game)
        return
    pending = game.awaiting()
    assert pending
    dead_actors = {p for p in pending if not game.is_alive(p)}
    if dead_actors:
        assert dead_actors == allowed_actors(game), (game.phase, dead_actors)
        if game.phase is Phase.HUNTER:
            assert all(ROLE_SPECS[game.role_of(p)].shoots_on_death for p in dead_actors)
        else:  # last words: only the player executed just before
            last_death = of_type(game.events, PlayerDied)[-1]
            assert (last_death.player, last_death.cause.value) == (next(iter(dead_actors)), "execution")
    if game.phase in (Phase.WOLF_CHAT, Phase.HUNTER, Phase.DISCUSSION, Phase.LAST_WORDS):
        assert len(pending) == 1
    for p in pending:
        kinds = [c.kind.value for c in game.legal_actions(p)]
        assert kinds[-1] == "abstain"
        assert len(kinds) == len(set(kinds))
        for choice in game.legal_actions(p):
            assert all(t in alive for t in choice.targets)  # targets are always living players
    for p in game.players:
        if p not in pending:
            assert game.legal_actions(p) == ()


def check_outcome(game: Game) -> None:
    """The outcome agrees with who is alive, and GameEnded is the last event and appears once."""
    outcome = game.outcome()
    assert outcome is not None
    ended = of_type(game.events, GameEnded)
    assert len(ended) == 1
    assert game.events[-1] is ended[0]
    assert ended[0].winner == outcome.winner
    assert ended[0].termination == outcome.termination.value
    assert dict(ended[0].roles) == {p: game.role_of(p) for p in game.players}
    wolves = sum(1 for p in game.alive_players if ROLE_SPECS[game.role_of(p)].is_wolf)
    others = len(game.alive_players) - wolves
    match outcome.termination.value:
        case "wolves_eliminated":
            assert outcome.winner == "village"
            assert wolves == 0
        case "wolf_parity":
            assert outcome.winner == "wolves"
            assert wolves > 0
            assert wolves >= others
        case "max_days":
            assert outcome.winner is None
            assert 0 < wolves < others
            assert outcome.day == game.config.rules.max_days
        case other:
            raise AssertionError(f"unknown termination {other}")


def check_wolves_met(game: Game) -> None:
    """Every wolf knows the whole pack from the start; nobody else learns it."""
    pack = tuple(p for p in game.players if ROLE_SPECS[game.role_of(p)].is_wolf)
    for p in game.players:
        obs = game.observe(p)
        if p in pack:
            assert obs.wolves == pack
            assert [met.wolves for met in of_type(obs.events, WolvesMet)] == [pack]
        else:
            assert obs.wolves == ()
            assert not of_type(obs.events, WolvesMet)


def check_observations(game: Game) -> None:
    """Expensive invariants: every player's observation holds exactly what he may know.

    - `observe(p).events` is exactly the game log filtered by `may_see` (routing is right);
    - every event's audience fits its content (a seer result goes to that seer only, the wolves' chat
      to the wolves only, the night's true story to nobody);
    - so no observation holds another player's role (before the end, or a reveal the rules allow), another
      player's seer/medium result, the witch's knowledge or the wolves' chat/victim if he is not a wolf;
    - his own secrets are right: role, team, potions; `wolves` only for wolves;
    - the phase he is shown is one he may see, unless he is awaited.
    """
    reveal = game.config.rules.reveal_on_death
    for event in game.events:
        check_audience(event, reveal)
    opened = next((e for e in reversed(game.events) if isinstance(e, PhaseStarted)), None)
    for p in game.players:
        is_wolf = ROLE_SPECS[game.role_of(p)].is_wolf
        obs = game.observe(p)
        assert obs.role == game.role_of(p)
        assert obs.team == ROLE_SPECS[obs.role].team
        assert obs.alive == game.is_alive(p)
        assert bool(obs.wolves) == is_wolf
        if not ROLE_SPECS[obs.role].witch:
            assert not obs.heal_left
            assert not obs.poison_left
        assert list(obs.events) == [e for e in game.events if may_see(e.audience, p, is_wolf=is_wolf)]
        for event in obs.events:
            if event.audience.scope is not Scope.PUBLIC:
                check_private(event, p, is_wolf=is_wolf)
        hidden = opened is not None and not may_see(opened.audience, p, is_wolf=is_wolf)
        if hidden and opened and game.outcome() is None and p not in game.awaiting():
            shown = (obs.phase, obs.phase_id)
            assert shown != (opened.phase, opened.phase_id), f"{p} is shown the hidden {opened.phase} phase"


def check_private(event: Event, player: PlayerId, *, is_wolf: bool) -> None:
    """A private event in `player`'s view is his own secret, or a wolves' secret and he is a wolf."""
    match event:
        case RoleAssigned(player=p) | SeerLearned(seer=p) | MediumLearned(medium=p) | WitchWoke(witch=p):
            assert p == player
        case WolvesMet() | WolvesChose() | Spoke(phase=Phase.WOLF_CHAT) | PhaseStarted(phase=Phase.WOLF_CHAT):
            assert is_wolf
        case NightResolved() | PhaseStarted(phase=Phase.WITCH):
            raise AssertionError(f"{player} sees the game master's {event}")
        case _:
            assert event.audience.player == player


def check_audience(event: Event, reveal: Reveal) -> None:
    """An event's audience is the one its content allows; a death reveals what `reveal` says."""
    assert event.audience == expected_audience(event), event
    if isinstance(event, PlayerDied):
        assert (event.role is not None) == (reveal is Reveal.ROLE)
        assert (event.team is not None) == (reveal is not Reveal.NONE)


def expected_audience(event: Event) -> Audience:
    """Who may see `event`, from its content alone."""
    match event:
        case RoleAssigned(player=p) | ActionRecorded(player=p) | PlayerFaulted(player=p):
            return to_player(p)
        case SeerLearned(seer=p) | MediumLearned(medium=p) | WitchWoke(witch=p):
            return to_player(p)
        case PhaseStarted(phase=Phase.HUNTER, speaker=str() as p):
            return to_player(p)
        case WolvesMet() | WolvesChose() | Spoke(phase=Phase.WOLF_CHAT) | PhaseStarted(phase=Phase.WOLF_CHAT):
            return WOLVES
        case NightResolved() | PhaseStarted(phase=Phase.WITCH):
            return GAME_MASTER
        case _:
            return PUBLIC
