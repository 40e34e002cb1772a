"""Ratings and statistics against small cases computed by hand."""

from __future__ import annotations

import pytest
from openskill.models import PlackettLuce

from tournament.ratings import GameRow, Seat, openskill, summarise, wilson


def game(index: int, winner: str | None, *seats: tuple[str, str, str], kind: str = "mixed") -> GameRow:
    return GameRow(index, kind, "done", winner, 3, tuple(Seat(c, role, side) for c, role, side in seats))


A_VILLAGE = [("A", "villager", "village"), ("A", "seer", "village")]
B_WOLF = [("B", "werewolf", "wolves")]


def test_wilson_interval_by_hand() -> None:
    # 5 of 10: p = 0.5, z^2/n = 0.38415; centre 0.5; half = 1.96 * sqrt(0.025 + 0.0096) / 1.38415
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(10, 10)[1] == pytest.approx(1.0)


def test_one_seat_each_side_is_openskill_with_the_sides_as_members() -> None:
    rated = openskill([game(0, "village", ("A", "villager", "village"), ("B", "werewolf", "wolves"))], "AB")
    model = PlackettLuce()
    [[v, a], [w, b]] = model.rate(
        [[model.rating(), model.rating()], [model.rating(), model.rating()]], ranks=[1, 2]
    )
    assert rated["A"] == pytest.approx((a.mu, a.sigma))
    assert rated["B"] == pytest.approx((b.mu, b.sigma))
    assert rated["side:village"] == pytest.approx((v.mu, v.sigma))
    assert rated["side:wolves"] == pytest.approx((w.mu, w.sigma))
    assert rated["A"][0] > 25 > rated["B"][0]


def test_a_contestant_counts_once_per_side_and_gets_both_sides_updates() -> None:
    both = ("A", "werewolf", "wolves")
    rated = openskill([game(0, "wolves", *A_VILLAGE, *B_WOLF, both)], "AB")
    model = PlackettLuce()
    fresh = model.rating
    [[_v, a_village], [_w, a_wolf, b]] = model.rate(
        [[fresh(), fresh()], [fresh(), fresh(), fresh()]], ranks=[2, 1]
    )
    assert rated["A"][0] == pytest.approx(25 + (a_village.mu - 25) + (a_wolf.mu - 25))
    assert rated["A"][1] == pytest.approx(min(a_village.sigma, a_wolf.sigma))
    assert rated["B"] == pytest.approx((b.mu, b.sigma))
    two_seats = openskill([game(0, "wolves", *A_VILLAGE, *B_WOLF)], "AB")
    one_seat = openskill([game(0, "wolves", A_VILLAGE[0], *B_WOLF)], "AB")
    assert two_seats["A"] == one_seat["A"]  # seats are not heads: two village seats are one member


def test_a_draw_ranks_both_sides_first() -> None:
    rated = openskill([game(0, None, ("A", "villager", "village"), ("B", "werewolf", "wolves"))], "AB")
    assert rated["A"][0] == pytest.approx(rated["B"][0])


def test_self_play_is_kept_out_of_ratings_and_reported_apart() -> None:
    mixed = [game(0, "village", *A_VILLAGE, *B_WOLF)]
    self_play = [game(1, "wolves", ("B", "villager", "village"), ("B", "werewolf", "wolves"), kind="self")]
    alone = summarise(mixed, "AB", bootstrap=0)
    both = summarise(mixed + self_play, "AB", bootstrap=0)
    assert both.stats["B"].mu == alone.stats["B"].mu
    assert both.stats["B"].games == 1
    assert (both.stats["B"].self_play.wins, both.stats["B"].self_play.n) == (0, 1)


def test_win_rates_by_side_and_role_count_one_trial_per_game() -> None:
    games = [
        game(0, "village", *A_VILLAGE, *B_WOLF),
        game(1, "wolves", *A_VILLAGE, *B_WOLF),
        game(
            2, "wolves", ("A", "werewolf", "wolves"), ("B", "villager", "village"), ("B", "seer", "village")
        ),
    ]
    stats = summarise(games, "AB", bootstrap=0).stats
    village = stats["A"].by_side["village"]
    assert (village.wins, village.n) == (1, 2)  # two seats a game, still one trial per game
    assert (stats["A"].by_side["wolves"].wins, stats["A"].by_side["wolves"].n) == (1, 1)
    assert (stats["A"].by_role["seer"].wins, stats["A"].by_role["seer"].n) == (1, 2)
    assert (stats["B"].by_role["werewolf"].wins, stats["B"].by_role["werewolf"].n) == (1, 2)
    assert stats["A"].games == 3


def test_pairwise_counts_opponents_only() -> None:
    mixed_sides = game(
        0, "village", ("A", "villager", "village"), ("B", "villager", "village"), ("B", "werewolf", "wolves")
    )
    pairwise = summarise([mixed_sides], "AB", bootstrap=0).pairwise
    # A (village) met B's wolf and won; B met A only from its wolf seat (its villager was A's teammate).
    assert (pairwise["A", "B"].wins, pairwise["A", "B"].n) == (1, 1)
    assert (pairwise["B", "A"].wins, pairwise["B", "A"].n) == (0, 1)


def test_role_play_metrics() -> None:
    seats = (
        Seat("A", "villager", "village", votes=3, wolf_votes=2),
        Seat("A", "seer", "village", survived=False, death_day=1, death_cause="night", votes=1, wolf_votes=1),
        Seat("B", "werewolf", "wolves", survived=False, death_day=2, death_cause="execution", votes=2),
        Seat("B", "werewolf", "wolves", faults=1, decisions=4, tokens=10),
    )
    stats = summarise([GameRow(0, "mixed", "done", "wolves", 3, seats)], "AB", bootstrap=0).stats
    assert (stats["A"].detection.wins, stats["A"].detection.n) == (3, 4)
    assert (stats["B"].wolves_executed.wins, stats["B"].wolves_executed.n) == (1, 2)
    assert stats["B"].wolf_execution_days == [2]
    assert stats["B"].fault_rate == 0.25
    alive = stats["A"].alive_by_day
    assert [(alive[d].wins, alive[d].n) for d in (1, 2, 3)] == [(1, 2), (1, 2), (1, 2)]
    assert [(stats["B"].alive_by_day[d].wins) for d in (1, 2, 3)] == [2, 1, 1]


def test_bootstrap_rank_interval_is_tight_for_a_clear_winner() -> None:
    games = [game(i, "village" if i % 2 else "wolves", *(
        [("A", "villager", "village"), ("B", "werewolf", "wolves")] if i % 2
        else [("A", "werewolf", "wolves"), ("B", "villager", "village")]
    )) for i in range(30)]  # fmt: skip
    summary = summarise(games, "AB", bootstrap=50)
    assert summary.stats["A"].rank == 1
    assert summary.stats["A"].rank_interval == (1, 1)
    assert summary.stats["B"].rank_interval == (2, 2)
    failed = GameRow(30, "mixed", "failed", None, 0, (Seat("B", "villager", "village"),))
    assert summarise([*games, failed], "AB", bootstrap=0).stats["B"].failed_games == 1
