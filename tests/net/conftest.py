"""Fixtures shared by the network tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from net.server import NetworkServer, ServerConfig
from tests.net.netutil import start_server


@pytest.fixture
def make_server() -> Iterator[Callable[[ServerConfig], NetworkServer]]:
    """Start servers with the given configs; every one is stopped when the test ends."""
    started: list[NetworkServer] = []

    def make(config: ServerConfig) -> NetworkServer:
        started.append(start_server(config))
        return started[-1]

    try:
        yield make
    finally:
        for server in started:
            server.stop()
