"""`python -m conformance.echo_server`: our real server (`NetworkServer`) with the echo route on.

Listens on loopback (a free port unless `--port` says otherwise), writes `port N` as its first line on
stdout once it listens, and serves until SIGTERM/SIGINT or `--max-seconds` (a bound, so a forgotten
server never lingers). The limits are the conformance ones, not the game's defaults: Autobahn sends
messages up to 16 MiB, thousands of them back to back.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from net.connection import ConnectionConfig
from net.server import NetworkServer, ServerConfig

MIB = 1024 * 1024

#: Autobahn's largest messages are 16 MiB (cases 9.1.6, 9.2.6); the echo of one must fit in the outbox.
CONFORMANCE_CONNECTION = ConnectionConfig(
    max_message=20 * MIB,
    outbox_bytes=64 * MIB,
    message_timeout=60.0,  # a 16 MiB message goes through wsproto's pure-Python parser
    rate=1e9,  # rate limit off in effect: the fuzzing client sends as fast as it can
    burst=1e9,
)


def conformance_config(host: str = "127.0.0.1", port: int = 0) -> ServerConfig:
    """The server configuration the conformance run uses: echo on, conformance limits."""
    return ServerConfig(
        host=host,
        port=port,
        echo=True,
        connection=CONFORMANCE_CONNECTION,
        max_unfinished_bytes=64 * MIB,  # one 16 MiB message at a time, with room to spare
        tune_gc=False,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until told to stop; 0 on a clean stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop after this long anyway")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = NetworkServer(conformance_config(args.host, args.port))
    port = server.start()
    sys.stdout.write(f"port {port}\n")
    sys.stdout.flush()
    try:
        stop.wait(args.max_seconds)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
