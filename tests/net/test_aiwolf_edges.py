"""AIWolf seats at the edges: hostile input on `/ws` meets the same limits as our own connections, a bad
or missing answer is a fault with the seat's default, a reconnection takes the seat back, and AIWolf
agents, our protocol's agents and built-in agents play at one table."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import simple_websocket
from aiwolf_nlp_common.packet import Packet, Request
from wsproto.events import BytesMessage, CloseConnection, TextMessage

from actors.agents import RandomAgent
from engine import PlayerId, preset
from net.hosting import Host, HostedGame
from net.server import NetworkServer, ServerConfig
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.aiwolf_agent import AIWolfAgent, sample_policy
from tests.net.netutil import HOST, WAIT_S, RawWebSocket, hello, stats
from tests.net.netutil import read_to_close as read_ws_to_close

SECRET = bytes(range(32))
CONFIG = preset("aiwolf-5")
GAME_WAIT_S = 60.0
FAST = ServerConfig(port=0, hello_timeout=2.0, handshake_timeout=2.0, stats_cache_s=0)


@contextmanager
def hosted(
    server: NetworkServer, seats: dict[PlayerId, object], aiwolf: list[PlayerId]
) -> Iterator[HostedGame]:
    with Host(SECRET, server=server) as host:
        yield host.open_game(CONFIG, seats, seed=5, aiwolf=aiwolf)  # type: ignore[arg-type]


class Raw(RawWebSocket):
    """A hand-driven `/ws` client (wsproto on a plain socket: it sees a frame sent right after the 101)."""

    def send(self, data: str | bytes) -> None:
        message = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.ws.send(message))


def connect(game: HostedGame, query: str = "") -> Raw:
    assert game.network is not None
    return Raw(game.network.server.port, f"/ws{query}")


def receive(ws: Raw) -> dict[str, Any]:
    return ws.receive_frame()


def read_to_close(ws: Raw) -> tuple[list[dict[str, Any]], int]:
    """Every text frame until the server's close frame, and its code; bounded by the socket timeout."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            while ws.pending:
                event = ws.pending.pop(0)
                if isinstance(event, TextMessage):
                    frames.append(json.loads(event.data))
                elif isinstance(event, CloseConnection):
                    return frames, event.code
            data = ws.sock.recv(65536)
            assert data, f"EOF without a close frame after {frames}"
            ws.ws.receive_data(data)
            ws.pending.extend(ws.ws.events())
    finally:
        ws.close()


def test_the_server_asks_the_name_first_and_a_query_token_takes_the_seat(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    server = make_server(FAST)
    with hosted(server, dict.fromkeys(CONFIG.players), list(CONFIG.players)) as game:
        player, token = next(iter(game.aiwolf_tokens.items()))
        ws = connect(game, f"?token={token}")
        try:
            assert receive(ws) == {"request": "NAME"}
            ws.send("kanolab1\n")
            assert game.network is not None
            assert game.network.seats[player].connected.wait(WAIT_S)
            assert {"client_id": "kanolab1", "type": "agent"} in stats(server.port, server.lobby.admin_token)[
                "clients"
            ]
        finally:
            ws.close()


def test_hostile_input_on_ws_meets_the_same_limits(make_server: Callable[[ServerConfig], NetworkServer]):
    server = make_server(FAST)
    remote = CONFIG.players[0]
    seats = {p: None if i < 2 else RandomAgent(i) for i, p in enumerate(CONFIG.players)}
    with hosted(server, seats, [CONFIG.players[1]]) as game:
        ours, theirs = game.tokens[remote], game.aiwolf_tokens[CONFIG.players[1]]
        cases: list[tuple[str, Callable[[Raw], None], int]] = [
            ("a huge name", lambda ws: ws.send("x" * 10_000), 1009),
            ("a binary name", lambda ws: ws.send(b"\x00\x01"), 1003),
            ("a silent agent", lambda ws: None, 1008),
        ]
        for what, act, code in cases:
            ws = connect(game, f"?token={theirs}")
            assert receive(ws) == {"request": "NAME"}, what
            act(ws)
            frames, closed = read_to_close(ws)
            assert (frames, closed) == ([], code), what
        for query, code in [("?token=bad%20token", 4003), ("?token=UnknownTokenAbc", 4003), ("", 4003)]:
            ws = connect(game, query)
            assert receive(ws) == {"request": "NAME"}
            ws.send("mallory")
            assert read_to_close(ws) == ([], code), query
        # A seat of our protocol is not an AIWolf seat, and the other way round.
        ws = connect(game, f"?token={ours}")
        receive(ws)
        ws.send("mallory")
        assert read_to_close(ws) == ([], 1008)
        sdk = simple_websocket.Client.connect(game.url(HOST, "sdk", "agent"))
        sdk.send(hello(theirs))
        frames, closed = read_ws_to_close(sdk)
        assert closed == 1008
        # Garbage after the name, once seated: binary closes; the seat stays for a reconnection.
        ws = connect(game, f"?token={theirs}")
        receive(ws)
        ws.send("agent")
        ws.send(b"\xff" * 100)
        assert read_to_close(ws) == ([], 1003)
        assert game.network is not None
        assert not game.network.seats[CONFIG.players[1]]._given_up
        # Garbage text when nothing was asked is dropped; a reply over the message limit closes (1009).
        ws = connect(game, f"?token={theirs}")
        receive(ws)
        ws.send("agent")
        ws.send("\x00garbage{{{")
        ws.send("y" * 200_000)
        assert read_to_close(ws) == ([], 1009)
        assert not game.network.seats[CONFIG.players[1]]._given_up


def garbage(agent: AIWolfAgent, packet: Packet) -> str | None:
    if packet.request in (Request.VOTE, Request.DIVINE, Request.ATTACK, Request.GUARD):
        return "Agent[99] \x00 is the wolf"
    return sample_policy(agent, packet)


def silent(agent: AIWolfAgent, packet: Packet) -> str | None:
    return None


def play(
    server: NetworkServer, policies: list[Callable[[AIWolfAgent, Packet], str | None]], timeout_s: float
):
    with Host(SECRET, server=server) as host:
        game = host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=5, aiwolf=CONFIG.players)
        agents = [
            AIWolfAgent(
                game.aiwolf_url(HOST), token, f"a{i}", rng=random.Random(i), policy=policies[i]
            ).start()
            for i, token in enumerate(game.aiwolf_tokens.values())
        ]
        assert game.wait_for_agents(WAIT_S) == []
        game.start(timeout_s=timeout_s)
        finished = game.wait(GAME_WAIT_S)
    for agent in agents:
        agent.join(WAIT_S)
        assert agent.error is None
    return finished, agents


