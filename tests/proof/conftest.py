"""Fixtures shared by the proof modules.

- `servers` and `baseline`: the hostile-input proofs' servers (one per configuration in
  `tests.proof.hostile_kit.SERVERS`, started on first use, stopped with the module) and their game without
  any attack.
- `server`: a plain server for the fault proofs, one per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from net.server import NetworkServer, ServerConfig
from tests.net.netutil import start_server
from tests.proof.hostile_kit import SERVERS, Case, Played, play_case


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, NetworkServer]]:
    """The module's servers by `SERVERS` name, each started on first use; all stopped with the module."""
    started: dict[str, NetworkServer] = {}

    class Lazy(dict[str, NetworkServer]):
        def __missing__(self, name: str) -> NetworkServer:
            self[name] = started[name] = start_server(SERVERS[name])
            return started[name]

    try:
        yield Lazy()
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def baseline(servers: dict[str, NetworkServer]) -> Played:
    """A game on the default server with no attack at all (its seat tokens are reused by a case)."""
    return play_case(servers["default"], Case("baseline", lambda m, ctx, frame: [], ()))


@pytest.fixture
def server() -> Iterator[NetworkServer]:
    """A plain server with the default limits, for one test."""
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    try:
        yield server
    finally:
        server.stop()
