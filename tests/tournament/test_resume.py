"""Resume after `kill -9` (or Ctrl-C) of the runner at a random point: no game lost, none doubled."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tournament.conftest import ROOT, SECRET, small_plan
from tests.tournament.test_runner import outcomes
from tournament import parse_plan, run_tournament

pytestmark = pytest.mark.slow

TOTAL = 32  # 4 blocks of 8 games


def _default_sigint() -> None:
    # A shell starts a background job with SIGINT ignored (POSIX, asynchronous lists without job
    # control), the child would inherit that, and Ctrl-C would then do nothing to the runner.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tournament(plan: Path, secret: Path, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "tournament", str(plan), "--host-secret", str(secret)],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - a signal disposition, nothing that takes a lock
        **popen,  # type: ignore[call-overload]
    )


@pytest.mark.parametrize(("seed", "how"), [(1, signal.SIGKILL), (2, signal.SIGKILL), (3, signal.SIGINT)])
def test_kill_9_then_resume_loses_and_doubles_nothing(
    tmp_path: Path, secret_file: Path, seed: int, how: signal.Signals
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(small_plan(blocks=4, games_at_once=3))
    kill_after = random.Random(seed).randrange(1, TOTAL - 4)  # games ended before the kill
    runner = tournament(plan, secret_file)
    assert runner.stdout is not None
    ended = 0
    for line in runner.stdout:  # one line per game that ends: the kill comes at a random one
        if "(game " in line:
            ended += 1
            if ended == kill_after:
                runner.send_signal(how)  # SIGKILL: no handler, no cleanup; SIGINT: Ctrl-C
                break
    runner.wait(timeout=60)
    if how == signal.SIGKILL:
        assert runner.returncode == -9
    else:
        assert runner.returncode == 130
        assert runner.stderr is not None
        assert "run the same command to resume" in runner.stderr.read()
    db = plan.with_suffix(".db")
    with sqlite3.connect(db) as conn:
        before = {r[0] for r in conn.execute("SELECT idx FROM games")}
    assert kill_after <= len(before) < TOTAL

    resumed = tournament(plan, secret_file)
    out, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err
    assert f"{TOTAL}/{TOTAL} games recorded (0 failed), {TOTAL - len(before)} played now" in out
    with sqlite3.connect(db) as conn:
        games = conn.execute("SELECT idx, status FROM games ORDER BY idx").fetchall()
        seats = conn.execute("SELECT game, COUNT(*) FROM seats GROUP BY game").fetchall()
    assert games == [(i, "done") for i in range(TOTAL)]
    assert seats == [(i, 8) for i in range(TOTAL)]
    # The interrupted and resumed tournament is the one an uninterrupted run plays.
    run_tournament(parse_plan(plan.read_text()), tmp_path / "straight.db", secret=SECRET)
    assert outcomes(db) == outcomes(tmp_path / "straight.db")
