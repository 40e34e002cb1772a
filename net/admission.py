"""Who gets a connection: caps on connections and handshakes, room kept for seat holders, the accept loop.

Every TCP connection holds a `Ticket` from accept to close, in one of three states:

- *handshake*: from accept until it is settled: HTTP requests (`/healthz`, `/stats`, errors) for their
  whole life, an agent's WebSocket until its `welcome` (its seat token checked), the TLS handshake too;
- *spectator*: a `ui`/`observer` WebSocket from its upgrade on (its hello phase included);
- *settled*: an agent bound to its seat (one connection per seat: a newer one replaces the older).

Caps (`Limits`): all connections (`max_connections`) and those of one address (`max_per_address`),
handshakes in progress (`max_handshakes`, and `max_handshakes_per_address`), and spectators
(`max_connections - max_handshakes - seat_reserve`). A connection over the first four is refused at
accept: a fixed `503` with a JSON error is written without waiting and the TCP connection closed, so a
flood costs an accept, a write and a close each (with TLS: no answer, the close alone). A spectator
over its cap gets the same `503` after its request head. Spectators can never take the room of the
handshakes and of the `seat_reserve`, so an agent with its seat token still gets in when spectators
fill the rest (unless other handshakes hold every handshake slot: one address can hold at most
`max_handshakes_per_address` of them).

The defaults come from the open-file limit (RLIMIT_NOFILE), whose soft value is raised at start to
the hard one (at most `FD_TARGET`). If `accept()` still runs out of descriptors (EMFILE, ENFILE), the
loop retries every 100 ms, as `trio.serve_listeners` does, but logs one line per `LOG_EVERY_S`
instead of a traceback per retry.

IPv6 addresses count per /64 (one host usually has a whole /64); IPv4 per address.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import logging
import os
import resource
import socket
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import trio

logger = logging.getLogger(__name__)

FD_TARGET = 65536  # the soft open-file limit asked for at start (at most the hard limit)
ACCEPT_RETRY_S = 0.1  # trio.serve_listeners' own pause after EMFILE
ACCEPT_BURST = 256  # connections taken at most per wake-up of the accept loop, beyond the first
LOG_EVERY_S = 10.0  # at most one line per this many seconds for each kind of refusal
_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
HANDSHAKE, SPECTATOR, SETTLED, CLOSED = "handshake", "spectator", "settled", "closed"


def raise_fd_limit(target: int = FD_TARGET) -> int:
    """Raise the soft RLIMIT_NOFILE towards `target` as far as the hard limit allows; the soft limit
    in force after it (an unlimited one counts as `target`)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(hard, target)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as exc:
            logger.info("cannot raise the open-file limit from %d to %d: %s", soft, want, exc)
    return fd_limit(target)


