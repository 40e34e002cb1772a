"""Clean shutdown: no thread or actor outlives its game."""

from __future__ import annotations

import threading

import pykka

from actors.agents import RandomAgent
from actors.runner import play_game
from engine import preset


def test_no_thread_or_actor_left_after_100_games():
    config = preset("aiwolf-5")
    before = {t.ident for t in threading.enumerate()}
    outcomes = []
    for seed in range(100):
        agents = {p: RandomAgent(seed * 10 + i) for i, p in enumerate(config.players)}
        outcomes.append(play_game(config, agents, seed=seed, wait_s=20).outcome)
    assert all(o is not None for o in outcomes)
    assert pykka.ActorRegistry.get_all() == []
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []
