"""Pure-engine benchmark: random games per preset, and the comparison configuration side by side with
TextArena's bare SecretMafia engine (`SecretMafia-v0-raw`), in the same run, on the same machine.

Our driver, for every game: while there is no outcome, every awaited player in seat order gets his
observation built (`game.observe`, a full typed snapshot with every event he may see) and then plays a
random legal action drawn from `game.legal_actions`. Building the observation for every action is the
point: the goal is to be faster than TextArena while still building every player's view and tagging
every event's audience. TextArena's half (`bench/textarena_bench.py`) runs in `.venv-bench/` in a
subprocess, with its own loop (`get_observation`, `step`).

Each measurement plays N games R times (distinct seeds each repeat, garbage collected before each)
after an untimed warm-up, and reports the median games/s with the min and max; win rates and days are
averaged over all R x N games. On the comparison configuration the two engines alternate repeat by
repeat, so that background load on the machine hits both alike.

    python -m bench                     # everything; `make bench` adds --write-docs
    python -m bench --only engine       # our engine only (no TextArena needed)
    python -m bench --profile           # cProfile of our engine on the comparison configuration
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import (
    PRESETS,
    ActionKind,
    Choice,
    Discussion,
    Game,
    GameConfig,
    Reveal,
    Rules,
    Team,
    TiePolicy,
    VoteRule,
    random_action,
)
from engine.actions import Action

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
TEXTARENA_SCRIPT = Path(__file__).with_name("textarena_bench.py")
TEXTARENA_REQUIREMENTS = Path(__file__).with_name("requirements-textarena.txt")
TEXTARENA_VENV = ROOT / ".venv-bench"
START_MARKER = "<!-- bench:engine:start -->"
END_MARKER = "<!-- bench:engine:end -->"

#: The one short fixed sentence every speaker says, in both engines.
SPEECH = "I have nothing to add."
COMPARISON = "textarena-8"
#: Without --games, each configuration plays as many games as take about this long per repeat.
TARGET_SECONDS = 1.5
CALIBRATION_SECONDS = 0.5
MIN_GAMES = 20
WARMUP_GAMES = 100
#: --only textarena without --games (there is no run of ours to calibrate on).
TEXTARENA_ONLY_GAMES = 3000

Policy = Callable[[tuple[Choice, ...], random.Random], Action]


def comparison_config() -> GameConfig:
    """The comparison configuration: as close to TextArena's SecretMafia as our rules go.

    8 players: 2 wolves, 1 seer, 1 doctor, 4 villagers. Night: wolves pick a victim (no chat), the
    doctor protects (himself too, and the same player again), the seer inspects. Day: 3 round-robin
    rounds, then every living player votes; plurality, a tie drawn at random; nothing revealed on death;
    no last words. Self-votes are allowed because TextArena lists every living player as a valid vote.
    """
    rules = Rules(
        discussion=Discussion.ROUND_ROBIN,
        discussion_rounds=3,
        vote_rule=VoteRule.PLURALITY,
        tie_policy=TiePolicy.RANDOM,
        wolf_chat=False,
        last_words=False,
        reveal_on_death=Reveal.NONE,
        doctor_self_protect=True,
        doctor_repeat_protect=True,
        allow_self_vote=True,
    )
    roles = {"werewolf": 2, "seer": 1, "doctor": 1, "villager": 4}
    return GameConfig.build(roles, players=8, rules=rules, name=COMPARISON)


ABSTAIN = ActionKind.ABSTAIN


def plain_policy(choices: tuple[Choice, ...], rng: random.Random) -> Action:
    """The engine's random player: a uniform choice (abstaining included), then a uniform target."""
    return random_action(choices, rng, text=SPEECH)


def eager_policy(choices: tuple[Choice, ...], rng: random.Random) -> Action:
    """Like `plain_policy`, but never abstains when there is anything else to do.

    TextArena's random player always names a target and always speaks; with `plain_policy` half the
    voters would abstain (Vote and Abstain are two choices drawn uniformly), which is another game.
    """
    if len(choices) > 1:
        # The same filter as ever (the same choices, in menu order, so the same draws), as a list:
        # a list comprehension costs less than a tuple built from a generator, on every call.
        acting = [c for c in choices if c.kind is not ABSTAIN]
        if acting:
            return random_action(acting, rng, text=SPEECH)
    return random_action(choices, rng, text=SPEECH)


# ---------------------------------------------------------------------- measurements


@dataclass(frozen=True, slots=True)
class Run:
    """One timed block of games."""

    games: int
    seconds: float
    actions: int
    wolf_wins: int
    no_winner: int
    days: int


@dataclass(frozen=True, slots=True)
class Series:
    """R repeats of one configuration on one engine."""

    label: str
    runs: tuple[Run, ...]

    @property
    def games(self) -> int:
        """Games per repeat."""
        return self.runs[0].games

    @property
    def rates(self) -> list[float]:
        """Games per second, one per repeat."""
        return [r.games / r.seconds for r in self.runs]

    @property
    def median_rate(self) -> float:
        """Median games per second."""
        return statistics.median(self.rates)

    @property
    def us_per_action(self) -> float:
        """Median microseconds per player action (driver and observation included)."""
        return statistics.median(r.seconds / r.actions * 1e6 for r in self.runs)

    def _mean(self, field: str) -> float:
        total = sum(r.games for r in self.runs)
        return float(sum(getattr(r, field) for r in self.runs)) / total

    @property
    def actions_per_game(self) -> float:
        """Mean player actions per game."""
        return self._mean("actions")

    @property
    def wolf_rate(self) -> float:
        """Share of games the wolves won."""
        return self._mean("wolf_wins")

    @property
    def no_winner_rate(self) -> float:
        """Share of games that hit the day limit."""
        return self._mean("no_winner")

    @property
    def days_per_game(self) -> float:
        """Mean day on which games ended (night N precedes day N)."""
        return self._mean("days")


def play_engine(config: GameConfig, seeds: Sequence[int], rng: random.Random, policy: Policy) -> Run:
    """Play one game per seed through the pure engine, timed as one block."""
    seat = {p: i for i, p in enumerate(config.players)}.__getitem__
    actions = wolf_wins = no_winner = days = 0
    gc.collect()
    start = time.perf_counter()
    for seed in seeds:
        game = Game.new(config, seed=seed)
        while (outcome := game.outcome()) is None:
            awaited = game.awaiting()
            for player in awaited if len(awaited) == 1 else sorted(awaited, key=seat):
                game.observe(player)
                game.apply(player, policy(game.legal_actions(player), rng))
                actions += 1
        wolf_wins += outcome.winner is Team.WOLVES
        no_winner += outcome.winner is None
        days += outcome.day
    seconds = time.perf_counter() - start
    return Run(len(seeds), seconds, actions, wolf_wins, no_winner, days)


def calibrate(config: GameConfig, policy: Policy) -> int:
    """Warm up, and return how many games take about TARGET_SECONDS (two significant digits)."""
    played, seconds, seed = 0, 0.0, -1
    while seconds < CALIBRATION_SECONDS:
        batch = max(1, played)
        run = play_engine(config, range(seed - batch, seed), random.Random(seed), policy)
        played, seconds, seed = played + batch, seconds + run.seconds, seed - batch
    games = played / seconds * TARGET_SECONDS
    digits = len(str(int(games))) - 2
    return max(MIN_GAMES, int(round(games, -digits)) if digits > 0 else round(games))


def bench_engine(config: GameConfig, policy: Policy, games: int | None, repeats: int) -> Series:
    """Warm up (or calibrate), then play `games` games `repeats` times."""
    if games is None:
        games = calibrate(config, policy)
    else:
        play_engine(config, range(-WARMUP_GAMES, 0), random.Random(-1), policy)
    runs = tuple(
        play_engine(config, range(r * games, (r + 1) * games), random.Random(r), policy)
        for r in range(repeats)
    )
    return Series(f"ours ({config.name})", runs)


