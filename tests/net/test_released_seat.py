"""A remote seat the host gives to a built-in agent before the game starts (nobody took it in time).

The host waits for the agents, then releases the seats still empty. An agent can say hello in between
(the wait timed out while it was connecting): it must not stay welcomed and then hear nothing forever.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from net.errors import CLOSE_SEAT_RELEASED
from net.game_network import GameNetwork
from net.protocol import ErrorCode
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import hello, open_clients, read_to_close, receive


@pytest.fixture
def server(make_server: Callable[[ServerConfig], NetworkServer]) -> NetworkServer:
    return make_server(ServerConfig(port=0, stats_cache_s=0))


def assert_released(frames: list[dict[str, object]], code: int) -> None:
    [error] = frames
    assert (error["type"], error["code"], error["closing"]) == ("error", ErrorCode.SEAT_RELEASED, True)
    assert "built-in agent" in str(error["message"])
    assert code == CLOSE_SEAT_RELEASED


def test_an_agent_welcomed_after_the_wait_is_closed_when_its_seat_is_released(server):
    net = GameNetwork(server, "late", ["Alice"])
    token = net.seats["Alice"].token
    assert net.wait_for_agents(0) == ["Alice"]  # the wait is over: the host will release Alice's seat
    with open_clients() as clients:
        alice = clients.connect(server.port, "alice", "agent")
        alice.send(hello(token))
        assert receive(alice)["type"] == "welcome"  # attached before the release reached the server
        net.release(["Alice"])
        frames, code = read_to_close(alice)
    assert_released(frames, code)


def test_an_agent_arriving_after_the_release_is_told_why_and_closed(server):
    net = GameNetwork(server, "later", ["Alice"])
    token = net.seats["Alice"].token
    net.release(["Alice"])
    with open_clients() as clients:
        alice = clients.connect(server.port, "alice", "agent")
        alice.send(hello(token))
        frames, code = read_to_close(alice)
    assert_released(frames, code)


def test_releasing_one_seat_leaves_the_others_playable(server):
    net = GameNetwork(server, "two", ["Alice", "Bruno"])
    bruno_token = net.seats["Bruno"].token
    net.release(["Alice"])
    with open_clients() as clients:
        bruno = clients.connect(server.port, "bruno", "agent")
        bruno.send(hello(bruno_token))
        welcome = receive(bruno)
    assert (welcome["type"], welcome["seat"]) == ("welcome", "Bruno")
