"""How tests/engine/data/legacy_records.json was made: records written by the engine as it stood before
the GameState reshape (commit d3751d5), which every later engine must replay identically.

Do not regenerate the file to make a failing test pass: it is the old engine's output, kept as evidence
that old logs still replay. Regenerate only with the old engine checked out:
`python -m tests.engine.legacy_records`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from engine import PRESETS, Game, GameConfig, Role, Rules, game_key, random_action, to_record

DATA = Path(__file__).with_name("data") / "legacy_records.json"
ROLES = {"werewolf": 2, "seer": 1, "doctor": 1, "witch": 1, "hunter": 1, "villager": 2}
VARIANTS: dict[str, dict[str, Any]] = {
    "bidding": {"discussion": "bidding"},
    "chat-last-words": {"wolf_chat": True, "last_words": True, "reveal_on_death": "team"},
    "day-zero-majority": {"day_zero": True, "vote_rule": "strict_majority"},
    "revote": {"tie_policy": "revote_then_random", "witch_self_save": True},
}
HOST_SECRET = bytes(range(32))


def play(game: Game, rng: random.Random) -> None:
    """Random legal play with deadlines, faults and reasoning notes mixed in."""
    while game.outcome() is None:
        roll = rng.random()
        pending = [p for p in game.players if p in game.awaiting()]
        if roll < 0.03:
            game.deadline_passed(game.phase_id)
        elif roll < 0.05:
            game.note_fault(rng.choice(game.players), "unparsable answer")
        elif roll < 0.08:
            game.note_reasoning(rng.choice(pending), f"thinking {rng.random():.3f}")
        else:
            player = rng.choice(pending)
            game.apply(player, random_action(game.legal_actions(player), rng))


def records() -> list[dict[str, Any]]:
    """Records of classic-8 with a witch and a hunter under several rule sets, keyed and unkeyed, plus
    two presets and one scripted deal."""
    out = []
    for name, rules in VARIANTS.items():
        config = GameConfig.build(ROLES, players=8, rules=Rules.from_dict(rules), name=f"classic-8-{name}")
        for seed in range(3):
            for keyed in (False, True):
                key = game_key(HOST_SECRET, seed) if keyed else None
                game = Game.new(config, seed=seed, key=key)
                play(game, random.Random(seed))
                out.append(to_record(game))
    for preset in ("agentscope-9", "aiwolf-13"):
        game = Game.new(PRESETS[preset], seed=7)
        play(game, random.Random(7))
        out.append(to_record(game))
    config = GameConfig.build(ROLES, players=8, rules=Rules.from_dict(VARIANTS["chat-last-words"]))
    deal = dict(zip(config.players, [Role(r) for r, n in ROLES.items() for _ in range(n)], strict=True))
    game = Game.with_roles(config, deal, seed=3)
    play(game, random.Random(3))
    out.append(to_record(game))
    return out


if __name__ == "__main__":
    DATA.write_text(json.dumps(records(), indent=None, sort_keys=True) + "\n")
