"""What the network benchmarks share: the two servers as processes, the load generator, CPU pinning,
and the medians of the tables.

Every measurement starts a fresh server process (`our_server.py` in this venv, or `baseline_server.py`
in `.venv-bench/`), pinned to CPU 0 with `taskset`, then runs `loadgen.py` in another process pinned
to CPU 1, and stops the server. Loopback only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BENCH_VENV = ROOT / ".venv-bench"
REQUIREMENTS = ROOT / "bench" / "requirements-fanout.txt"
TEXTARENA_REQUIREMENTS = ROOT / "bench" / "requirements-textarena.txt"
KINDS = ("baseline", "ours")
LABELS = {"baseline": "seed design: FastAPI + Uvicorn", "ours": "ours: NetworkServer (Trio + wsproto)"}
SERVER_CPU, LOADGEN_CPU = 0, 1
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------------------------------- processes


def bench_python(*, setup: bool = True) -> Path:
    """`.venv-bench/`'s interpreter, with FastAPI and Uvicorn installed (`make bench` does it first)."""
    python = BENCH_VENV / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import fastapi, uvicorn"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return python
    if not setup:
        raise SystemExit(f"{BENCH_VENV} lacks FastAPI/Uvicorn: run `make bench`")
    print(f"setting up {BENCH_VENV.relative_to(ROOT)} (FastAPI + Uvicorn, bench only) ...", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(BENCH_VENV)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "-r",
        str(TEXTARENA_REQUIREMENTS),
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(pip, check=True, env=env)
    return python


def pinned(cpu: int) -> list[str]:
    """`taskset -c CPU` if taskset exists and that CPU is ours, else nothing."""
    if shutil.which("taskset") and cpu in os.sched_getaffinity(0) and len(os.sched_getaffinity(0)) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(kind: str, log_dir: Path, profile: Path | None = None) -> Iterator[dict[str, Any]]:
    """Start one server process and yield its announcement (ports, pid); always stop it."""
    log_path = log_dir / f"{kind}-{time.monotonic_ns()}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if kind == "ours":
        command = [sys.executable, "-m", "bench.fanout.our_server", "--port", "0"]
        if profile is not None:
            env["LG_FANOUT_PROFILE"] = str(profile)
    else:
        command = [str(bench_python()), str(HERE / "baseline_server.py"), "--port", str(free_port())]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            pinned(SERVER_CPU) + command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=ROOT, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        ready: dict[str, Any] | None = None
        while ready is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{kind} server did not start:\n{tail}")
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith('{"ready"'):
                    ready = json.loads(line)
            time.sleep(0.05)
        yield ready
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)


def loadgen(kind: str, ready: dict[str, Any], *options: str, timeout: float = 600.0) -> dict[str, Any]:
    """Run the load generator once against a ready server; its JSON report."""
    command = [sys.executable, "-m", "bench.fanout.loadgen", "--kind", kind, "--port", str(ready["port"])]
    command += ["--server-pid", str(ready["pid"]), *options]
    if "control_port" in ready:
        command += ["--control-port", str(ready["control_port"])]
    if "admin_token" in ready:
        command += [f"--admin-token={ready['admin_token']}"]  # "=": a token may start with "-"
    done = subprocess.run(
        pinned(LOADGEN_CPU) + command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed against {kind}:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# ---------------------------------------------------------------------------------------- figures


def med(values: Sequence[float]) -> float:
    """Median, NaN for nothing."""
    return statistics.median(values) if values else math.nan


def cell(values: Sequence[float], fmt: str = ",.0f") -> str:
    """`median (min-max)`, or just the median for one value."""
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(med(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def pinning() -> str:
    """How the processes were placed, for the docs."""
    if pinned(LOADGEN_CPU):
        return "server pinned to CPU 0 and load generator to CPU 1 (`taskset`)"
    return "no CPU pinning (taskset missing or one core)"


def reproduce(module: str, flags: Sequence[str]) -> str:
    """The command line that measures the same thing: `flags` without those that only write or keep files."""
    kept: list[str] = []
    skip = False
    for flag in flags:
        if skip:
            skip = False
        elif flag in ("--save", "--load"):
            skip = True
        elif flag != "--write-docs" and not flag.startswith(("--save=", "--load=")):
            kept.append(flag)
    return " ".join(["python -m " + module, *kept])
