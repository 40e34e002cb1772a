"""The load generator's measuring loops: one epoll loop over every client socket, and CPU meters.

Each phase of `bench.fanout.loadgen` (see its docstring for what the modes measure) is one method of
`Loop`; `Meter` reports the wall time and the CPU time of this process (`resource.getrusage`) and of the
server (`/proc/PID/stat`) over a phase. Standard library only.
"""

from __future__ import annotations

import math
import os
import resource
import select
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.fanout.wsclient import Conn, ProtocolError, Target, feed, marker

RECV_SIZE = 1 << 18
# Saturated phase: after a round of reads that found fewer than NAP_BELOW sockets ready, sleep NAP
# seconds, so that frames pile up and this process is not woken once per frame (which would cost it,
# and the server that wakes it, more than reading). Far shorter than the work queued in the server.
NAP_BELOW, NAP = 32, 0.0002


def percentile(values: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of nanosecond values, in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] / 1e6


def own_cpu() -> float:
    """CPU seconds (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) of process `pid` so far, from /proc; NaN if unknown."""
    if pid is None:
        return math.nan
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU time of both processes and wall time over one phase."""

    def __init__(self, server_pid: int | None) -> None:
        """Start measuring now."""
        self.server_pid = server_pid
        self.cpu0, self.server0 = own_cpu(), process_cpu(server_pid)
        self.t0 = time.monotonic_ns()

    def done(self) -> dict[str, float]:
        """Seconds of wall time, of our CPU and of the server's CPU since the start."""
        t1 = time.monotonic_ns()
        return {
            "seconds": (t1 - self.t0) / 1e9,
            "loadgen_cpu_s": own_cpu() - self.cpu0,
            "server_cpu_s": process_cpu(self.server_pid) - self.server0,
        }


