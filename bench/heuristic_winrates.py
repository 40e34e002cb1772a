"""Win rates of the built-in heuristic agent, played through the pure engine (no actors, no clock).

Three match-ups per preset, on the same seeded deals (game seeds 0..N-1; the agent of seat i in game
s is seeded s * 100 + i):

- heuristic vs heuristic: every seat plays `HeuristicAgent`;
- heuristic village vs random wolves: village-team seats heuristic, wolf-team seats `RandomAgent`;
- random village vs heuristic wolves: the reverse.

A seat's team comes from the dealt role (the bench is the game master, so it may look). Random seats
speak a fixed line and pick uniformly among their legal actions.

    python -m bench.heuristic_winrates                      # classic-8, 200 games per match-up
    python -m bench.heuristic_winrates --preset all --games 100
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actors.agents import Agent, RandomAgent
from actors.heuristic import HeuristicAgent
from bench.docs import replace_section
from engine import PRESETS, Game, GameConfig, PlayerId, Team
from engine.roles import ROLE_SPECS

AgentFactory = Callable[[int], Agent]
MATCHUPS: dict[str, tuple[AgentFactory, AgentFactory]] = {  # name -> (village seats, wolf seats)
    "heuristic vs heuristic": (HeuristicAgent, HeuristicAgent),
    "heuristic village vs random wolves": (HeuristicAgent, RandomAgent),
    "random village vs heuristic wolves": (RandomAgent, HeuristicAgent),
}


@dataclass(frozen=True, slots=True)
class Result:
    """Outcomes of one match-up on one preset."""

    games: int
    winners: Counter[Team | None]
    mean_days: float
    seconds: float

    def percent(self, winner: Team | None) -> float:
        """Share of games won by `winner` (None: no winner), in percent."""
        return 100.0 * self.winners[winner] / self.games


def play_one(config: GameConfig, seed: int, village: AgentFactory, wolves: AgentFactory) -> Game:
    """Play one seeded game to its end, every seat driven by its team's agent."""
    game = Game.new(config, seed=seed)
    agents: dict[PlayerId, Agent] = {}
    for i, p in enumerate(game.players):
        factory = wolves if ROLE_SPECS[game.role_of(p)].team is Team.WOLVES else village
        agents[p] = factory(seed * 100 + i)
    while game.outcome() is None:
        for p in game.players:
            if p in game.awaiting():
                game.apply(p, agents[p].decide(game.observe(p), game.legal_actions(p)))
    return game


def run(config: GameConfig, games: int, village: AgentFactory, wolves: AgentFactory) -> Result:
    """Play seeds 0..games-1 of one match-up."""
    start = time.perf_counter()
    winners: Counter[Team | None] = Counter()
    days = 0
    for seed in range(games):
        outcome = play_one(config, seed, village, wolves).outcome()
        assert outcome is not None  # play_one returns finished games
        winners[outcome.winner] += 1
        days += outcome.day
    return Result(games, winners, days / games, time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the win-rate table for the chosen presets."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="classic-8", help="a preset name, or 'all' (default: classic-8)")
    parser.add_argument("--games", type=int, default=200, help="games per match-up (default: 200)")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the section in docs/benchmarks.md")
    args = parser.parse_args(argv)
    names = sorted(PRESETS) if args.preset == "all" else [args.preset]
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        parser.error(f"unknown preset {unknown[0]!r} (known: {', '.join(PRESETS)})")
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-docs"]
    command = " ".join(["python -m bench.heuristic_winrates", *shown])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}; reproduce with `{command}` (deterministic: same figures "
        "on every machine). Not tuned to a number: the agent plays by its rules, these are what they give.",
        "",
        "| preset | match-up | games | village win % | wolves win % | no winner % | mean days |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    print(lines[0], "\n", lines[2], "\n", lines[3], sep="")
    for name in names:
        for label, (village, wolves) in MATCHUPS.items():
            r = run(PRESETS[name], args.games, village, wolves)
            shares = " | ".join(f"{r.percent(w):.1f}" for w in (Team.VILLAGE, Team.WOLVES, None))
            lines.append(f"| {name} | {label} | {r.games} | {shares} | {r.mean_days:.2f} |")
            print(lines[-1], flush=True)
    if args.write_docs:
        replace_section("heuristic", "Built-in heuristic agent: win rates", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