def test_an_answer_naming_no_agent_is_a_fault_and_the_game_goes_on(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    finished, agents = play(make_server(FAST), [garbage] + [sample_policy] * 4, timeout_s=10.0)
    assert finished.outcome is not None
    first = CONFIG.players[0]
    targeted = sum(1 for request, _ in agents[0].replies if request is not Request.TALK)
    assert targeted > 0
    assert finished.faults == {p: targeted if p == first else 0 for p in CONFIG.players}


def test_a_silent_agent_gets_its_default_at_each_deadline(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    finished, agents = play(make_server(FAST), [silent] + [sample_policy] * 4, timeout_s=0.3)
    assert finished.outcome is not None
    first = CONFIG.players[0]
    assert finished.faults[first] > 0
    assert all(n == 0 for p, n in finished.faults.items() if p != first)
    assert agents[0].requests[-1] is Request.FINISH


def test_a_reconnection_takes_the_seat_back_with_initialize(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    server = make_server(FAST)
    with Host(SECRET, server=server) as host:
        game = host.open_game(CONFIG, dict.fromkeys(CONFIG.players), seed=5, aiwolf=CONFIG.players)
        tokens = list(game.aiwolf_tokens.values())
        url = game.aiwolf_url(HOST)
        quitter_done: list[AIWolfAgent] = []

        def quit_at_first_talk(agent: AIWolfAgent, packet: Packet) -> str | None:
            if packet.request is Request.TALK and agent.client is not None:
                quitter_done.append(agent)
                agent.client.close()  # leaves without answering
                return None
            return sample_policy(agent, packet)

        first = AIWolfAgent(url, tokens[0], "quitter", policy=quit_at_first_talk).start()
        others = [
            AIWolfAgent(url, t, f"a{i}", rng=random.Random(i)).start() for i, t in enumerate(tokens[1:])
        ]
        assert game.wait_for_agents(WAIT_S) == []
        game.start(timeout_s=10.0)
        first.join(WAIT_S)
        assert quitter_done
        back = AIWolfAgent(url, tokens[0], "quitter", rng=random.Random(9)).start()
        finished = game.wait(GAME_WAIT_S)
    for agent in [back, *others]:
        agent.join(WAIT_S)
        assert agent.error is None
    assert finished.outcome is not None
    assert back.requests[:2] == [Request.NAME, Request.INITIALIZE]
    assert back.requests[2] is Request.TALK  # the open request, asked again
    assert back.requests[-1] is Request.FINISH
    assert sum(finished.faults.values()) == 0


def test_aiwolf_agents_our_agents_and_built_in_agents_at_one_table(
    make_server: Callable[[ServerConfig], NetworkServer],
):
    config = preset("aiwolf-13")
    players = config.players
    aiwolf, ours = list(players[:5]), list(players[5:9])
    seats = {p: None if p in aiwolf or p in ours else RandomAgent(i) for i, p in enumerate(players)}
    with Host(SECRET, server=make_server(FAST)) as host:
        game = host.open_game(config, seats, seed=11, aiwolf=aiwolf)  # type: ignore[arg-type]
        wolves = [
            AIWolfAgent(game.aiwolf_url(HOST), token, f"aiwolf{i}", rng=random.Random(i)).start()
            for i, token in enumerate(game.aiwolf_tokens.values())
        ]
        sdk = [
            AgentThread(
                p,
                RecordingAgent(game.url(HOST, p, "agent"), token=game.tokens[p], receive_timeout=0.2),
                rng=random.Random(20 + i),
            ).start()
            for i, p in enumerate(ours)
        ]
        assert game.wait_for_agents(WAIT_S) == []
        game.start(timeout_s=10.0)
        finished = game.wait(GAME_WAIT_S)
    for agent in wolves:
        agent.join(WAIT_S)
        assert agent.error is None
        assert agent.requests[-1] is Request.FINISH
    for thread in sdk:
        assert thread.thread is not None
        thread.thread.join(WAIT_S)
        assert thread.error is None
        assert thread.over is not None
    assert finished.outcome is not None
    assert sum(finished.faults.values()) == 0
