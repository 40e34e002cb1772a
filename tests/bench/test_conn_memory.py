"""`python -m bench.conn_memory`: it runs, and what the server holds per idle spectator stays small."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# 27.6 KB a spectator before the handshake's state was dropped and the heartbeat and writer tasks
# went (docs/benchmarks.md); 14.3 KB after. An allocation count, not a timing: it does not depend
# on the machine's load.
MAX_BYTES_PER_SPECTATOR = 20_000


def test_the_server_holds_under_20_kb_per_idle_spectator() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.conn_memory", "--spectators", "100", "--repeats", "1"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["spectators"] == 100
    assert 1_000 < report["bytes_per_spectator"] < MAX_BYTES_PER_SPECTATOR, report


def test_a_count_below_one_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.conn_memory", "--spectators", "0"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--spectators and --repeats must be at least 1" in done.stderr