def textarena_python(*, setup: bool) -> Path:
    """The interpreter of `.venv-bench/`, creating the venv (same base Python as ours) if needed.

    `make bench` normally does this first; the same stamp file is used, so either way works.
    """
    python = TEXTARENA_VENV / "bin" / "python"
    stamp = TEXTARENA_VENV / ".installed"
    fresh = stamp.exists() and stamp.stat().st_mtime >= TEXTARENA_REQUIREMENTS.stat().st_mtime
    if python.exists() and fresh:
        return python
    if not setup:
        raise SystemExit(f"{TEXTARENA_VENV} is missing or stale: run `make bench` (or drop --no-setup)")
    print(f"setting up {TEXTARENA_VENV.relative_to(ROOT)} (TextArena, bench only) ...", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(TEXTARENA_VENV)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [str(python), "-m", "pip", "install", "-q", "-r", str(TEXTARENA_REQUIREMENTS)]
    subprocess.run(pip, check=True, env=env)
    stamp.touch()
    return python


@dataclass(frozen=True, slots=True)
class RivalReport:
    """TextArena's measurements and the interpreter that made them."""

    series: Series
    python: str
    env_class: str
    invalid_moves: int


def textarena_repeat(python: Path, games: int, repeat: int) -> RivalReport:
    """Run repeat number `repeat` of `bench/textarena_bench.py` in the TextArena venv (it warms up
    first, untimed) and read its JSON report."""
    command = [str(python), str(TEXTARENA_SCRIPT), "--games", str(games)]
    command += ["--repeats", "1", "--first-repeat", str(repeat)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    report = json.loads(done.stdout)
    runs = tuple(
        Run(r["games"], r["seconds"], r["actions"], r["wolf_wins"], r["no_winner"], r["days"])
        for r in report["repeats"]
    )
    return RivalReport(
        series=Series(report["engine"], runs),
        python=f"{report['implementation']} {report['python']}",
        env_class=report["env_class"],
        invalid_moves=sum(r["invalid"] for r in report["repeats"]),
    )


def compare(
    games: int | None, repeats: int, *, ours: bool, python: Path | None
) -> tuple[Series | None, RivalReport | None]:
    """The comparison configuration on both engines, one repeat of each in turn, so that both see the
    same machine conditions (other processes, clock changes) as far as possible."""
    config = comparison_config()
    if ours:
        games = games or calibrate(config, eager_policy)
        play_engine(config, range(-WARMUP_GAMES, 0), random.Random(-1), eager_policy)
    games = games or TEXTARENA_ONLY_GAMES
    our_runs: list[Run] = []
    rivals: list[RivalReport] = []
    for r in range(repeats):
        if ours:
            seeds = range(r * games, (r + 1) * games)
            our_runs.append(play_engine(config, seeds, random.Random(r), eager_policy))
        if python is not None:
            rivals.append(textarena_repeat(python, games, r))
    our_series = Series(f"ours ({config.name})", tuple(our_runs)) if our_runs else None
    if not rivals:
        return our_series, None
    rival = RivalReport(
        series=Series(rivals[0].series.label, tuple(r.series.runs[0] for r in rivals)),
        python=rivals[0].python,
        env_class=rivals[0].env_class,
        invalid_moves=sum(r.invalid_moves for r in rivals),
    )
    return our_series, rival


# ---------------------------------------------------------------------- reporting


def machine() -> str:
    """One line: cores, CPU model, OS and Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cores} cores (`nproc`), {model}, {platform.system()} {platform.release()}, {python}"


def commit() -> str:
    """The checked-out commit (short), marked when the work tree has local changes; read-only git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"{head} with local changes" if dirty else head


def rate_cell(series: Series) -> str:
    """`1,234 (1,200-1,250)`: median games/s and the range over repeats."""
    rates = series.rates
    return f"{series.median_rate:,.0f} ({min(rates):,.0f}-{max(rates):,.0f})"


def stats_cells(series: Series) -> list[str]:
    """The cells after the rate: µs/action, actions/game, wolves' wins, days/game."""
    wolves = f"{series.wolf_rate:.1%}"
    if series.no_winner_rate:
        wolves += f" ({series.no_winner_rate:.1%} no winner)"
    return [
        f"{series.us_per_action:.1f}",
        f"{series.actions_per_game:.1f}",
        wolves,
        f"{series.days_per_game:.2f}",
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (it reads fine in a terminal too)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


STATS_HEADER = ["µs/action", "actions/game", "wolves win", "days/game"]


def presets_table(results: list[tuple[GameConfig, Series]]) -> str:
    """Per-preset results."""
    header = ["preset", "players", "games x repeats", "games/s median (min-max)", *STATS_HEADER]
    rows = [
        [cfg.name, str(len(cfg.players)), f"{s.games} x {len(s.runs)}", rate_cell(s), *stats_cells(s)]
        for cfg, s in results
    ]
    return table(header, rows)


def comparison_table(ours: Series | None, rival: RivalReport | None) -> str:
    """Side by side on the comparison configuration, and the ratio."""
    header = ["engine", "games x repeats", "games/s median (min-max)", *STATS_HEADER]
    rows = [
        [s.label, f"{s.games} x {len(s.runs)}", rate_cell(s), *stats_cells(s)]
        for s in (ours, rival.series if rival else None)
        if s is not None
    ]
    return table(header, rows)


def verdict(ours: Series, rival: RivalReport) -> str:
    """The ratio ours/TextArena, said plainly."""
    ratio = ours.median_rate / rival.series.median_rate
    per_action = ours.us_per_action / rival.series.us_per_action
    paired = [o / t for o, t in zip(ours.rates, rival.series.rates, strict=False)]
    if ratio >= 1:
        where = f"ahead of TextArena by {ratio:.2f}x"
    else:
        where = f"behind: TextArena is {1 / ratio:.2f}x faster (goal: at least 1x)"
    return (
        f"Ratio ours/TextArena (median games/s): **{ratio:.2f}x**, {where}; "
        f"repeat by repeat {min(paired):.2f}x-{max(paired):.2f}x; "
        f"per action we take {per_action:.2f}x TextArena's time."
    )


METHOD = f"""\
Method. Each configuration plays N games R times (distinct seeds every repeat, `gc.collect()` before
each, after an untimed warm-up); games/s is the median over the repeats, with the min and max; µs/action
is the median time per player action, driver included; wins and days are averaged over all R x N games.
Without `--games`, N is calibrated to about {TARGET_SECONDS:g} s of our engine per repeat. On the
comparison configuration the two engines alternate, one repeat each in turn, both on one core of the
same machine (TextArena in a subprocess, which imports and warms up before its timed block), so that
background load hits both alike.

Our driver builds every awaited player's full observation (`Game.observe`: a typed snapshot with his
secrets and every event routed to him) before each action, then plays `engine.random_action` over
`Game.legal_actions`. TextArena's driver is its own loop: `env.get_observation()` (the messages queued
for the acting player since his last turn, which it hands over and clears), then `env.step(action)`.

Comparison configuration (TextArena's SecretMafia, as near as our rules go):
8 players, 2 wolves, 1 seer, 1 doctor, 4 villagers; no wolf
chat; 3 round-robin rounds of one short fixed sentence ("{SPEECH}"); every living player votes,
plurality with a random tie-break; no reveal, no last words; the doctor may protect himself and the same
player twice. TextArena: `SecretMafia-v0-raw` (no wrapper), 8 players, `mafia_ratio=0.25`,
`discussion_rounds=3`, played with random actions in its own format (`[3]`). Random play is matched: our
comparison policy never abstains when it can act (TextArena's random player always names someone; with
the plain `random_action`, Vote and Abstain are drawn as two choices, so half the voters would abstain),
votes go uniformly to any living player, self included, as TextArena lists (hence `allow_self_vote` on
our side), and the doctor protects any living player, himself included, as TextArena's handler accepts.
Presets use the plain `random_action` (abstaining allowed), as the engine's own random player does.

Sanity check: with random play wolves should win ~74-77% of games, in ~2.7 days. An independent 100,000-game
simulation of these rules, written apart from the engine, gives 77.7% and 2.75 days, as our engine
does. TextArena's lower wolf rate and longer games come from a quirk of its 0.7.4 rules: when the
doctor and the detective are both dead, the night goes straight from the mafia's vote to the day and
the victim never dies (`_resolve_night_outcome` runs only after a doctor or detective phase); the same
simulation with that quirk gives 74.3% and 2.87 days. So the two engines play the same game except for
those nights; TextArena's games run a few percent more actions, which lowers its games/s by as much
and leaves its µs/action unchanged."""


def render_section(
    presets: list[tuple[GameConfig, Series]],
    ours: Series,
    rival: RivalReport,
    command: str,
) -> str:
    """The generated part of docs/benchmarks.md, between the markers."""
    today = datetime.date.today().isoformat()
    parts = [
        f"Measured {today} on {machine()}; TextArena side: {rival.python} in `.venv-bench/` "
        f"(`{rival.env_class}`); commit {commit()}.",
        f"Reproduce with `make bench` (sets up `.venv` and `.venv-bench/`, then runs `{command}`).",
        "### Side by side with TextArena (comparison configuration)",
        comparison_table(ours, rival),
        verdict(ours, rival),
        "### Presets (our engine, plain `random_action`)",
        presets_table(presets),
        METHOD,
    ]
    return "\n\n".join(parts)


DOC_HEADER = """\
# Benchmarks

Figures measured on this project's machines (2 cores). `make bench` reruns them and rewrites the
generated parts (between the `bench:*` markers) in place.

## Pure engine (random play)
"""


def write_docs(section: str, path: Path = DOCS) -> None:
    """Replace the text between the markers in `path`, creating the file or the section if missing."""
    block = f"{START_MARKER}\n{section}\n{END_MARKER}"
    text = path.read_text(encoding="utf-8") if path.exists() else DOC_HEADER
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start != -1 and end > start:
        text = text[:start] + block + text[end + len(END_MARKER) :]
    else:
        if "## Pure engine (random play)" not in text:
            text = text.rstrip("\n") + "\n\n## Pure engine (random play)\n"
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def profile(games: int, top: int) -> None:
    """cProfile our engine on the comparison configuration; print the hotspots."""
    config = comparison_config()
    play_engine(config, range(-WARMUP_GAMES, 0), random.Random(-1), eager_policy)
    profiler = cProfile.Profile()
    profiler.enable()
    run = play_engine(config, range(games), random.Random(0), eager_policy)
    profiler.disable()
    print(f"{games} games, {run.actions} actions (timings inflated by the profiler)")
    stats = pstats.Stats(profiler)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)


# ---------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Random games through the pure engine, per preset and side by side with TextArena.",
    )
    parser.add_argument(
        "--games",
        type=int,
        default=None,
        help=f"games per repeat (default: calibrated to about {TARGET_SECONDS:g} s per repeat)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats; the median is reported")
    parser.add_argument("--only", choices=["engine", "textarena", "all"], default="all")
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite the generated section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--no-setup", action="store_true", help="fail instead of creating .venv-bench/ when it is missing"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile our engine on the comparison config and stop"
    )
    args = parser.parse_args(argv)
    if args.games is not None and args.games < 1:
        parser.error("--games must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.write_docs and args.only != "all":
        parser.error("--write-docs needs --only all")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables; optionally rewrite docs/benchmarks.md."""
    args = parse_args(argv)
    if args.profile:
        profile(args.games or 1000, top=25)
        return 0
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    print(f"machine: {machine()}", flush=True)

    presets: list[tuple[GameConfig, Series]] = []
    if args.only in ("engine", "all"):
        print("\n## Presets (our engine, plain random_action)", flush=True)
        for config in PRESETS.values():
            series = bench_engine(config, plain_policy, args.games, args.repeats)
            presets.append((config, series))
            print(f"  {config.name}: {rate_cell(series)} games/s", flush=True)
        print(f"\n{presets_table(presets)}")

    python = textarena_python(setup=not args.no_setup) if args.only in ("textarena", "all") else None
    print("\n## Comparison configuration (TextArena's SecretMafia rules), never abstaining", flush=True)
    ours, rival = compare(args.games, args.repeats, ours=args.only in ("engine", "all"), python=python)
    print()
    print(comparison_table(ours, rival))
    if rival is not None:
        print(f"\nTextArena: {rival.env_class} on {rival.python}; invalid moves: {rival.invalid_moves}")
        ours_python = f"{platform.python_implementation()} {platform.python_version()}"
        if rival.python != ours_python:
            print(f"WARNING: different interpreters (ours {ours_python}, TextArena {rival.python})")
    if ours is not None and rival is not None:
        print(f"\n{verdict(ours, rival)}")
        print("Sanity: random play gives wolves ~74-77%, ~2.7 days; see docs/benchmarks.md on the gap.")
        if args.write_docs:
            write_docs(render_section(presets, ours, rival, command))
            print(f"\nwrote {DOCS.relative_to(ROOT)}")
    return 0
