"""Our server for the network benchmarks: a `NetworkServer` hosting one game with no remote seats.

    python -m bench.fanout.our_server [--port 0] [--control-port 0]

Prints one JSON line `{"ready": true, "port": ..., "control_port": ..., "pid": ...}` once both ports
listen, then serves until SIGTERM or SIGINT.

Broadcast trigger: a plain TCP control port (loopback), read by a thread of its own. Each line
`<seq>` (or `<seq> <size>`) becomes one `Deliver(game_id, PUBLIC_VIEW, first_seq=seq,
events=(Spoke(...),))` told to the public view's hub, exactly as the game master (another thread) tells
it; the spoken text carries the marker `~B<seq>_<time.monotonic_ns()>~` taken just before the `tell`,
padded so that the event frame's JSON is about 200 (or `size`) bytes. Sequence numbers must start at 0
and increase by one (one event per `Deliver`), as the hub expects of a game master.

The server uses the defaults `run.py` uses, except the per-connection rate limit (50 messages a
second, bursts of 200), raised here so that the round-trip test can send thousands of pings in a row.

With `LG_FANOUT_PROFILE=path`, the Trio thread runs under cProfile and its stats go to `path` on exit.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from actors.messages import PUBLIC_VIEW, Deliver
from engine import Phase, PlayerId
from engine.events import PUBLIC, Spoke
from net.connection import ConnectionConfig
from net.game_network import GameNetwork
from net.seats import ViewHub
from net.server import NetworkServer, ServerConfig

GAME_ID = "bench"
TARGET_PAYLOAD = 200  # bytes of JSON per event frame, as in the baseline
# {"type":"event","seq":N,"event":{"type":"spoke","audience":"public","day":1,"player":"P3",...}}
_FIXED = len('{"type":"event","seq":,"event":{"type":"spoke","audience":"public","day":1,"player":"P3",')
_FIXED += len('"phase":"discussion","text":""}}')


def event_text(seq: int, stamp: int, size: int = TARGET_PAYLOAD) -> str:
    """The spoken text: the marker the load generator reads, padded to a frame of ~`size` bytes."""
    mark = f"~B{seq}_{stamp}~ "
    pad = max(0, size - _FIXED - len(str(seq)) - len(mark))
    filler = "I have nothing to add, but I am watching P5 closely today. "
    return mark + (filler * (pad // len(filler) + 1))[:pad]


class ProfiledServer(NetworkServer):
    """A `NetworkServer` whose Trio thread runs under a profiler (bench only)."""

    def __init__(self, config: ServerConfig, profiler: cProfile.Profile) -> None:
        """As `NetworkServer`, plus the profiler to enable in the Trio thread."""
        super().__init__(config)
        self.profiler = profiler

    def _run(self) -> None:
        self.profiler.enable()
        try:
            super()._run()
        finally:
            self.profiler.disable()


def control_loop(listener: socket.socket, hub: ViewHub) -> None:
    """Serve the trigger: one `Deliver` per line, one connection after another (daemon thread)."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:  # closed at shutdown
            return
        with conn:
            pending = b""
            while data := conn.recv(65536):
                *lines, pending = (pending + data).split(b"\n")
                for line in lines:
                    seq, _, size = line.partition(b" ")
                    stamp = time.monotonic_ns()
                    event = Spoke(
                        audience=PUBLIC,
                        day=1,
                        player=PlayerId("P3"),
                        phase=Phase.DISCUSSION,
                        text=event_text(int(seq), stamp, int(size or TARGET_PAYLOAD)),
                    )
                    hub.tell(Deliver(game_id=GAME_ID, view=PUBLIC_VIEW, first_seq=int(seq), events=(event,)))


def main(argv: Sequence[str] | None = None) -> int:
    """Start, announce the ports, serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    args = parser.parse_args(argv)

    profile_path = os.environ.get("LG_FANOUT_PROFILE")
    # Every bench client comes from 127.0.0.1: the per-address caps would stop the load generator.
    config = ServerConfig(
        host="127.0.0.1",
        port=args.port,
        connection=ConnectionConfig(rate=1e9, burst=1e9),
        max_per_address=1_000_000,
        max_handshakes_per_address=1_000_000,
    )
    profiler = cProfile.Profile() if profile_path else None
    server = ProfiledServer(config, profiler) if profiler else NetworkServer(config)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    port = server.start()
    network = GameNetwork(server, GAME_ID, ())
    deadline = time.monotonic() + 10
    while server.lobby.current != GAME_ID and time.monotonic() < deadline:  # registered in the Trio thread
        time.sleep(0.01)
    listener = socket.create_server(("127.0.0.1", args.control_port))
    threading.Thread(
        target=control_loop, args=(listener, network.hubs[PUBLIC_VIEW]), name="control", daemon=True
    ).start()
    ready = {
        "ready": True,
        "port": port,
        "control_port": listener.getsockname()[1],
        "pid": os.getpid(),
        "admin_token": server.lobby.admin_token,  # `/stats` lists the clients only with it
    }
    print(json.dumps(ready), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        listener.close()
        server.stop()
        if profiler is not None and profile_path:
            profiler.dump_stats(profile_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
