"""What the abuse benchmark watches from outside the server: `/healthz` latency, and the server
process's memory, open files and CPU time, read from /proc.

Two sampler threads, each on a ~100 ms beat: one asks `/healthz` (a fresh TCP connection from
127.0.0.1 each time, 1 s timeout), the other reads `/proc/<pid>/status` (VmRSS) and counts
`/proc/<pid>/fd`. Each sample carries the phase the run was in when it was taken (`Sampler.phase`).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"
BEAT_S = 0.1
PROBE_TIMEOUT_S = 1.0  # a probe that takes longer counts as a timeout, and as this long in percentiles
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), KiB; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_files(pid: int) -> int:
    """File descriptors a process holds (sockets included); 0 if it is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def probe(port: int) -> tuple[float, str]:
    """One `GET /healthz`: (milliseconds, "ok" | "timeout" | "error")."""
    start = time.perf_counter()
    outcome = "error"
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT_S) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            reply = b""
            while b"\r\n\r\n" not in reply:
                sock.settimeout(max(0.001, PROBE_TIMEOUT_S - (time.perf_counter() - start)))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
            outcome = "ok" if reply.startswith(b"HTTP/1.1 200") else "error"
    except TimeoutError:
        outcome = "timeout"
    except OSError:
        outcome = "error"
    ms = (time.perf_counter() - start) * 1000
    if ms >= PROBE_TIMEOUT_S * 1000:
        outcome = "timeout"
    return ms, outcome


def stats(port: int, timeout: float = 5.0) -> dict[str, Any] | None:
    """The server's `/stats`, or None if it does not answer in time."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/stats")
        response = conn.getresponse()
        body: dict[str, Any] = json.loads(response.read())
        return body if response.status == 200 else None  # noqa: PLR2004
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


@dataclass
class Sampler:
    """Samples `/healthz` and the server process in two threads until `stop()`."""

    port: int
    pid: int
    phase: str = "start"
    health: list[tuple[str, float, str]] = field(default_factory=list)  # phase, ms, outcome
    proc: list[tuple[str, int, int]] = field(default_factory=list)  # phase, RSS KiB, open files

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._beat, args=(self._health,), name="abuse-healthz", daemon=True),
            threading.Thread(target=self._beat, args=(self._proc,), name="abuse-proc", daemon=True),
        ]

    def start(self) -> None:
        """Start both threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop both threads (each finishes its current sample)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(PROBE_TIMEOUT_S * 3)

    def _beat(self, sample: Any) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            sample()
            due = max(due + BEAT_S, time.monotonic())  # a slow probe delays the next, never bunches them
            self._stop.wait(due - time.monotonic())

    def _health(self) -> None:
        phase = self.phase
        ms, outcome = probe(self.port)
        self.health.append((phase, ms, outcome))

    def _proc(self) -> None:
        self.proc.append((self.phase, rss_kib(self.pid), open_files(self.pid)))

    def health_summary(self, *phases: str) -> dict[str, Any]:
        """p50/p99/max ms, timeouts and errors of the probes taken in these phases (a probe that failed
        or timed out counts as `PROBE_TIMEOUT_S` in the percentiles)."""
        samples = [(ms, outcome) for phase, ms, outcome in list(self.health) if phase in phases]
        values = [ms if outcome == "ok" else max(ms, PROBE_TIMEOUT_S * 1000) for ms, outcome in samples]
        return {
            "probes": len(samples),
            "p50_ms": round(percentile(values, 50), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values, default=math.nan), 2),
            "timeouts": sum(outcome == "timeout" for _, outcome in samples),
            "errors": sum(outcome == "error" for _, outcome in samples),
        }

    def peak(self, *phases: str) -> dict[str, int]:
        """Highest RSS (KiB) and open-file count sampled in these phases."""
        samples = [(rss, fds) for phase, rss, fds in list(self.proc) if phase in phases]
        return {
            "rss_kib": max((rss for rss, _ in samples), default=0),
            "fds": max((fds for _, fds in samples), default=0),
        }
