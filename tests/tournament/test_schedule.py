"""The schedule: balanced within each block, deterministic from the plan's seed, names shuffled."""

from __future__ import annotations

from collections import Counter

from engine import Game, game_key
from tournament.plan import parse_plan
from tournament.schedule import build_schedule, describe

SECRET = b"s" * 32
PLAN = """\
seed = {seed}
blocks = 3
self_play = true
per_table = {per_table}
[[table]]
preset = "classic-8"
[[table]]
preset = "aiwolf-5"
[[table]]
roles = {{werewolf = 1, seer = 1}}
players = 6
{contestants}
"""


def plan(seed: int = 1, contestants: int = 2, per_table: int = 2):  # type: ignore[no-untyped-def]
    names = "".join(f'[[contestant]]\nname = "c{i}"\nagent = "heuristic"\n' for i in range(contestants))
    return parse_plan(PLAN.format(seed=seed, contestants=names, per_table=per_table))


def roles_by_seat(config, seed: int) -> list[str]:  # type: ignore[no-untyped-def]
    game = Game.new(config, seed=seed, key=game_key(SECRET, seed))
    return [game.role_of(p).value for p in game.players]


def test_each_contestant_plays_each_role_and_seat_equally_often_within_a_block() -> None:
    for contestants, per_table in ((2, 2), (4, 2), (3, 3)):
        p = plan(contestants=contestants, per_table=per_table)
        configs = p.configs()
        games = build_schedule(p, configs)
        blocks: dict[tuple[int, int, tuple[str, ...]], list] = {}
        for g in games:
            if g.kind == "mixed":
                blocks.setdefault((g.table, g.block, tuple(sorted(g.contestants))), []).append(g)
        assert blocks
        for (table, _block, group), block in blocks.items():
            seats = len(configs[table].players)
            lineups = 1 if seats % len(group) == 0 else len(group)
            assert len(block) == seats * lineups
            assert len({g.seed for g in block}) == 1  # one deal per block
            roles = roles_by_seat(configs[table], block[0].seed)
            by_role = Counter((c, roles[i]) for g in block for i, c in enumerate(g.seats))
            by_seat = Counter((c, i) for g in block for i, c in enumerate(g.seats))
            counts = Counter(roles)
            for c in group:
                for role, n in counts.items():
                    assert by_role[c, role] == n * len(block) // len(group), (c, role)
                for i in range(seats):
                    assert by_seat[c, i] == len(block) // len(group)
            assert len({g.seats for g in block}) == len(block)  # every rotation is a different table


def test_every_group_meets_on_the_same_deals_and_self_play_is_apart() -> None:
    p = plan(contestants=3, per_table=2)
    games = build_schedule(p)
    groups = {tuple(sorted(g.contestants)) for g in games if g.kind == "mixed"}
    assert groups == {("c0", "c1"), ("c0", "c2"), ("c1", "c2")}
    for table in range(3):
        for block in range(3):
            seeds = {g.seed for g in games if g.table == table and g.block == block}
            assert len(seeds) == 1
    selfs = [g for g in games if g.kind == "self"]
    assert len(selfs) == 3 * 3 * 3
    assert all(len(set(g.seats)) == 1 for g in selfs)
    assert [g.index for g in games] == list(range(len(games)))


def test_the_schedule_is_deterministic_from_the_seed() -> None:
    assert build_schedule(plan(seed=5)) == build_schedule(plan(seed=5))
    assert build_schedule(plan(seed=5)) != build_schedule(plan(seed=6))


def test_names_are_shuffled_per_game() -> None:
    games = build_schedule(plan())
    assert len({g.names for g in games}) == len(games)
    first = Counter(g.names[0] for g in games)
    assert len(first) > 5  # seat 1 is not always the same name


def test_the_schedule_is_printed() -> None:
    p = plan()
    lines = describe(p, build_schedule(p), limit=3)
    assert "3 block(s)" in lines[0]
    assert lines[-1].startswith("  ... and")
