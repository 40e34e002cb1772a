"""Memory per idle spectator: what the server allocates for each open WebSocket it holds.

    python -m bench.conn_memory [--spectators 500] [--repeats 3]

This process runs one `NetworkServer` (the defaults `run.py` uses) hosting one classic-8 game that
never starts; a child process (the same module with `--client`) opens N spectators from the URL
(`/ws/spec-i?client_type=ui`: welcomed at once, attached to the game's public view, no hello), reads
each one's handshake answer and welcome, and holds them all open. The server's allocations are traced
with `tracemalloc` (everything in this process is the server's: the clients live in the child), before
the spectators come and once every welcome has arrived. Reported: traced bytes per spectator while
they are open. (Not RSS: tracemalloc's own bookkeeping is in it, and the allocator reuses pages the
server had already touched.)
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc

from bench.abuse.attacks import raise_open_files
from bench.abuse.wire import upgrade_request
from engine import preset
from net.game_network import GameNetwork
from net.memory import use_system_allocator
from net.server import NetworkServer, ServerConfig

WELCOME = b'"welcome"'  # in the welcome frame's type; not in the HTTP answer
READ_TIMEOUT_S = 10.0


def hold(port: int, count: int) -> None:
    """The child: open `count` spectators, say `ready`, hold them until stdin closes."""
    raise_open_files()
    held: list[socket.socket] = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_S)
        sock.sendall(upgrade_request(port, f"/ws/spec-{i}?client_type=ui"))
        seen = b""
        while WELCOME not in seen:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit(f"spectator {i}: closed before its welcome: {seen[:200]!r}")
            seen += chunk
        held.append(sock)
    print("ready", flush=True)
    sys.stdin.read()
    for sock in held:
        sock.close()


def measure(count: int) -> float:
    """One server, one crowd of `count` spectators: bytes the server allocated per spectator."""
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    try:
        GameNetwork(server, "g1", preset("classic-8").players)
        gc.collect()
        tracemalloc.start()
        traced0 = tracemalloc.get_traced_memory()[0]
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.conn_memory",
                "--client",
                str(server.port),
                "--spectators",
                str(count),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdin is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the clients did not get their welcomes: {line!r}")
        gc.collect()
        traced1 = tracemalloc.get_traced_memory()[0]
        child.stdin.close()
        child.wait(timeout=60)
        tracemalloc.stop()
        return (traced1 - traced0) / count
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    use_system_allocator()  # as run.py does (net/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectators", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.spectators < 1 or args.repeats < 1:
        parser.error("--spectators and --repeats must be at least 1")
    if args.client is not None:
        hold(args.client, args.spectators)
        return 0
    raise_open_files()
    runs: list[float] = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        runs.append(measure(args.spectators))
        took = time.perf_counter() - started
        print(f"repeat {repeat + 1}: {runs[-1]:,.0f} bytes per spectator ({took:.1f} s)", flush=True)
    per = statistics.median(runs)
    print(json.dumps({"spectators": args.spectators, "repeats": args.repeats, "bytes_per_spectator": per}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
