"""The README's agent example is real code: it runs and plays a whole game."""

from __future__ import annotations

import re
from pathlib import Path

from actors.runner import play_game
from engine import preset

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_agent_example_plays_a_game():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "the README lost its Python example"
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)  # our own README, on purpose
    agent_class = namespace["Grumpy"]
    config = preset("aiwolf-5")
    finished = play_game(config, {p: agent_class() for p in config.players}, seed=3, wait_s=20)
    assert finished.outcome is not None
    assert all(n == 0 for n in finished.faults.values())
