"""A fair schedule, deterministic from the plan's seed.

Games come in blocks. A block fixes one deal (the game seed: with the same key the same seats get the
same roles) and its contestants. A *lineup* gives each contestant consecutive slots, `seats / g` each
for g contestants; game j of a lineup seats slot s at seat (s - j) mod seats, so over `seats` games
every slot sits at every seat once. When g does not divide the seats, the block has g lineups and
the extra seats go to each contestant in turn. Either way, within a block each contestant plays each
seat equally often, and each role `count(role)` times as often, whatever the deal. Contiguous slots
(AAAABBBB, not ABABABAB) make every rotation a different table.

Every group of `per_table` contestants meets in each block index, so all groups play the same deals.
Player names are drawn per game from the engine's name list, so a model is not "Alice" every time.
A self-play block is one game of one contestant in every seat (reported apart, never rated).
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from engine import DEFAULT_NAMES, GameConfig
from tournament.plan import Plan


@dataclass(frozen=True, slots=True)
class ScheduledGame:
    """One game of the schedule. `index` is its identity in the results store."""

    index: int
    table: int  # index into plan.table
    block: int
    kind: str  # "mixed" or "self"
    seed: int
    seats: tuple[str, ...]  # contestant name at each seat, in seat order
    names: tuple[str, ...]  # player name at each seat

    @property
    def contestants(self) -> tuple[str, ...]:
        """The distinct contestants of this game, in seat order of first appearance."""
        return tuple(dict.fromkeys(self.seats))


def derive(seed: int, *labels: object) -> int:
    """A 63-bit number derived from the plan's seed and labels (stable across processes and versions)."""
    text = "/".join(map(str, (seed, *labels)))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def lineups(group: Sequence[str], seats: int) -> list[list[str]]:
    """The block's lineups: in each, every contestant of `group` holds consecutive slots; the
    `seats % len(group)` extra slots go to each contestant in turn (one lineup per turn)."""
    g = len(group)
    base, extra = divmod(seats, g)
    out = []
    for turn in range(g if extra else 1):
        order = [group[(k + turn) % g] for k in range(g)]
        out.append([name for k, name in enumerate(order) for _ in range(base + (k < extra))])
    return out


def rotation(slots: Sequence[str], shift: int) -> tuple[str, ...]:
    """Game `shift` of a block: seat i is taken by slot (i + shift) mod seats."""
    n = len(slots)
    return tuple(slots[(i + shift) % n] for i in range(n))


def build_schedule(plan: Plan, configs: Sequence[GameConfig] | None = None) -> list[ScheduledGame]:
    """Every game of the plan, in the order they are started."""
    configs = list(configs) if configs is not None else plan.configs()
    names = [c.name for c in plan.contestant]
    groups = list(itertools.combinations(names, plan.group_size)) if plan.mixed else []
    games: list[ScheduledGame] = []
    for block in range(plan.blocks):
        for t, config in enumerate(configs):
            seats = len(config.players)
            seed = derive(plan.seed, "deal", t, block)
            for group in groups:
                # The group's order in its lineup is drawn too: nobody always starts at seat 1.
                order = list(group)
                random.Random(derive(plan.seed, "order", t, block, *group)).shuffle(order)
                for slots in lineups(order, seats):
                    for shift in range(seats):
                        games.append(_game(plan, len(games), t, block, "mixed", seed, rotation(slots, shift)))
            if plan.self_play:
                for name in names:
                    games.append(_game(plan, len(games), t, block, "self", seed, (name,) * seats))
    return games


def _game(  # noqa: PLR0917 - private, the fields of one ScheduledGame
    plan: Plan, index: int, table: int, block: int, kind: str, seed: int, seats: tuple[str, ...]
) -> ScheduledGame:
    rng = random.Random(derive(plan.seed, "names", index))
    return ScheduledGame(index, table, block, kind, seed, seats, tuple(rng.sample(DEFAULT_NAMES, len(seats))))


def describe(plan: Plan, games: Sequence[ScheduledGame], limit: int = 40) -> list[str]:
    """The schedule as lines for the terminal: a summary, then games (the first `limit`)."""
    mixed = sum(g.kind == "mixed" for g in games)
    lines = [
        f"Tournament {plan.name!r}: {len(games)} games ({mixed} mixed, {len(games) - mixed} self-play), "
        f"{plan.blocks} block(s), {len(plan.table)} table(s), seed {plan.seed}.",
    ]
    for g in games[:limit]:
        lines.append(
            f"  #{g.index:<5} {plan.table[g.table].label:<12} block {g.block:<3} {g.kind:<5} "
            f"seed {g.seed:<20} {' '.join(g.seats)}"
        )
    if len(games) > limit:
        lines.append(f"  ... and {len(games) - limit} more")
    return lines
