"""The load generator of the network benchmarks: one process, one epoll loop, standard library only.

    python -m bench.fanout.loadgen --kind ours --port P --control-port C --spectators 1000
    python -m bench.fanout.loadgen --kind baseline --port P --mode rt

It speaks just enough WebSocket to be cheap: a hand-written client handshake, masked frames for what it
sends, and a minimal parser for what it receives. Server frames are unmasked and unfragmented, so the
parser reads each frame's header and skips its payload; it never decodes JSON. Every broadcast carries a
marker `~B<seq>_<stamp>~` in its text, where `stamp` is the server's `time.monotonic_ns()` when it
decided to broadcast (CLOCK_MONOTONIC is system-wide on Linux, so it compares across processes). Each
connection receives broadcasts in order, so when a read returns several text frames only the last
one's marker is read: the sequence number tells which broadcasts arrived, and a gap or a duplicate is
counted as an error. Server pings are answered (both servers ping idle connections).

Triggers: for our server, lines `<seq>\\n` on a plain TCP control port (`our_server.py` turns each into a
`Deliver` told to the public view's hub, as the game master would); for the baseline, a control
WebSocket (`client_type=agent`) sending `{"message_type": "bench_broadcast", "seq": n}`, which the seed's
message handler turns into one `await manager.broadcast(...)`.

Modes (the result is one JSON object on stdout):
- `fanout`: N spectators connect (our server: `hello` first), then an untimed warm-up, then
  `single`: B broadcasts one at a time on an otherwise idle server (the next is asked for a few ms
  after every spectator got the previous one): time from the server's stamp until the *last*
  spectator has it, and for every delivery; then `saturated`: M broadcasts with K in flight (a new
  one is asked for as soon as one has reached every spectator): deliveries/s = N*M / elapsed.
- `stall`: N spectators connect; a `normal` phase (every spectator reading) and then a `stall` phase,
  during which one spectator in the middle of the connection order stops reading (its socket stays open,
  unread), each for a fixed time with K broadcasts in flight, a new one asked for as soon as one has
  reached every spectator that reads. Both report deliveries/s to the N-1 others, per second too; the
  stall phase also reports when the server dropped the silent connection, if it did (from `/stats`).
- `rt`: request/response round trips: one client, sequentially; then C clients each with one request
  outstanding. Our server: `ping` -> `pong` frames (connection, session, codec); the baseline: the
  seed's `ping` message answered with `send_personal(pong)` through its `ConnectionManager`.

CPU time of this process (`resource.getrusage`) and of the server (`/proc/PID/stat`) is reported per phase.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import resource
import select
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

RECV_SIZE = 1 << 18
CONNECT_BATCH = 100  # handshakes in progress at once
# Saturated phase: after a round of reads that found fewer than NAP_BELOW sockets ready, sleep NAP
# seconds, so that frames pile up and this process is not woken once per frame (which would cost it,
# and the server that wakes it, more than reading). Far shorter than the work queued in the server.
NAP_BELOW, NAP = 32, 0.0002
MARK = b"~B"
OP_CONT, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA
LEN_16, LEN_64 = 126, 127


class ProtocolError(Exception):
    """The server sent something this benchmark does not expect."""


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, unfragmented client frame (RFC 6455 5.3: every client frame is masked)."""
    n = len(payload)
    if n < LEN_16:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | LEN_16)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | LEN_64)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    mask = int.from_bytes(key * (n // 4 + 1), "little") & ((1 << (8 * n)) - 1)
    return head + key + (int.from_bytes(payload, "little") ^ mask).to_bytes(n, "little")


class Conn:
    """One client WebSocket: its socket, unparsed bytes, and the benchmark's per-connection state."""

    __slots__ = ("buf", "closed", "fd", "last", "left", "name", "sock", "t0")

    def __init__(self, sock: socket.socket, name: str) -> None:
        """Wrap a connected socket."""
        self.sock = sock
        self.fd = sock.fileno()
        self.name = name
        self.buf = b""
        self.closed = False
        self.last = -1  # sequence number of the last broadcast received
        self.left = 0  # round trips still to do
        self.t0 = 0  # when the outstanding request was sent

    def send(self, data: bytes) -> None:
        """Send everything (these sends are small: a full buffer only delays)."""
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                select.select([], [self.sock], [], 1.0)


def feed(conn: Conn, data: bytes) -> tuple[int, bytes, int, int]:
    """Parse the complete frames in `conn.buf + data`; answer pings; keep the incomplete tail.

    Returns the number of complete text messages, the bytes parsed, and where the last text
    message's payload starts and ends in them.
    """
    if conn.buf:
        data = conn.buf + data
    n = len(data)
    pos = texts = start = end = 0
    while n - pos >= 2:  # noqa: PLR2004 - the smallest frame header
        length, head = data[pos + 1], 2
        if length >= LEN_16:  # 16- or 64-bit length; server frames are never masked
            if length > LEN_64:
                raise ProtocolError(f"{conn.name}: masked frame from the server")
            head = 4 if length == LEN_16 else 10
            if n - pos < head:
                break
            length = int.from_bytes(data[pos + 2 : pos + head], "big")
        stop = pos + head + length
        if stop > n:
            break
        first = data[pos]
        opcode = first & 0x0F
        if opcode in (OP_TEXT, OP_CONT):
            if first & 0x80:  # FIN: a complete message
                texts += 1
                start, end = pos + head, stop
        elif opcode == OP_PING:
            conn.send(client_frame(OP_PONG, data[pos + head : stop]))
        elif opcode == OP_CLOSE:
            conn.closed = True
        pos = stop
    conn.buf = data[pos:] if pos < n else b""
    return texts, data, start, end


def marker(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The broadcast's sequence number and server stamp (ns) in `data[start:end]`, or (-1, 0)."""
    i = data.find(MARK, start, end)
    if i < 0:
        return -1, 0
    j = data.find(b"~", i + 2, end)
    seq, _, stamp = data[i + 2 : j].partition(b"_")
    return int(seq), int(stamp)


# ---------------------------------------------------------------------------------------- connecting


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError("connection closed during the handshake")
        data += chunk
        if len(data) > 65536:  # noqa: PLR2004
            raise ProtocolError("handshake response too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def open_websockets(
    host: str, port: int, paths: Sequence[str], hello: bytes | None, timeout: float = 30.0
) -> list[Conn]:
    """Connect to every path, CONNECT_BATCH handshakes at a time; each connection is ready when its
    first text message (the welcome) has arrived (after our `hello`, if one is given)."""
    conns: list[Conn] = []
    for i in range(0, len(paths), CONNECT_BATCH):
        group: list[Conn] = []
        for path in paths[i : i + CONNECT_BATCH]:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = base64.b64encode(os.urandom(16))
            sock.sendall(
                b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() + b"\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            group.append(Conn(sock, path))
        for conn in group:
            head, rest = _read_head(conn.sock)
            status = head.split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                raise ProtocolError(f"{conn.name}: handshake refused: {status.decode(errors='replace')}")
            conn.buf = rest
            if hello is not None:
                conn.sock.sendall(client_frame(OP_TEXT, hello))
        for conn in group:
            texts, *_ = feed(conn, b"")
            while not texts:
                chunk = conn.sock.recv(65536)
                if not chunk:
                    raise ProtocolError(f"{conn.name}: closed before its welcome")
                texts, *_ = feed(conn, chunk)
            conn.sock.setblocking(False)
        conns.extend(group)
    return conns


# ---------------------------------------------------------------------------------------- servers


class Target:
    """How to reach one kind of server: its paths, its hello, its broadcast trigger, its ping."""

    def __init__(
        self, kind: str, host: str, port: int, control_port: int | None, admin_token: str | None = None
    ) -> None:
        """`kind` is `ours` or `baseline`; our server needs its control port."""
        self.kind, self.host, self.port, self.control_port = kind, host, port, control_port
        self.admin_token = admin_token
        self.control: Conn | None = None  # the baseline's control WebSocket
        self._control_sock: socket.socket | None = None  # our control line channel
        self.payload: int | None = None  # bytes of JSON per broadcast; None: the servers' ~200

    @property
    def hello(self) -> bytes | None:
        """Our protocol's first frame; the seed's has none."""
        return b'{"type":"hello","protocol_version":1}' if self.kind == "ours" else None

    def spectator_paths(self, n: int, prefix: str = "spec") -> list[str]:
        """URLs of `n` spectators (`client_type=ui`, as in the seed)."""
        return [f"/ws/{prefix}{i}?client_type=ui" for i in range(n)]

    def agent_paths(self, n: int) -> list[str]:
        """URLs of `n` round-trip clients (our server: ui clients, since seats need a token)."""
        kind = "ui" if self.kind == "ours" else "agent"
        return [f"/ws/rt{i}?client_type={kind}" for i in range(n)]

    def open_control(self) -> None:
        """Open the broadcast trigger."""
        if self.kind == "ours":
            assert self.control_port is not None
            sock = socket.create_connection((self.host, self.control_port), timeout=10.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._control_sock = sock
        else:
            paths = ["/ws/bench_control?client_type=agent"]
            self.control = open_websockets(self.host, self.port, paths, None)[0]

    def request(self, seqs: Iterable[int]) -> None:
        """Ask the server for one broadcast per sequence number, in order (of `payload` bytes, if set)."""
        if self._control_sock is not None:
            tail = b"\n" if self.payload is None else b" %d\n" % self.payload
            self._control_sock.sendall(b"".join(b"%d" % s + tail for s in seqs))
        else:
            assert self.control is not None
            tail = b"}" if self.payload is None else b',"size":%d}' % self.payload
            self.control.send(
                b"".join(
                    client_frame(OP_TEXT, b'{"message_type":"bench_broadcast","seq":%d' % s + tail)
                    for s in seqs
                )
            )

    def connected(self, path: str) -> bool | None:
        """Whether the server's `/stats` lists the client of WebSocket `path` (None if it cannot tell)."""
        client_id = path.split("?", 1)[0].rpartition("/")[2]
        try:
            with socket.create_connection((self.host, self.port), timeout=2.0) as sock:
                auth = f"Authorization: Bearer {self.admin_token}\r\n".encode() if self.admin_token else b""
                sock.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError:
            return None
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            return None
        try:
            clients = json.loads(body)["clients"]
        except (ValueError, KeyError):
            return None
        return any(c.get("client_id") == client_id for c in clients)

    def ping(self, conn: Conn, i: int) -> bytes:
        """The request of one round trip."""
        if self.kind == "ours":
            return client_frame(OP_TEXT, b'{"type":"ping","nonce":"%d"}' % i)
        body = b'{"message_type":"ping","client_id":"%s","timestamp":%.6f}' % (
            conn.name.encode(),
            time.time(),
        )
        return client_frame(OP_TEXT, body)

    def close(self) -> None:
        """Close the trigger."""
        if self._control_sock is not None:
            self._control_sock.close()
        if self.control is not None:
            self.control.sock.close()


# ---------------------------------------------------------------------------------------- measuring


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
        """`count` broadcasts from sequence number `first`, `window` in flight; see the module doc."""
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


# ---------------------------------------------------------------------------------------- runs


def raise_fd_limit(needed: int) -> None:
    """Raise the soft limit on open files to what `needed` sockets take (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        top = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


def run_fanout(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Connect the spectators, warm up, then the single-broadcast and the saturated phases."""
    raise_fd_limit(args.spectators)
    cpu0 = own_cpu()
    t0 = time.monotonic()
    conns = open_websockets(target.host, target.port, target.spectator_paths(args.spectators), target.hello)
    connect_s = time.monotonic() - t0
    target.open_control()
    loop = Loop(target, conns, args.timeout)
    warm = max(8, min(200, 20_000 // args.spectators))
    loop.saturated(0, warm, args.in_flight, None)
    loop.idle(0.2)
    single = loop.single(warm, args.single, args.gap_ms / 1000, args.server_pid)
    loop.idle(0.2)
    saturated = loop.saturated(warm + args.single, args.broadcasts, args.in_flight, args.server_pid)
    for c in conns:
        c.sock.close()
    return {
        "spectators": len(conns),
        "connect_s": connect_s,
        "single": single,
        "saturated": saturated,
        "errors": loop.errors,
        "loadgen_cpu_total_s": own_cpu() - cpu0,
    }


def run_stall(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Connect the spectators, warm up, then the `normal` and the `stall` phases (see the module doc).

    The silent spectator is the one in the middle of the connection order: the seed's broadcast walks
    its clients in that order, so half the others are behind it."""
    raise_fd_limit(args.spectators)
    target.payload = args.payload
    conns = open_websockets(target.host, target.port, target.spectator_paths(args.spectators), target.hello)
    target.open_control()
    loop = Loop(target, conns, args.timeout)
    warm = max(8, min(200, 20_000 // args.spectators))
    loop.saturated(0, warm, args.in_flight, None)
    loop.idle(0.2)
    normal = loop.windowed(warm, args.normal_s, args.in_flight, None, args.server_pid)
    first = warm + normal["asked"]
    loop.settle(first - 1)
    silent = None if args.control else conns[len(conns) // 2]
    if silent is not None:
        loop.ep.unregister(silent.fd)
    stall = loop.windowed(first, args.stall_s, args.in_flight, silent, args.server_pid)
    for c in conns:
        c.sock.close()
    return {
        "spectators": len(conns),
        "payload": args.payload,
        "normal": normal,
        "stall": stall,
        "errors": loop.errors,
    }


def run_rt(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Warm up, then sequential round trips on one client, then `--clients` clients at once."""
    raise_fd_limit(args.clients + 1)
    conns = open_websockets(target.host, target.port, target.agent_paths(args.clients + 1), target.hello)
    loop = Loop(target, conns, args.timeout)
    loop.round_trips(conns[:1], min(200, args.sequential), None)
    loop.round_trips(conns[1:], min(20, args.per_client), None)
    sequential = loop.round_trips(conns[:1], args.sequential, args.server_pid)
    concurrent = loop.round_trips(conns[1:], args.per_client, args.server_pid)
    for c in conns:
        c.sock.close()
    return {"sequential": sequential, "concurrent": concurrent, "errors": loop.errors}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one measurement against a running server; print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("ours", "baseline"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, help="our server's broadcast trigger")
    parser.add_argument("--server-pid", type=int, help="to report the server's CPU time")
    parser.add_argument(
        "--admin-token", help="our server's admin token (its /stats lists clients only with it)"
    )
    parser.add_argument("--mode", choices=("fanout", "rt", "stall"), default="fanout")
    parser.add_argument("--spectators", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=500, help="saturated phase")
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--single", type=int, default=200, help="broadcasts one at a time")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="idle time between single broadcasts")
    parser.add_argument("--sequential", type=int, default=2000, help="round trips on one client")
    parser.add_argument("--clients", type=int, default=50, help="concurrent round-trip clients")
    parser.add_argument("--per-client", type=int, default=200)
    parser.add_argument("--payload", type=int, help="stall: bytes of JSON per broadcast")
    parser.add_argument("--normal-s", type=float, default=5.0, help="stall: seconds with everyone reading")
    parser.add_argument("--stall-s", type=float, default=40.0, help="stall: seconds with one silent")
    parser.add_argument("--control", action="store_true", help="stall: nobody goes silent (drift check)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per phase")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only")
    if args.kind == "ours" and args.mode != "rt" and args.control_port is None:
        parser.error("--control-port is required for our server")
    target = Target(args.kind, args.host, args.port, args.control_port, args.admin_token)
    try:
        run = {"fanout": run_fanout, "rt": run_rt, "stall": run_stall}[args.mode]
        report = run(args, target)
    finally:
        target.close()
    report.update(kind=args.kind, mode=args.mode, pid=os.getpid())
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
