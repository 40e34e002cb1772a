"""TextArena's bare SecretMafia engine under random play: the rival half of the side-by-side benchmark.

This file runs in its own interpreter, `.venv-bench/bin/python` (TextArena is a bench-only dependency kept
out of the project's `.venv`), so it imports only the standard library and `textarena`, never the project.
`bench.engine_bench` starts it as a subprocess and reads the one JSON object it prints on stdout:

    .venv-bench/bin/python bench/textarena_bench.py --games 1000 --repeats 5

Repeat r plays seeds r*N .. r*N+N-1 with `random.Random(r)` for the policy, like our side; the parent
runs one repeat per subprocess (`--first-repeat r --repeats 1`), alternating with its own repeats.

The environment is `SecretMafia-v0-raw`: the registered variant with no observation wrapper, built with
8 players, `mafia_ratio=0.25` (2 mafia), one doctor, one detective, 4 villagers and 3 discussion rounds.
The driver is TextArena's own loop: `env.get_observation()` (the acting player's observation), an action
in the env's format, `env.step(action)`, until `step` reports the game done.

Random policy, in TextArena's action format:
  * discussion: the fixed sentence `TEXT` (the same one our engine's random player says);
  * mafia at night: `[X]`, X uniform among the living non-mafia (the targets the env lists);
  * detective: `[X]`, X uniform among the living other than himself (the targets the env lists);
  * doctor: `[X]`, X uniform among all the living, himself included (the env's prompt lists the others,
    but its handler accepts any living player; our comparison config lets the doctor protect himself);
  * day vote: `[X]`, X uniform among all the living, himself included (the targets the env lists).
The policy reads the env's state (phase, living players, roles) instead of parsing the prompt text: that
is the cheapest way to draw a legal action and favours TextArena, if anything.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import sys
import time
from typing import Any

import textarena as ta
from textarena.envs.SecretMafia.env import Phase

ENV_ID = "SecretMafia-v0-raw"
PLAYERS = 8
MAFIA_RATIO = 0.25
DISCUSSION_ROUNDS = 3
TEXT = "I have nothing to add."
WARMUP_GAMES = 100


def make_env() -> Any:
    """The bare SecretMafia env; exits if TextArena ever wraps the `-raw` variant."""
    env = ta.make(ENV_ID, mafia_ratio=MAFIA_RATIO, discussion_rounds=DISCUSSION_ROUNDS)
    if isinstance(env, ta.Wrapper):
        sys.exit(f"{ENV_ID} came wrapped in {type(env).__name__}: not the bare engine")
    return env


def play(env: Any, seed: int, rng: random.Random) -> tuple[int, bool, int, int]:
    """Play one seeded game; return (actions, mafia won, days, invalid moves).

    Days count nights begun (night N precedes day N), as our engine's `Outcome.day` does.
    """
    env.reset(num_players=PLAYERS, seed=seed)
    state = env.state
    roles = env.player_roles
    alive = state.game_state["alive_players"]  # the env mutates this list in place
    actions = invalid = 0
    day = 1
    done = False
    while not done:
        pid, _observation = env.get_observation()
        phase = env.phase
        if phase is Phase.DAY_DISCUSSION:
            action = TEXT
        elif phase is Phase.NIGHT_MAFIA:
            action = f"[{rng.choice([p for p in alive if roles[p] != 'Mafia'])}]"
        elif phase is Phase.NIGHT_DETECTIVE:
            action = f"[{rng.choice([p for p in alive if p != pid])}]"
        else:  # doctor, day vote
            action = f"[{rng.choice(alive)}]"
        done, _info = env.step(action)
        actions += 1
        if state.error_count:  # set only by an invalid move; must never happen
            invalid += 1
        if env.phase is Phase.NIGHT_MAFIA and phase is not Phase.NIGHT_MAFIA:
            day += 1
    mafia = next(p for p, role in roles.items() if role == "Mafia")
    return actions, state.rewards[mafia] == 1, day, invalid


def run(env: Any, seeds: range, rng: random.Random) -> dict[str, Any]:
    """Play `seeds` back to back, timed as one block."""
    actions = wins = days = invalid = 0
    gc.collect()
    start = time.perf_counter()
    for seed in seeds:
        n, won, d, bad = play(env, seed, rng)
        actions += n
        wins += won
        days += d
        invalid += bad
    seconds = time.perf_counter() - start
    return {
        "games": len(seeds),
        "seconds": seconds,
        "actions": actions,
        "wolf_wins": wins,
        "no_winner": 0,
        "days": days,
        "invalid": invalid,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, warm up, run the timed repeats and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, required=True, help="games per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats")
    parser.add_argument(
        "--first-repeat", type=int, default=0, help="number of the first repeat (picks seeds and rng)"
    )
    args = parser.parse_args(argv)
    env = make_env()
    run(env, range(-WARMUP_GAMES, 0), random.Random(-1))
    repeats = []
    for r in range(args.first_repeat, args.first_repeat + args.repeats):
        repeats.append(run(env, range(r * args.games, (r + 1) * args.games), random.Random(r)))
    report = {
        "engine": f"TextArena {ta.__version__} {ENV_ID}",
        "env_class": f"{type(env).__module__}.{type(env).__qualname__}",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "repeats": repeats,
    }
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
