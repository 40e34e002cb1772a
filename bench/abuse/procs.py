"""The abuse benchmark's child processes, as seen from the bench: the server host and an attacker.

Both speak JSON lines: commands on stdin, reports on stdout (drained at once by a reader thread,
bench/jsonlines.py, so a full pipe never blocks the child); stderr goes to a log file whose tail is
shown if a child fails.
Every wait is bounded; `stop()` ends the child politely, then kills it, and always reaps it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from bench.abuse.attacks import READY_S, Plan
from bench.jsonlines import JsonLines

ROOT = Path(__file__).resolve().parents[2]
START_S = 60.0
ATTACKER_NICE = 10  # below the agents and the probe (see Attacker)
STOP_S = 30.0


class Child:
    """One child process speaking JSON lines."""

    def __init__(self, command: list[str], log_path: Path, *, cpu: int | None = None, nice: int = 0) -> None:
        """Start `python <command>` in the repository root; pin it to `cpu` if given; `nice` lowers its
        scheduling priority."""
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 - no threads involved
        )
        if cpu is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(self.process.pid, {cpu})
        assert self.process.stdout is not None
        self._reports = JsonLines(self.process.stdout, name=f"abuse-{command[1]}")

    def read(self, timeout: float) -> dict[str, Any]:
        """The next report; RuntimeError (with the log's tail) if none comes in time or the child died."""
        try:
            report = self._reports.next(timeout)
        except TimeoutError:
            raise RuntimeError(f"no answer within {timeout:.0f} s\n{self.tail()}") from None
        if report is None:
            raise RuntimeError(f"exited with {self.process.wait(STOP_S)}\n{self.tail()}")
        return report

    def send(self, line: str) -> None:
        """Write one line to the child's stdin (ignored if it is gone)."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()

    def tail(self, chars: int = 3000) -> str:
        """The end of the child's stderr log."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = STOP_S) -> None:
        """Close its stdin, wait for it to exit, kill it if it does not; always reaped."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        self._reports.join(timeout)
        self._log.close()


class HostProcess(Child):
    """`python -m bench.abuse.host`: the server process (see host.py)."""

    def __init__(self, log_dir: Path, *, cpu: int | None, pool_cpu: int | None) -> None:
        """Start it and wait for its announcement (port and pids)."""
        command = ["-m", "bench.abuse.host"]
        command += ["--cpu", str(cpu)] if cpu is not None else []
        command += ["--pool-cpu", str(pool_cpu)] if pool_cpu is not None else []
        super().__init__(command, log_dir / f"host-{os.getpid()}-{id(self)}.log")
        hello = self.read(START_S)
        self.port: int = hello["port"]
        self.pid: int = hello["pid"]
        self.pool_pid: int = hello["pool_pid"]

    def games(self, window_s: float, seed: int, max_games: int) -> list[dict[str, Any]]:
        """Play games back to back for `window_s` (see host.py); their figures."""
        self.send(json.dumps({"cmd": "games", "window_s": window_s, "seed": seed, "max_games": max_games}))
        # Bounded by the host's own waits: the window, then at most one game's join and play.
        games: list[dict[str, Any]] = self.read(window_s + 300.0)["games"]
        return games

    def stop(self, timeout: float = STOP_S) -> None:
        """Quit politely, then as `Child.stop`; the agent pool is killed too if it outlived the host."""
        self.send(json.dumps({"cmd": "quit"}))
        super().stop(timeout)
        # Normally gone already (the host closes it). The pid is checked first: once the pool is gone,
        # its number may belong to someone else.
        with contextlib.suppress(OSError):
            if b"bench.agentpool" in Path(f"/proc/{self.pool_pid}/cmdline").read_bytes():
                os.kill(self.pool_pid, signal.SIGKILL)


class Attacker(Child):
    """`python -m bench.abuse.attacks KIND`: one attack against the server (see attacks.py)."""

    def __init__(
        self, kind: str, port: int, plan: Plan, log_dir: Path, *, source: str, cpu: int | None, max_s: float
    ) -> None:
        """Start the attack (it reports when it is in place: `wait_ready`)."""
        command = ["-m", "bench.abuse.attacks", kind, "--port", str(port), "--source", source]
        command += ["--plan", json.dumps(asdict(plan)), "--max-s", str(max_s)]
        # Niced: on a machine of two cores the attacker shares its core with the agents and the health
        # probe. An attacker on another machine takes none of their CPU; at the same priority, the
        # probe's own wait for CPU was measured as the server's latency (the server's core was 40% idle).
        log = log_dir / f"attack-{kind}-{os.getpid()}-{id(self)}.log"
        super().__init__(command, log, cpu=cpu, nice=ATTACKER_NICE)
        self.result: dict[str, Any] | None = None

    def wait_ready(self) -> dict[str, Any]:
        """Its `ready` report (the attack in place, or its time to get there ran out)."""
        return self.read(READY_S + START_S)

    def finish(self) -> dict[str, Any]:
        """Tell it to stop; its final tally."""
        self.send("stop")
        self.result = self.read(STOP_S)
        return self.result
