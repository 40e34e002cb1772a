"""The actor benchmark measures the three paths side by side and says which is which.

No figure is asserted (machines are noisy): a tiny run plays the same games on each path.
"""

from __future__ import annotations

from bench.actor_bench import INLINE, PURE, THREADED, actors, measure, pure, render
from bench.engine_bench import comparison_config


def test_each_path_plays_the_same_games():
    config = comparison_config()
    seeds = range(3)
    actions = {pure(config, seeds)[1], actors(config, seeds, inline=False)[1], actors(config, seeds)[1]}
    assert len(actions) == 1  # the same seeds and agents: the same number of actions on every path


def test_the_table_has_a_row_per_path_and_the_speed_up():
    results = measure(comparison_config(), games=2, repeats=1)
    assert list(results) == [PURE, THREADED, INLINE]
    section = render("textarena-8", 2, results, "python -m bench.actor_bench --write-docs")
    assert [
        line.split(" | ")[0] for line in section.splitlines() if line.startswith("| ") and "x 1" in line
    ] == [f"| {label}" for label in results]
    assert "as fast as a thread per seat" in section
