"""The load generator's WebSocket client: just enough of RFC 6455 to be cheap, standard library only.

A hand-written client handshake, masked frames for what it sends, and a minimal parser for what it
receives. Server frames are unmasked and unfragmented, so the parser reads each frame's header and skips
its payload; it never decodes JSON. Every broadcast carries a marker `~B<seq>_<stamp>~` in its text, where
`stamp` is the server's `time.monotonic_ns()` when it decided to broadcast (CLOCK_MONOTONIC is system-wide
on Linux, so it compares across processes). Each connection receives broadcasts in order, so when a read
returns several text frames only the last one's marker is read: the sequence number tells which
broadcasts arrived, and a gap or a duplicate is counted as an error. Server pings are answered (both
servers ping idle connections).

Triggers (`Target`): for our server, lines `<seq>\\n` on a plain TCP control port (`our_server.py` turns
each into a `Deliver` told to the public view's hub, as the game master would); for the baseline, a
control WebSocket (`client_type=agent`) sending `{"message_type": "bench_broadcast", "seq": n}`, which the
seed's message handler turns into one `await manager.broadcast(...)`.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import time
from collections.abc import Iterable, Sequence

CONNECT_BATCH = 100  # handshakes in progress at once
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