class Loop:
    """The one epoll loop over every client socket of a run."""

    def __init__(self, target: Target, conns: Sequence[Conn], timeout: float) -> None:
        """Register `conns` (and the baseline's control socket) for reading."""
        self.target = target
        self.conns = list(conns)
        self.timeout = timeout
        self.ep = select.epoll()
        self.by_fd = {c.fd: c for c in self.conns}
        self.control = target.control
        for c in self.conns:
            self.ep.register(c.fd, select.EPOLLIN)
        if self.control is not None:
            self.control.sock.setblocking(False)
            self.ep.register(self.control.fd, select.EPOLLIN)
        self.errors = 0

    def _drain_control(self) -> None:
        assert self.control is not None
        try:
            data = self.control.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        if not data:
            raise ProtocolError("the control connection closed")
        feed(self.control, data)

    def _recv(self, fd: int) -> tuple[Conn | None, bytes]:
        conn = self.by_fd.get(fd)
        if conn is None:
            self._drain_control()
            return None, b""
        try:
            data = conn.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return None, b""
        if not data:
            raise ProtocolError(f"{conn.name}: the server closed the connection")
        return conn, data

    def _take(self, fd: int) -> tuple[Conn, int, int] | None:
        """Read one ready socket: the connection, how many broadcasts it just got and the sequence number
        it had before (`conn.last` is then the newest); None if no broadcast came with this read. A gap
        or a repeat in the sequence is counted as an error."""
        conn, data = self._recv(fd)
        if conn is None:
            return None
        texts, buf, start, end = feed(conn, data)
        if not texts:
            return None
        before, conn.last = conn.last, marker(buf, start, end)[0]
        if conn.last - before != texts:
            self.errors += 1
        return conn, texts, before

    def idle(self, seconds: float) -> None:
        """Let `seconds` pass, answering pings."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for fd, _ in self.ep.poll(left):
                conn, data = self._recv(fd)
                if conn is not None and feed(conn, data)[0]:
                    self.errors += 1  # nothing was asked for

    def saturated(self, first: int, count: int, window: int, server_pid: int | None) -> dict[str, Any]:
        """`count` broadcasts from sequence number `first`, `window` in flight; see `loadgen`'s docstring."""
        n = len(self.conns)
        for c in self.conns:
            c.last = first - 1
        reached = [0] * count
        completed = 0
        meter = Meter(server_pid)
        deadline = time.monotonic() + self.timeout
        sent = min(window, count)
        self.target.request(range(first, first + sent))
        request, poll, take = self.target.request, self.ep.poll, self._take
        while completed < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"saturated: {completed}/{count} broadcasts complete at the deadline")
            ready = poll(0.5)
            for fd, _ in ready:
                got = take(fd)
                if got is None:
                    continue
                conn, _, before = got
                for i in range(before + 1 - first, conn.last + 1 - first):
                    reached[i] += 1
                    if reached[i] == n:
                        completed += 1
                        if sent < count:
                            request((first + sent,))
                            sent += 1
            if len(ready) < NAP_BELOW:
                time.sleep(NAP)
        result = meter.done()
        result.update(broadcasts=count, in_flight=window, deliveries_per_s=n * count / result["seconds"])
        return result

    def windowed(
        self, first: int, seconds: float, window: int, silent: Conn | None, server_pid: int | None
    ) -> dict[str, Any]:
        """Broadcasts from sequence number `first` for `seconds`, `window` in flight; `silent`, if given,
        is a connection that is not read (it must be unregistered) and that no broadcast waits for.

        Deliveries are counted for the connections read, in total and per second of the window."""
        readers = [c for c in self.conns if c is not silent]
        n = len(readers)
        for c in readers:
            c.last = first - 1
        reached: list[int] = []  # per broadcast asked for, how many readers have it
        per_second = [0] * math.ceil(seconds)
        delivered = completed = 0
        dropped: float | None = None
        meter = Meter(server_pid)
        t0 = time.monotonic()
        end, next_watch = t0 + seconds, t0 + 1.0
        sent = window
        reached.extend([0] * window)
        self.target.request(range(first, first + window))
        request, poll, take = self.target.request, self.ep.poll, self._take
        while (now := time.monotonic()) < end:
            if silent is not None and dropped is None and now >= next_watch:
                # A server that drops a connection which does not read cannot make it see the FIN (that
                # waits behind the unread data), so ask the server's `/stats` who is still connected.
                next_watch = now + 1.0
                if self.target.connected(silent.name) is False:
                    dropped = now - t0
            ready = poll(min(0.05, end - now))
            bucket = min(len(per_second) - 1, int(time.monotonic() - t0))
            for fd, _ in ready:
                got = take(fd)  # the silent connection is not registered: never ready
                if got is None:
                    continue
                conn, texts, before = got
                delivered += texts
                per_second[bucket] += texts
                for i in range(before + 1 - first, conn.last + 1 - first):
                    reached[i] += 1
                    if reached[i] == n:
                        completed += 1
                        request((first + sent,))
                        reached.append(0)
                        sent += 1
            if len(ready) < NAP_BELOW:
                time.sleep(NAP)
        result: dict[str, Any] = dict(meter.done())
        result.update(
            readers=n,
            in_flight=window,
            asked=sent,
            completed=completed,
            deliveries=delivered,
            deliveries_per_s=delivered / result["seconds"],
            per_second=per_second,
            silent_dropped_at_s=dropped,
        )
        return result

    def settle(self, last: int) -> None:
        """Read until every connection has broadcast `last` (the ones still in flight after a phase)."""
        deadline = time.monotonic() + self.timeout
        behind = sum(c.last != last for c in self.conns)
        while behind:
            if time.monotonic() > deadline:
                raise TimeoutError(f"settle: {behind} connections behind broadcast {last} at the deadline")
            for fd, _ in self.ep.poll(0.5):
                got = self._take(fd)
                if got is None:
                    continue
                conn, _, before = got
                if conn.last > last:
                    self.errors += 1
                behind -= before != last and conn.last >= last

    def single(self, first: int, count: int, gap: float, server_pid: int | None) -> dict[str, Any]:
        """`count` broadcasts one at a time, `gap` seconds of idle server between them."""
        n = len(self.conns)
        per_delivery: list[int] = []
        to_all: list[int] = []
        meter = Meter(server_pid)
        deadline = time.monotonic() + self.timeout
        sizes: list[int] = []
        for seq in range(first, first + count):
            self.target.request((seq,))
            got, last_t, stamp = 0, 0, 0
            while got < n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"single: broadcast {seq} reached {got}/{n} at the deadline")
                for fd, _ in self.ep.poll(0.5):
                    conn, data = self._recv(fd)
                    if conn is None:
                        continue
                    t = time.monotonic_ns()
                    texts, buf, start, end = feed(conn, data)
                    if not texts:
                        continue
                    got_seq, stamp = marker(buf, start, end)
                    if texts != 1 or got_seq != seq:
                        self.errors += 1
                    if not sizes:
                        sizes.append(end - start)
                    conn.last = got_seq
                    got += texts
                    per_delivery.append(t - stamp)
                    last_t = max(last_t, t)
            to_all.append(last_t - stamp)
            self.idle(gap)
        result = meter.done()
        result.update(
            broadcasts=count,
            reach_all_p50_ms=percentile(to_all, 50),
            reach_all_p99_ms=percentile(to_all, 99),
            reach_all_max_ms=max(to_all) / 1e6,
            delivery_p50_ms=percentile(per_delivery, 50),
            delivery_p99_ms=percentile(per_delivery, 99),
            payload_bytes=sizes[0] if sizes else 0,
        )
        return result

    def round_trips(self, conns: Sequence[Conn], each: int, server_pid: int | None) -> dict[str, Any]:
        """`each` sequential request/response round trips on every connection of `conns`, all at once."""
        rtts: list[int] = []
        ping: Callable[[Conn, int], bytes] = self.target.ping
        meter = Meter(server_pid)
        deadline = time.monotonic() + self.timeout
        outstanding = 0
        for c in conns:
            c.left = each
            c.t0 = time.monotonic_ns()
            c.send(ping(c, 0))
            outstanding += 1
        while outstanding:
            if time.monotonic() > deadline:
                raise TimeoutError(f"round trips: {outstanding} clients still waiting at the deadline")
            for fd, _ in self.ep.poll(0.5):
                conn, data = self._recv(fd)
                if conn is None:
                    continue
                t = time.monotonic_ns()
                texts = feed(conn, data)[0]
                if not texts:
                    continue
                if texts != 1:
                    self.errors += 1
                rtts.append(t - conn.t0)
                conn.left -= 1
                if conn.left:
                    conn.t0 = time.monotonic_ns()
                    conn.send(ping(conn, conn.left))
                else:
                    outstanding -= 1
        result = meter.done()
        result.update(
            clients=len(conns),
            each=each,
            per_s=len(rtts) / result["seconds"],
            p50_ms=percentile(rtts, 50),
            p99_ms=percentile(rtts, 99),
        )
        return result
