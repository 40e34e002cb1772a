"""Ratings and statistics from the recorded games, each with its uncertainty.

- OpenSkill (Plackett-Luce, the `openskill` package): a game is two teams, the sides. A team's
  members are the contestants holding seats of that side (once each, however many seats) plus a
  pseudo-player for the side itself (`side:village`, `side:wolves`), rated like the others: it soaks
  up the side's advantage (in classic-8 the wolves win most games), so a contestant's rating does not
  depend on which side the deals gave it. A contestant at both sides of a game gets both updates
  (its mu moves by their sum, its sigma is the smaller). A game with no winner (the day limit) is a
  draw. Counting a contestant once per team rather than once per seat keeps team strength from being
  a head count: with seats as members, the 6-seat village was "expected" to win, every wolf win
  dragged every rating down.
- Win rates per contestant and side, and per role: one trial per game in which it held that side
  (role), with a Wilson score interval (95 %). Seats of one game are not independent, so they are not
  counted as separate trials.
- Rank intervals: games resampled with replacement (bootstrap), ratings recomputed, ranks' 2.5 and
  97.5 percentiles.
- Pairwise: for contestants A and B on opposite sides of a game, A "beat" B when A's side won.
- Self-play games are kept out of all of the above and summarised apart.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openskill.models import PlackettLuce

from tournament.store import Store

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Seat:
    """One seat of a recorded game (the store's `seats` row, the fields statistics use)."""

    contestant: str
    role: str
    side: str
    survived: bool = True
    death_day: int | None = None
    death_cause: str | None = None
    decisions: int = 0
    faults: int = 0
    timeouts: int = 0
    retries: int = 0
    calls: int = 0
    tokens: int = 0
    votes: int = 0
    fallbacks: int = 0
    wolf_votes: int = 0


@dataclass(frozen=True)
class GameRow:
    """One recorded game."""

    index: int
    kind: str
    status: str
    winner: str | None
    days: int
    seats: tuple[Seat, ...]
    log_path: str | None = None
    table: str = ""


def load_games(store: Store) -> list[GameRow]:
    """Every recorded game with its seats, in schedule order."""
    seats: dict[int, list[Seat]] = defaultdict(list)
    for r in store.rows("SELECT * FROM seats ORDER BY game, seat"):
        seats[r["game"]].append(
            Seat(
                r["contestant"], r["role"], r["side"], bool(r["survived"]), r["death_day"], r["death_cause"],
                r["decisions"], r["faults"], r["timeouts"], r["retries"], r["calls"],
                r["prompt_tokens"] + r["completion_tokens"], r["votes"], r["wolf_votes"], r["fallbacks"],
            )
        )  # fmt: skip
    return [
        GameRow(
            r["idx"],
            r["kind"],
            r["status"],
            r["winner"],
            r["days"],
            tuple(seats[r["idx"]]),
            r["log_path"],
            r["table_label"],
        )
        for r in store.rows("SELECT * FROM games ORDER BY idx")
    ]


def wilson(wins: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion wins/n ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Rate:
    """A proportion with its 95 % interval."""

    wins: int = 0
    n: int = 0

    @property
    def value(self) -> float:
        """wins / n (0 when n is 0)."""
        return self.wins / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson 95 %."""
        return wilson(self.wins, self.n)


def openskill(games: Iterable[GameRow], names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """name -> (mu, sigma) after rating `games` in order (finished mixed games only); the result also
    holds the sides' pseudo-players, `side:village` and `side:wolves`."""
    model = PlackettLuce()
    start = model.rating()
    current = dict.fromkeys((*names, *SIDE_PLAYERS), (start.mu, start.sigma))
    for game in games:
        if game.status != "done" or game.kind != "mixed":
            continue
        sides = sorted({s.side for s in game.seats})
        if len(sides) != 2:  # noqa: PLR2004 - a game with one side only says nothing about skill
            continue
        teams = [
            [f"side:{side}", *dict.fromkeys(s.contestant for s in game.seats if s.side == side)]
            for side in sides
        ]
        ranks: list[float] = (
            [1, 1] if game.winner is None else [1 if side == game.winner else 2 for side in sides]
        )
        ratings = [[model.rating(mu=current[c][0], sigma=current[c][1]) for c in team] for team in teams]
        updated = model.rate(ratings, ranks=ranks)
        moves: dict[str, float] = defaultdict(float)
        sigmas: dict[str, float] = {}
        for team, new in zip(teams, updated, strict=True):
            for c, r in zip(team, new, strict=True):
                moves[c] += r.mu - current[c][0]
                sigmas[c] = min(sigmas.get(c, math.inf), r.sigma)
        for c, move in moves.items():
            current[c] = (current[c][0] + move, sigmas[c])
    return current


SIDE_PLAYERS = ("side:village", "side:wolves")


def ordinal(mu: float, sigma: float) -> float:
    """OpenSkill's conservative score: mu - 3 sigma."""
    return mu - 3 * sigma


def ranks_of(ratings: dict[str, tuple[float, float]]) -> dict[str, int]:
    """Rank from 1 by ordinal (ties share the better rank)."""
    scores = {n: ordinal(*r) for n, r in ratings.items() if n not in SIDE_PLAYERS}
    return {n: 1 + sum(other > s for other in scores.values()) for n, s in scores.items()}


def bootstrap_ranks(
    games: Sequence[GameRow], names: Sequence[str], samples: int = 200, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """name -> (2.5th, 97.5th percentile) of its rank over `samples` bootstrap resamples of the games."""
    rated = [g for g in games if g.status == "done" and g.kind == "mixed"]
    if not rated or samples <= 0:
        return {n: (1, len(names)) for n in names}
    rng = random.Random(seed)
    seen: dict[str, list[int]] = {n: [] for n in names}
    for _ in range(samples):
        resample = [rated[rng.randrange(len(rated))] for _ in rated]
        for n, r in ranks_of(openskill(resample, names)).items():
            seen[n].append(r)
    return {n: (_percentile(v, 0.025), _percentile(v, 0.975)) for n, v in seen.items()}


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Stats:
    """Everything measured about one contestant."""

    name: str
    mu: float = 0.0
    sigma: float = 0.0
    rank: int = 0
    rank_interval: tuple[int, int] = (0, 0)
    games: int = 0  # mixed games, finished
    failed_games: int = 0  # games it was in that failed for good
    by_side: dict[str, Rate] = field(default_factory=dict)
    by_role: dict[str, Rate] = field(default_factory=dict)
    decisions: int = 0
    faults: int = 0
    fallbacks: int = 0
    timeouts: int = 0
    retries: int = 0
    calls: int = 0
    tokens: int = 0
    detection: Rate = field(default_factory=Rate)  # village-side day votes that went to a wolf
    wolves_executed: Rate = field(default_factory=Rate)  # its wolf seats that were executed
    wolf_execution_days: list[int] = field(default_factory=list)
    alive_by_day: dict[int, Rate] = field(default_factory=dict)  # its seats alive at the end of day d
    self_play: Rate = field(default_factory=Rate)  # self-play games won by the village

    @property
    def ordinal(self) -> float:
        """mu - 3 sigma."""
        return ordinal(self.mu, self.sigma)

    @property
    def fault_rate(self) -> float:
        """Faults per decision."""
        return self.faults / self.decisions if self.decisions else 0.0


@dataclass
class Summary:
    """The statistics of a whole tournament."""

    stats: dict[str, Stats]
    sides: dict[str, tuple[float, float]]  # the sides' pseudo-players' (mu, sigma): the side advantage
    pairwise: dict[tuple[str, str], Rate]  # (A, B): games A's side beat B's side
    games: list[GameRow]

    @property
    def standings(self) -> list[Stats]:
        """Contestants by rank."""
        return sorted(self.stats.values(), key=lambda s: (s.rank, s.name))


def summarise(games: Sequence[GameRow], names: Sequence[str], bootstrap: int = 200) -> Summary:
    """All statistics over `games` for the contestants `names`."""
    stats = {n: Stats(n) for n in names}
    ratings = openskill(games, names)
    ranks = ranks_of(ratings)
    intervals = bootstrap_ranks(games, names, bootstrap)
    for n, s in stats.items():
        s.mu, s.sigma = ratings[n]
        s.rank, s.rank_interval = ranks[n], intervals[n]
    pairwise: dict[tuple[str, str], Rate] = defaultdict(Rate)
    for game in games:
        present = {s.contestant for s in game.seats}
        if game.status != "done":
            for c in present:
                stats[c].failed_games += 1
            continue
        if game.kind == "self":
            for c in present:
                stats[c].self_play.n += 1
                stats[c].self_play.wins += game.winner == "village"
            continue
        _count_game(game, stats, pairwise)
    return Summary(stats, {k: ratings[k] for k in SIDE_PLAYERS}, dict(pairwise), list(games))


def _count_game(game: GameRow, stats: dict[str, Stats], pairwise: dict[tuple[str, str], Rate]) -> None:
    sides: dict[str, set[str]] = defaultdict(set)
    roles: dict[str, set[str]] = defaultdict(set)
    for seat in game.seats:
        sides[seat.contestant].add(seat.side)
        roles[seat.contestant].add(seat.role)
        _count_seat(game, seat, stats[seat.contestant])
    _count_sides(game, sides, roles, stats, pairwise)


def _count_seat(game: GameRow, seat: Seat, s: Stats) -> None:
    s.decisions += seat.decisions
    s.faults += seat.faults
    s.fallbacks += seat.fallbacks
    s.timeouts += seat.timeouts
    s.retries += seat.retries
    s.calls += seat.calls
    s.tokens += seat.tokens
    if seat.side == "village":
        s.detection.n += seat.votes
        s.detection.wins += seat.wolf_votes
    if seat.role == "werewolf":
        s.wolves_executed.n += 1
        if seat.death_cause == "execution" and seat.death_day is not None:
            s.wolves_executed.wins += 1
            s.wolf_execution_days.append(seat.death_day)
    for day in range(1, game.days + 1):
        alive = s.alive_by_day.setdefault(day, Rate())
        alive.n += 1
        alive.wins += seat.death_day is None or seat.death_day > day


def _count_sides(
    game: GameRow,
    sides: dict[str, set[str]],
    roles: dict[str, set[str]],
    stats: dict[str, Stats],
    pairwise: dict[tuple[str, str], Rate],
) -> None:
    for c, held in sides.items():
        s = stats[c]
        s.games += 1
        for side in held:
            rate = s.by_side.setdefault(side, Rate())
            rate.n += 1
            rate.wins += side == game.winner
        for role in roles[c]:
            won = any(x.side == game.winner for x in game.seats if x.contestant == c and x.role == role)
            rate = s.by_role.setdefault(role, Rate())
            rate.n += 1
            rate.wins += won
    for a, a_sides in sides.items():
        for b, b_sides in sides.items():
            if a == b:
                continue
            for side in a_sides:
                if any(other != side for other in b_sides):
                    pairwise[a, b].n += 1
                    pairwise[a, b].wins += side == game.winner
