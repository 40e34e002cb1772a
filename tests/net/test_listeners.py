"""The server speaks first when the URL says everything (protocol version 2): the seed's own listener,
written for a server that greets and broadcasts without being asked, hears a whole game; an agent whose
token is in its URL plays without a `hello`; version-1 clients, which always say `hello`, still work."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets
import websockets.sync.client

from actors.agents import RandomAgent
from engine import preset
from net.hosting import Host, HostedGame
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import HOST, WAIT_S, hello, http_request

CONFIG = preset("aiwolf-5")
SECRET = bytes(range(32))
GAME_WAIT_S = 60.0

# The listener of the seed's design note ("Écouter en continu"), as written there; only its port
# differs (the note's server listened on 8000).
SEED_LISTENER = """
async def listen_forever():
    uri = "ws://localhost:8000/ws/listener?client_type=observer"

    async with websockets.connect(uri) as websocket:
        print("👂 En écoute...")

        try:
            async for message in websocket:
                data = json.loads(message)
                print(f"📨 [{data['message_type']}] {data}")
        except websockets.ConnectionClosed:
            print("❌ Connexion fermée")
"""


@pytest.fixture
def hosted(
    make_server: Callable[[ServerConfig], NetworkServer],
) -> Iterator[tuple[NetworkServer, HostedGame]]:
    """A game of five random agents, opened but not started, with one remote seat."""
    server = make_server(ServerConfig(port=0))
    with Host(SECRET, server=server) as host:
        agents = {p: None if i == 0 else RandomAgent(i) for i, p in enumerate(CONFIG.players)}
        yield server, host.open_game(CONFIG, agents, seed=11)


def _run_seed_listener(port: int) -> str:
    namespace: dict[str, Any] = {"websockets": websockets, "json": json}
    exec(SEED_LISTENER.replace("localhost:8000", f"localhost:{port}"), namespace)  # the note's code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        asyncio.run(asyncio.wait_for(namespace["listen_forever"](), GAME_WAIT_S))
    return out.getvalue()


def _play_seat_without_hello(url: str, frames: list[dict[str, Any]]) -> None:
    """An agent that never says hello: its token is in the URL; it abstains whenever asked."""
    with (
        websockets.sync.client.connect(url, open_timeout=WAIT_S) as ws,
        contextlib.suppress(websockets.ConnectionClosed),
    ):
        for text in ws:
            frame = json.loads(text)
            frames.append(frame)
            if frame["type"] == "request":
                act = {"type": "act", "phase_id": frame["phase_id"], "action": {"kind": "abstain"}}
                ws.send(json.dumps(act))


def test_the_seed_listener_as_written_hears_a_whole_game_and_an_agent_plays_without_hello(hosted):
    server, game = hosted
    ((player, token),) = game.tokens.items()
    agent_frames: list[dict[str, Any]] = []
    agent = threading.Thread(
        target=_play_seat_without_hello,
        args=(game.url(HOST, "no-hello", "agent", token), agent_frames),
        daemon=True,
    )
    agent.start()
    assert game.wait_for_agents(WAIT_S) == []
    printed: list[str] = []
    listener = threading.Thread(target=lambda: printed.append(_run_seed_listener(server.port)), daemon=True)
    listener.start()
    game.start(timeout_s=30.0)
    finished = game.wait(GAME_WAIT_S)
    listener.join(GAME_WAIT_S)
    agent.join(GAME_WAIT_S)
    assert not listener.is_alive()
    assert not agent.is_alive()

    lines = printed[0].splitlines()
    assert lines[0] == "👂 En écoute..."
    assert lines[-1] == "❌ Connexion fermée"  # the server closed after game_over (4000)
    kinds = [line.split("]")[0].removeprefix("📨 [") for line in lines[1:-1]]
    assert kinds[0] == "welcome"
    assert kinds[-1] == "game_over"
    assert set(kinds[1:-1]) == {"event"}
    public = [e for e in finished.record["events"] if e["audience"] == "public"]
    assert len(kinds) - 2 == len(public)  # every public event, nothing else

    assert agent_frames[0]["type"] == "welcome"
    assert (agent_frames[0]["seat"], agent_frames[0]["view"]) == (player, f"player:{player}")
    assert agent_frames[-1]["type"] == "game_over"
    assert finished.outcome is not None
    assert finished.faults[player] == 0  # it answered every request


def test_a_version_1_client_that_says_hello_gets_one_welcome_and_every_event(hosted):
    _, game = hosted
    with websockets.sync.client.connect(game.url(HOST, "old", "ui"), open_timeout=WAIT_S) as ws:
        ws.send(hello(version=1))
        ws.send(json.dumps({"type": "ping", "nonce": "after-hello"}))
        frames = []
        for text in ws:
            frames.append(json.loads(text))
            if frames[-1]["type"] == "pong":
                break
    assert [f["type"] for f in frames] == ["welcome", "pong"]  # no error, no second welcome
    assert frames[0]["resume_from"] == 0


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "9" * 12, "%C2%B9"])
def test_a_resume_point_in_the_url_that_is_not_a_whole_number_is_400(hosted, value):
    server, _ = hosted
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    status, _, body = http_request(
        server.port, f"/ws/bad?client_type=ui&resume_from={value}", headers=upgrade
    )
    assert status == 400
    assert body == {"error": "resume_from must be a whole number >= 0"}


def test_hello_1_in_the_url_makes_the_server_wait_for_the_hello(hosted):
    server, game = hosted
    url = game.url(HOST, "full-hello", "observer") + "&hello=1"
    with websockets.sync.client.connect(url, open_timeout=WAIT_S) as ws:
        ws.send(json.dumps({"type": "ping", "nonce": "before"}))
        assert json.loads(ws.recv(timeout=WAIT_S))["type"] == "pong"  # nothing was sent before it
        ws.send(hello(token=server.lobby.admin_token))
        welcome = json.loads(ws.recv(timeout=WAIT_S))
    assert (welcome["type"], welcome["view"]) == ("welcome", "full")


def test_a_finished_game_is_told_to_a_listener_and_to_a_client_that_says_hello(hosted):
    server, game = hosted
    ((player, _),) = game.tokens.items()
    assert game.wait_for_agents(0.01) == [player]  # nobody came: a built-in agent plays
    game.start(timeout_s=30.0)
    game.wait(GAME_WAIT_S)
    for url, greeting in (
        (game.url(HOST, "late-listener", "observer"), None),
        (game.url(HOST, "late-full", "observer") + "&hello=1", hello(token=server.lobby.admin_token)),
    ):
        with websockets.sync.client.connect(url, open_timeout=WAIT_S) as ws:
            if greeting is not None:
                ws.send(greeting)
            frames = []
            with contextlib.suppress(websockets.ConnectionClosed):
                frames.extend(json.loads(text) for text in ws)
        assert frames[0]["type"] == "welcome"
        assert frames[-1]["type"] == "game_over"
        assert ws.close_code == 4000
    assert frames[0]["view"] == "full"
