"""HeuristicAgent: legal and terminating in every preset, sensible in scripted situations, deterministic."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from actors.agents import Agent
from actors.heuristic import HeuristicAgent
from actors.heuristic.speech import Kind, Statement, parse
from engine import (
    PRESETS,
    Abstain,
    Action,
    Choice,
    Game,
    GameConfig,
    Heal,
    Inspect,
    Kill,
    Observation,
    Phase,
    PlayerId,
    Protect,
    Role,
    Speak,
    event_to_dict,
)
from engine.events import Spoke, VotesRevealed, WolvesChose

GAMES_PER_PRESET = 50
ROLE_WORDS = ("seer", "doctor", "bodyguard", "witch", "hunter", "medium")

Override = Callable[[PlayerId, Observation, tuple[Choice, ...]], Action | None]


def play(
    game: Game,
    seed: int = 0,
    override: Override | None = None,
    until: Callable[[Game], bool] | None = None,
) -> dict[PlayerId, HeuristicAgent]:
    """Play `game` with one heuristic agent per seat; `override` may script some moves."""
    agents = {p: HeuristicAgent(seed * 1000 + i) for i, p in enumerate(game.players)}
    while game.outcome() is None:
        for p in game.players:
            if p not in game.awaiting():
                continue
            obs, choices = game.observe(p), game.legal_actions(p)
            action = override(p, obs, choices) if override else None
            game.apply(p, action if action is not None else agents[p].decide(obs, choices))
            if until is not None and until(game):
                return agents
    return agents


def P(name: str) -> PlayerId:
    return PlayerId(name)


def small(roles: dict[str, int], players: int, **rules: object) -> GameConfig:
    cfg = GameConfig.build(roles, players=players)
    return cfg.with_rules(**rules) if rules else cfg


def deal(cfg: GameConfig, special: dict[str, Role]) -> dict[PlayerId, Role]:
    return {p: special.get(p, Role.VILLAGER) for p in cfg.players}


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?;]+", text.lower()) if s.strip()]


def check_no_leak(game: Game) -> None:
    """Nobody names a special role's holder with that role's word before the holder claimed it."""
    holders = {p: game.role_of(p).value for p in game.players if game.role_of(p).value in ROLE_WORDS}
    claimed: set[PlayerId] = set()
    for e in game.public_events():
        if not isinstance(e, Spoke):
            continue
        for holder, word in holders.items():
            if e.player == holder or holder in claimed:
                continue
            for sentence in sentences(e.text):
                named = re.search(rf"(?<!\w){re.escape(holder.lower())}(?!\w)", sentence)
                assert not (named and word in sentence), f"{e.player} leaked {holder}'s role: {e.text!r}"
        role = game.role_of(e.player)
        if any(st.kind is Kind.CLAIM and st.role is role for st in parse(e.text, e.player, game.players)):
            claimed.add(e.player)


def check_wolves_spare_each_other(game: Game) -> None:
    wolves = {p for p in game.players if game.role_of(p) is Role.WEREWOLF}
    for e in game.events:
        if isinstance(e, VotesRevealed | WolvesChose):
            for voter, target in e.votes:
                assert not (voter in wolves and target in wolves), f"wolf {voter} targeted wolf {target}"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_plays_legally_to_an_end(name: str) -> None:
    for seed in range(GAMES_PER_PRESET):
        game = Game.new(PRESETS[name], seed=seed)
        play(game, seed)  # Game.apply raises IllegalAction on any illegal move
        assert game.outcome() is not None
        check_wolves_spare_each_other(game)
        check_no_leak(game)


def test_short_speech_limit_and_bidding_are_respected() -> None:
    cfg = PRESETS["classic-8"].with_rules(max_speech_chars=12, last_words=True)
    for seed in range(10):
        game = Game.new(cfg, seed=seed)
        play(game, seed)
        assert game.outcome() is not None
        speeches = [e.text for e in game.events if isinstance(e, Spoke)]
        assert speeches
        assert all(0 < len(t.strip()) <= 12 for t in speeches)


def test_the_agent_satisfies_the_agent_protocol() -> None:
    assert isinstance(HeuristicAgent(0), Agent)


def test_a_seer_who_found_a_wolf_claims_and_names_it() -> None:
    cfg = small({"werewolf": 1, "seer": 1}, players=5)
    roles = deal(cfg, {"Alice": Role.SEER, "Bruno": Role.WEREWOLF})

    def script(p: PlayerId, obs: Observation, choices: tuple[Choice, ...]) -> Action | None:
        if obs.phase is Phase.NIGHT and obs.day == 1:
            night: dict[str, Action] = {"Alice": Inspect(P("Bruno")), "Bruno": Kill(P("Chloe"))}
            return night.get(p)
        return None

    for seed in range(5):
        game = Game.with_roles(cfg, roles, seed=seed)
        play(game, seed, script, until=lambda g: any(_speech_of(g, "Alice")))
        first = next(_speech_of(game, "Alice"))
        said = parse(first, P("Alice"), game.players)
        assert Statement(Kind.CLAIM, role=Role.SEER) in said, first
        assert Statement(Kind.WOLF, P("Bruno")) in said, first


def test_the_doctor_protects_a_seer_who_claimed_in_free_words() -> None:
    cfg = small({"werewolf": 1, "seer": 1, "doctor": 1}, players=6)
    roles = deal(cfg, {"Alice": Role.SEER, "Bruno": Role.WEREWOLF, "Chloe": Role.DOCTOR})
    protected: list[Action] = []

    def script(p: PlayerId, obs: Observation, choices: tuple[Choice, ...]) -> Action | None:
        if obs.phase is Phase.NIGHT and p == "Bruno":
            return Kill(P("Damien") if obs.day == 1 else P("Elise"))
        if obs.phase is Phase.DISCUSSION and p == "Alice":
            return Speak("Ok everyone, I'm the seer. I checked Damien last night and he's innocent.")
        if obs.phase is Phase.VOTE:
            return Abstain()
        if obs.phase is Phase.NIGHT and p == "Chloe" and obs.day == 2:
            protected.append(HeuristicAgent(7).decide(obs, choices))
            return protected[-1]
        return None

    game = Game.with_roles(cfg, roles, seed=1)
    play(game, 1, script, until=lambda g: bool(protected))
    assert protected == [Protect(P("Alice"))]


def test_wolves_never_vote_a_teammate_the_seer_exposed() -> None:
    cfg = small({"werewolf": 2, "seer": 1}, players=7)
    roles = deal(cfg, {"Alice": Role.SEER, "Bruno": Role.WEREWOLF, "Chloe": Role.WEREWOLF})

    def script(p: PlayerId, obs: Observation, choices: tuple[Choice, ...]) -> Action | None:
        if obs.phase is Phase.NIGHT and p in ("Bruno", "Chloe"):
            return Kill(P("Gaelle"))
        if obs.phase is Phase.DISCUSSION and p == "Alice":
            return Speak("I am the seer. Bruno is a werewolf. Vote Bruno.")
        return None

    for seed in range(10):
        game = Game.with_roles(cfg, roles, seed=seed)
        play(game, seed, script, until=lambda g: any(isinstance(e, VotesRevealed) for e in g.events))
        ballot = next(e for e in game.events if isinstance(e, VotesRevealed))
        votes = dict(ballot.votes)
        assert votes[P("Chloe")] != "Bruno"
        assert votes[P("Bruno")] != "Chloe"
        villagers = [p for p in ("Damien", "Elise", "Fabien") if votes[P(p)] is not None]
        assert sum(votes[P(p)] == "Bruno" for p in villagers) >= 2, votes  # the village follows the seer
        check_wolves_spare_each_other(game)


def test_the_witch_heals_the_first_victim() -> None:
    cfg = small({"werewolf": 1, "witch": 1}, players=5)
    roles = deal(cfg, {"Alice": Role.WITCH, "Bruno": Role.WEREWOLF})

    def script(p: PlayerId, obs: Observation, choices: tuple[Choice, ...]) -> Action | None:
        return Kill(P("Chloe")) if obs.phase is Phase.NIGHT and p == "Bruno" else None

    for seed in range(10):
        game = Game.with_roles(cfg, roles, seed=seed)
        agents = play(game, seed, script, until=lambda g: g.phase is Phase.WITCH)
        action = agents[P("Alice")].decide(game.observe(P("Alice")), game.legal_actions(P("Alice")))
        assert action == Heal(P("Chloe"))


def test_wolves_agree_on_one_victim_in_their_chat() -> None:
    for seed in range(20):
        game = Game.new(PRESETS["agentscope-9"], seed=seed)
        play(game, seed, until=lambda g: any(isinstance(e, WolvesChose) for e in g.events))
        chose = next(e for e in game.events if isinstance(e, WolvesChose))
        assert len({t for _, t in chose.votes}) == 1, chose.votes


def test_a_villager_does_not_reveal_an_unclaimed_seer() -> None:
    cfg = small({"werewolf": 1, "seer": 1}, players=6)
    roles = deal(cfg, {"Alice": Role.SEER, "Bruno": Role.WEREWOLF})
    for seed in range(20):
        game = Game.with_roles(cfg, roles, seed=seed)
        play(game, seed)
        check_no_leak(game)


def test_speech_is_varied() -> None:
    texts: set[str] = set()
    for seed in range(5):
        game = Game.new(PRESETS["aiwolf-13"], seed=seed)
        play(game, seed)
        texts |= {e.text for e in game.events if isinstance(e, Spoke)}
    assert len(texts) > 60


@pytest.mark.parametrize("name", ["classic-8", "aiwolf-13", "agentscope-9"])
def test_same_seeds_give_the_same_game(name: str) -> None:
    def log(seed: int) -> list[dict[str, object]]:
        game = Game.new(PRESETS[name], seed=seed)
        play(game, seed)
        return [event_to_dict(e) for e in game.events]

    assert log(3) == log(3)
    assert log(3) != log(4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm the seer. Bruno is a wolf.", [(Kind.CLAIM, None), (Kind.WOLF, "Bruno")]),
        ("As the seer, I can tell you chloe is not a werewolf", [(Kind.CLAIM, None), (Kind.CLEAR, "Chloe")]),
        ("I suspect Bruno, honestly.", [(Kind.SUSPECT, "Bruno")]),
        ("Let's vote for Chloe!", [(Kind.SUSPECT, "Chloe")]),
        (
            "Bruno is innocent and Chloe seems very suspicious",
            [(Kind.CLEAR, "Bruno"), (Kind.SUSPECT, "Chloe")],
        ),
        ("I don't think Bruno is a werewolf.", []),
        ("Don't vote Chloe, she is clearly fine.", []),
        ("Is Bruno a wolf?", []),
        ("I trust Chloe.", [(Kind.DEFEND, "Chloe")]),
    ],
)
def test_free_form_speech_is_understood(text: str, expected: list[tuple[Kind, str | None]]) -> None:
    said = parse(text, P("Alice"), (P("Alice"), P("Bruno"), P("Chloe")))
    assert [(st.kind, st.target) for st in said] == expected


def _speech_of(game: Game, player: str) -> Iterator[str]:
    return (e.text for e in game.events if isinstance(e, Spoke) and e.player == player)