def fd_limit(unlimited: int = FD_TARGET) -> int:
    """The soft open-file limit (`unlimited` if there is none)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return unlimited if soft == resource.RLIM_INFINITY else int(soft)


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps in force (see the module doc); `derive` fills the ones left at 0 from the fd limit."""

    max_connections: int
    max_per_address: int
    max_handshakes: int
    max_handshakes_per_address: int
    seat_reserve: int

    @property
    def max_spectators(self) -> int:
        """Spectators at most: what is left after the handshakes' room and the seats' reserve."""
        return self.max_connections - self.max_handshakes - self.seat_reserve

    @classmethod
    def derive(
        cls,
        fds: int,
        *,
        max_connections: int = 0,
        max_per_address: int = 0,
        max_handshakes: int = 0,
        max_handshakes_per_address: int = 0,
        seat_reserve: int = 0,
    ) -> Limits:
        """Fill every 0 from `fds` (the open-file limit): connections get all but an eighth of it (at
        least 64 descriptors stay for logs, the LLM clients and the rest), one address a quarter of
        the connections, handshakes an eighth (4 to 1024), one address a quarter of those, seats a
        sixteenth (2 to 1024). Raises ValueError if no room is left for spectators."""
        connections = max_connections or max(16, fds - max(64, fds // 8))
        handshakes = max_handshakes or min(1024, max(4, connections // 8))
        limits = cls(
            max_connections=connections,
            max_per_address=max_per_address or max(1, connections // 4),
            max_handshakes=handshakes,
            max_handshakes_per_address=max_handshakes_per_address or max(2, handshakes // 4),
            seat_reserve=seat_reserve or min(1024, max(2, connections // 16)),
        )
        if limits.max_spectators < 1:
            raise ValueError(f"no room for spectators: {limits}")
        return limits


class Ticket:
    """One TCP connection's place in the counts, from accept to close (Trio thread only)."""

    def __init__(self, admission: Admission, address: str) -> None:
        """Counted as a handshake by `Admission.admit`."""
        self.admission = admission
        self.address = address
        self.state = HANDSHAKE

    def to_spectator(self) -> bool:
        """Leave the handshakes for the spectators; False (nothing changes) if they are full."""
        if self.state != HANDSHAKE:
            return self.state == SPECTATOR
        if self.admission.spectators >= self.admission.limits.max_spectators:
            self.admission.refused("spectators")
            return False
        self.admission.end_handshake(self)
        self.admission.spectators += 1
        self.state = SPECTATOR
        return True

    def settle(self) -> None:
        """The handshake is over (an agent got its seat)."""
        if self.state == HANDSHAKE:
            self.admission.end_handshake(self)
            self.state = SETTLED

    def release(self) -> None:
        """The connection is closed: give its place back (idempotent)."""
        if self.state == CLOSED:
            return
        if self.state == HANDSHAKE:
            self.admission.end_handshake(self)
        elif self.state == SPECTATOR:
            self.admission.spectators -= 1
        self.admission.connections -= 1
        self.admission.by_address[self.address] -= 1
        if not self.admission.by_address[self.address]:
            del self.admission.by_address[self.address]
        self.state = CLOSED


class Admission:
    """The counts and the caps (Trio thread only)."""

    def __init__(self, limits: Limits) -> None:
        """Nothing is counted yet."""
        self.limits = limits
        self.connections = 0
        #: The most connections open at once since `net.memory.keep_memory` last reset it.
        self.peak_connections = 0
        #: Times memory was given back to the system after a crowd had gone (net/memory.py).
        self.memory_returns = 0
        self.handshakes = 0
        self.spectators = 0
        self.by_address: Counter[str] = Counter()
        self.handshakes_by_address: Counter[str] = Counter()
        self.accept_failures = 0  # accept() out of descriptors, retried
        self.refusals: Counter[str] = Counter()  # by cap
        self._logged: dict[str, tuple[float, int]] = {}  # kind -> (last line's time, count then)

    def admit(self, address: str) -> Ticket | str:
        """A ticket for a new connection from `address`, or the refusal's message."""
        limits = self.limits
        if self.connections >= limits.max_connections:
            return self.refused("connections")
        if self.by_address[address] >= limits.max_per_address:
            return self.refused("address")
        if self.handshakes >= limits.max_handshakes:
            return self.refused("handshakes")
        if self.handshakes_by_address[address] >= limits.max_handshakes_per_address:
            return self.refused("address handshakes")
        self.connections += 1
        self.peak_connections = max(self.peak_connections, self.connections)
        self.by_address[address] += 1
        self.handshakes += 1
        self.handshakes_by_address[address] += 1
        return Ticket(self, address)

    def end_handshake(self, ticket: Ticket) -> None:
        """`ticket` leaves the handshakes (Ticket's use)."""
        self.handshakes -= 1
        self.handshakes_by_address[ticket.address] -= 1
        if not self.handshakes_by_address[ticket.address]:
            del self.handshakes_by_address[ticket.address]

    def refused(self, cap: str) -> str:
        """Count a refusal by `cap`, log it (rate-limited), and return the client's message."""
        self.refusals[cap] += 1
        self._log(cap, "connection refused: %s cap reached (%s)", cap, self.limits)
        return REFUSALS[cap]

    def out_of_descriptors(self, exc: OSError) -> None:
        """accept() failed for lack of descriptors: count it, log it (rate-limited)."""
        self.accept_failures += 1
        self._log(
            "fds",
            "accept() failed: %s (open-file limit %d, %d connections open): retrying every %.1f s",
            exc.strerror,
            fd_limit(),
            self.connections,
            ACCEPT_RETRY_S,
        )

    def _log(self, kind: str, message: str, *args: object) -> None:
        now = trio.current_time()
        count = self.accept_failures if kind == "fds" else self.refusals[kind]
        last = self._logged.get(kind)
        if last is not None and now - last[0] < LOG_EVERY_S:
            return
        since = f" ({count - last[1]} times since the last line)" if last is not None else ""
        logger.warning(message + since, *args)
        self._logged[kind] = (now, count)


REFUSALS = {
    "connections": "server full: too many connections; try again later",
    "address": "too many connections from your address; close some and try again",
    "handshakes": "server busy: too many handshakes in progress; try again later",
    "address handshakes": "too many handshakes in progress from your address; try again later",
    "spectators": "server full: no room for more spectators; try again later",
}


def refusal_response(message: str, status: int = 503, retry_after: int = 5) -> bytes:
    """A complete HTTP response with the JSON error `message` (connection closed after it)."""
    body = (json.dumps({"error": message}) + "\n").encode()
    reason = {503: "Service Unavailable", 429: "Too Many Requests"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"retry-after: {retry_after}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


_CANNED = {message: refusal_response(message) for message in REFUSALS.values()}


def peer_address(stream: trio.SocketStream) -> str | None:
    """The address a connection counts under: the IPv4 address, or the IPv6 /64 (None if gone)."""
    try:
        host = stream.socket.getpeername()[0]
    except OSError:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # not an IP (a Unix socket): one bucket
        return str(host)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def refuse_now(stream: trio.SocketStream, message: str | None) -> None:
    """Answer `message` (canned 503) without waiting, and close (None: just close, as for TLS, where
    a plain answer would be garbage). What already arrived is read first, so the close is a FIN after
    the answer rather than a reset that could destroy it."""
    if message is None:
        stream.socket.close()
        return
    fd = stream.socket.fileno()
    with contextlib.suppress(OSError):  # nothing to read yet (EAGAIN), or the peer is gone
        os.read(fd, 65536)
    with contextlib.suppress(OSError):  # the peer is gone: the close is the answer
        os.write(fd, _CANNED[message])
    stream.socket.close()


Handler = Callable[[trio.SocketStream, Ticket], Awaitable[None]]


async def serve(
    listeners: Sequence[trio.SocketListener],
    handler: Handler,
    admission: Admission,
    nursery: trio.Nursery,
    *,
    plain: bool = True,
) -> None:
    """Accept on every listener forever; each admitted connection runs `handler` in `nursery`. With
    `plain` False (TLS), refused connections are closed without the canned 503."""
    async with trio.open_nursery() as accepters:
        for listener in listeners:
            accepters.start_soon(_accept_loop, listener, handler, admission, nursery, plain)


async def _accept_loop(
    listener: trio.SocketListener, handler: Handler, admission: Admission, nursery: trio.Nursery, plain: bool
) -> None:
    # Trio's accept takes one connection per scheduling round, and a round lasts as long as every ready
    # task's step: with a crowd of busy connections, one newcomer (a health probe, an agent) waited
    # behind every connection queued before it, a round each. So each wake-up also takes, without
    # waiting, what else is queued (up to ACCEPT_BURST), from a duplicate of the listening socket.
    queued = socket.socket(fileno=os.dup(listener.socket.fileno()))
    queued.setblocking(False)
    try:
        while True:
            try:
                first = await listener.accept()
            except OSError as exc:
                if exc.errno not in _CAPACITY_ERRNOS:
                    raise
                admission.out_of_descriptors(exc)
                await trio.sleep(ACCEPT_RETRY_S)
                continue
            _take(first, handler, admission, nursery, plain)
            del first
            for _ in range(ACCEPT_BURST):
                try:
                    sock, _ = queued.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    if exc.errno not in _CAPACITY_ERRNOS:
                        raise
                    break  # the awaited accept above meets it again and backs off
                _take(
                    trio.SocketStream(trio.socket.from_stdlib_socket(sock)),
                    handler,
                    admission,
                    nursery,
                    plain,
                )
    finally:
        queued.close()


def _take(
    stream: trio.SocketStream, handler: Handler, admission: Admission, nursery: trio.Nursery, plain: bool
) -> None:
    address = peer_address(stream)
    if address is None:  # reset before we looked
        stream.socket.close()
        return
    ticket = admission.admit(address)
    if isinstance(ticket, str):
        refuse_now(stream, ticket if plain else None)
        return
    nursery.start_soon(handler, stream, ticket)


class BadTokens:
    """Bad tokens per address: after `limit` within `window` seconds, the address's WebSocket handshakes
    are refused for `block` seconds (Trio thread only; at most `MAX_TRACKED` addresses are remembered)."""

    MAX_TRACKED = 10_000

    def __init__(self, limit: int = 10, window: float = 60.0, block: float = 60.0) -> None:
        """No address is blocked yet."""
        self.limit, self.window, self.block = limit, window, block
        self._strikes: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}  # address -> end of its block

    def strike(self, address: str | None) -> None:
        """Count a bad token from `address` (None: not from a socket, nothing to count)."""
        if address is None or self.limit <= 0:
            return
        now = trio.current_time()
        strikes = self._strikes.pop(address, None) or deque(maxlen=self.limit)
        strikes.append(now)
        self._strikes[address] = strikes  # most recent last: the oldest are forgotten first
        if len(strikes) >= self.limit and now - strikes[0] <= self.window:
            self._blocked[address] = now + self.block
            del self._strikes[address]
            logger.warning(
                "%s: %d bad tokens in %.0f s: blocked for %.0f s",
                address,
                self.limit,
                self.window,
                self.block,
            )
        for table in (self._strikes, self._blocked):
            while len(table) > self.MAX_TRACKED:
                del table[next(iter(table))]

    def blocked_for(self, address: str | None) -> float:
        """Seconds left of `address`'s block (0: not blocked)."""
        end = self._blocked.get(address) if address is not None else None
        if end is None:
            return 0.0
        left = end - trio.current_time()
        if left <= 0:
            del self._blocked[address]  # type: ignore[arg-type]
            return 0.0
        return left
