"""The load generator of the network benchmarks: one process, one epoll loop, standard library only.

    python -m bench.fanout.loadgen --kind ours --port P --control-port C --spectators 1000
    python -m bench.fanout.loadgen --kind baseline --port P --mode rt

The pieces: `wsclient.py` speaks just enough WebSocket (a hand-written handshake, masked frames out, a
minimal parser in, and the broadcast markers `~B<seq>_<stamp>~` that tell which broadcast arrived when)
and asks each kind of server for broadcasts (`Target`); `phases.py` holds the epoll loop that runs each
phase below and the CPU meters; this module holds the runs and the command line.

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
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.fanout.phases import Loop, own_cpu
from bench.fanout.wsclient import Target, open_websockets


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
