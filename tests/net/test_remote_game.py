"""Whole games over loopback: 8 SDK agents in threads play every seat, spectators watch.

Each agent must see exactly its audience's events (public, the wolves' for werewolves, its own), in
order, once, even across a reconnection; spectators see the public events or everything; a spectator
that stops reading is dropped without holding the game back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from actors.agents import RandomAgent
from actors.messages import FULL_VIEW, GameFinished
from engine import Game, GameConfig, preset
from engine.events import PlayerFaulted
from net.client import ServerFrameModel, SpectatorClient
from net.connection import ConnectionConfig
from net.errors import CLOSE_GAME_OVER
from net.game_network import GameNetwork
from net.hosting import Host, HostedGame
from net.protocol import ErrorFrame, EventFrame, GameOver, RequestFrame, Welcome
from net.server import NetworkServer, ServerConfig
from tests.fakes import Collector
from tests.net.netutil import (
    HOST,
    WAIT_S,
    Clients,
    RawWebSocket,
    hello,
    open_clients,
    poll_stats,
    read_to_close,
    receive,
    receive_until,
    stats,
)
from tests.proof.remote_kit import GAME_WAIT_S, SECRET, RemoteAgent, audience_events, host_game

CONFIG = preset("classic-8")


# ---------------------------------------------------------------------------------------- the cast


Hook = Callable[["Seat", RequestFrame], None]


@dataclass
class Seat(RemoteAgent):
    """One agent thread playing one seat with a seeded random policy, speaking at the menu's limit, and
    noting every request whose `seen` count differs from the events it holds."""

    unseen: list[tuple[int, int]] = field(default_factory=list)  # (request.seen, events held) mismatches

    def check(self, request: RequestFrame, events: list[EventFrame]) -> None:
        if request.seen != len(events):
            self.unseen.append((request.seen, len(events)))

    def speech(self, request: RequestFrame) -> str:
        return f"{self.player} here. " * 1000

    def send(self, frame: dict[str, Any]) -> None:
        """Send a raw frame on the current link (from the policy: the agent's own thread)."""
        assert self.client._link is not None
        self.client._link.send(frame)


class Watcher:
    """A spectator reading in a thread until `game_over`."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.client = SpectatorClient(url, token=token, receive_timeout=0.2)
        self.frames: list[ServerFrameModel] = []
        self.welcomed = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for frame in self.client.frames():
            self.frames.append(frame)
            if isinstance(frame, Welcome):
                self.welcomed.set()
            if isinstance(frame, GameOver):
                return

    def close(self) -> None:
        self.client.close()
        self.thread.join(WAIT_S)


@dataclass
class Played:
    finished: GameFinished
    seconds: float
    seats: dict[str, Seat]
    public: Watcher
    full: Watcher


def play(
    server: NetworkServer,
    *,
    game_id: str,
    seed: int,
    config: GameConfig = CONFIG,
    hooks: dict[str, Hook] | None = None,
    before_start: Callable[[GameNetwork], None] = lambda net: None,
) -> Played:
    """Host one game on `server` with 8 SDK agents (the kit's `host_game`) and 2 spectators that join
    once the agents have; stops everything it started."""
    watchers: list[Watcher] = []

    def watch(agents: dict[str, RemoteAgent], game: HostedGame) -> None:
        watchers.append(Watcher(game.url(HOST, "public-watcher", "ui")))
        watchers.append(Watcher(game.url(HOST, "full-watcher", "observer"), token=server.lobby.admin_token))
        for watcher in watchers:
            assert watcher.welcomed.wait(WAIT_S)
        assert game.network is not None
        before_start(game.network)

    def join_watchers() -> None:
        for watcher in watchers:
            watcher.thread.join(WAIT_S)

    try:
        hosted = host_game(
            server,
            config,
            seed=seed,
            remote={p: (hooks or {}).get(p) for p in config.players},
            game_id=game_id,
            before_start=watch,
            after_game=join_watchers,
            agent_type=Seat,
        )
    finally:
        for watcher in watchers:
            watcher.close()
    seats = {p: cast(Seat, agent) for p, agent in hosted.agents.items()}
    return Played(hosted.finished, hosted.seconds, seats, *watchers)


@pytest.fixture
def server(make_server: Callable[[ServerConfig], NetworkServer]) -> NetworkServer:
    return make_server(ServerConfig(port=0, stats_cache_s=0))


# ---------------------------------------------------------------------------------------- expectations


def payloads(frames: list[ServerFrameModel]) -> list[dict[str, Any]]:
    return [f.event.model_dump(mode="json") for f in frames if isinstance(f, EventFrame)]


def seqs(frames: list[ServerFrameModel]) -> list[int]:
    return [f.seq for f in frames if isinstance(f, EventFrame)]


def assert_agent_saw_its_audience(played: Played, seat: Seat) -> None:
    assert seat.error is None, f"{seat.player}: {seat.error!r}"
    assert seat.over is not None
    expected = audience_events(played.finished.record, seat.over.roles, seat.player)
    assert payloads(seat.client.events) == expected, seat.player
    assert seqs(seat.client.events) == list(range(len(expected)))
    # On the wire too: each event exactly once, in order, across every connection.
    assert seqs(seat.client.wire) == list(range(len(expected))), seat.player
    assert seat.unseen == [], f"{seat.player}: request.seen disagreed with the events held"


def assert_watchers_saw_everything(played: Played) -> None:
    record = played.finished.record["events"]
    public = [e for e in record if e["audience"] == "public"]
    for watcher, view, expected in ((played.public, "public", public), (played.full, "full", record)):
        frames = watcher.frames
        assert isinstance(frames[0], Welcome)
        assert (frames[0].view, frames[0].game_id) == (view, played.finished.game_id)
        assert isinstance(frames[-1], GameOver)
        assert all(isinstance(f, EventFrame) for f in frames[1:-1]), view
        assert payloads(frames) == expected, view
        assert seqs(frames) == list(range(len(expected))), view


# ---------------------------------------------------------------------------------------- tests


def test_full_remote_game_with_spectators(server):
    probe: dict[str, Any] = {}
    lock = threading.Lock()

    def first_asked(seat: Seat, request: RequestFrame) -> None:
        with lock:  # the first agent asked anything probes the server, mid-game, once
            if probe:
                return
            probe["player"] = seat.player
        probe["stats"] = stats(server.port, server.lobby.admin_token)
        other = next(p for p in CONFIG.players if p != seat.player)
        abstain = {"kind": "abstain"}
        seat.send({"type": "act", "phase_id": request.phase_id, "action": abstain, "player": other})
        seat.send({"type": "act", "phase_id": request.phase_id - 1, "action": abstain})
        seat.send({"type": "act", "phase_id": request.phase_id + 1, "action": abstain})

    played = play(server, game_id="g-full", seed=4, hooks=dict.fromkeys(CONFIG.players, first_asked))
    finished = played.finished

    assert finished.outcome is not None
    assert finished.outcome.winner is not None
    assert all(n == 0 for n in finished.faults.values()), finished.faults
    overs = [s.over for s in played.seats.values()]
    assert all(over is not None and over.game_id == "g-full" for over in overs)
    assert all(over == overs[0] for over in overs)
    assert overs[0] is not None
    assert overs[0].winner == finished.outcome.winner
    for seat in played.seats.values():
        assert_agent_saw_its_audience(played, seat)
    assert_watchers_saw_everything(played)
    assert played.public.frames[-1] == overs[0]

    # /stats mid-game: 8 agents and 2 spectators.
    during = probe["stats"]
    assert during["total_clients"] == 10
    assert during["by_type"] == {"agent": 8, "ui": 1, "observer": 1}
    assert {c["client_id"] for c in during["clients"]} == {f"agent-{p}" for p in CONFIG.players} | {
        "public-watcher",
        "full-watcher",
    }

    # Impersonation and stale answers were refused (the connection stays); nobody else got an error.
    prober = probe["player"]
    errors = played.seats[prober].client.errors
    assert [e.code for e in errors] == ["not_your_seat", "stale_phase", "stale_phase"]
    assert not any(e.closing for e in errors)
    assert prober in errors[0].message
    for player, seat in played.seats.items():
        if player != prober:
            assert seat.client.errors == []


def test_slow_spectator_is_dropped_without_slowing_the_game(make_server, caplog):
    caplog.set_level(logging.INFO, logger="net.connection")
    # Small outbox; long speeches (about 8 KB each) so a spectator that never reads fills its socket.
    server = make_server(
        ServerConfig(
            port=0, stats_cache_s=0, connection=ConnectionConfig(outbox_bytes=64 * 1024, send_timeout=2.0)
        )
    )
    config = dataclasses.replace(CONFIG, rules=dataclasses.replace(CONFIG.rules, max_speech_chars=8000))
    slow: list[RawWebSocket] = []

    def add_slow(net: GameNetwork) -> None:
        raw = RawWebSocket(server.port, "/ws/slow-watcher?client_type=observer", rcvbuf=4096)
        slow.append(raw)
        raw.send_text(hello(token=server.lobby.admin_token))
        assert raw.receive_frame()["type"] == "welcome"  # then it never reads again

    try:
        played = play(server, game_id="g-slow", seed=7, config=config, before_start=add_slow)
        assert played.seconds < 10  # the phases never waited for the slow one (deadline: 30 s each)
        record_bytes = sum(len(str(e)) for e in played.finished.record["events"])
        assert record_bytes > 200_000  # far more than the slow socket and its outbox can hold
        after = poll_stats(
            server.port, lambda s: "slow-watcher" not in str(s["clients"]), server.lobby.admin_token
        )
        assert "slow-watcher" not in str(after["clients"])
        assert any(
            "slow-watcher" in r.getMessage() and "slow consumer dropped" in r.getMessage()
            for r in caplog.records
        )
    finally:
        for raw in slow:
            raw.close()
    assert_watchers_saw_everything(played)
    for seat in played.seats.values():
        assert_agent_saw_its_audience(played, seat)


def test_agent_reconnects_mid_game_and_loses_nothing(server):
    dropped: dict[str, Any] = {}
    lock = threading.Lock()

    def drop_on_third_request(seat: Seat, request: RequestFrame) -> None:
        if len(seat.requests) != 3:
            return
        with lock:  # the first agent at its third request drops its connection, once
            if dropped:
                return
            dropped.update(player=seat.player, at=len(seat.client.events))
        seat.client.disconnect()  # the answer below fails; the SDK reconnects and resumes

    hooks = dict.fromkeys(CONFIG.players, drop_on_third_request)
    played = play(server, game_id="g-drop", seed=11, hooks=hooks)
    seat = played.seats[dropped["player"]]
    assert 0 < dropped["at"] < len(seat.client.events)  # really mid-game
    welcomes = [f for f in seat.client.wire if isinstance(f, Welcome)]
    assert [w.resume_from for w in welcomes] == [0, dropped["at"]]
    # The open request came again after the catch-up: same phase, same deadline (less time left).
    asked, again = seat.requests[2], seat.requests[3]
    assert again.phase_id == asked.phase_id
    assert again.seconds_left <= asked.seconds_left
    assert_agent_saw_its_audience(played, seat)
    assert [f for f in seat.client.wire if isinstance(f, ErrorFrame)] == []
    assert played.finished.faults[seat.player] == 0  # back in time: no default action played for it
    for other in played.seats.values():
        assert_agent_saw_its_audience(played, other)
    assert_watchers_saw_everything(played)


def test_an_agent_gone_for_longer_than_the_grace_period_forfeits_its_seat(server):
    """The seat is given up (defaults from then on, without waiting for deadlines) and the game ends."""
    config = preset("aiwolf-5")
    seats: dict[str, Any] = {p: RandomAgent(i) for i, p in enumerate(config.players) if p != "Alice"}
    watcher = Collector()
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, {**seats, "Alice": None}, seed=5, game_id="grace", grace_s=0.3)
        gone = RawWebSocket(server.port, "/ws/alice?client_type=agent")
        try:
            gone.send_text(hello(game.tokens["Alice"]))
            assert game.wait_for_agents(WAIT_S) == []
        finally:
            gone.close()  # and never comes back
        # with 60 s deadlines, only the forfeit lets it end in time
        finished = game.play(timeout_s=60, observers=[(watcher, FULL_VIEW)], wait_s=GAME_WAIT_S)
    assert finished.outcome is not None
    faults = [e for e in watcher.events if isinstance(e, PlayerFaulted)]
    assert [f.player for f in faults] == ["Alice"]
    assert faults[0].reason == "agent failed: disconnected for more than 0.3 s"


# ---------------------------------------------------------------------------------------- answers on the wire


def act(ws: Any, request: dict[str, Any], action: dict[str, Any]) -> None:
    ws.send(json.dumps({"type": "act", "phase_id": request["phase_id"], "action": action}))


def until_event(ws: Any, event_type: str, **fields: Any) -> dict[str, Any]:
    """Skip frames until an `event` frame whose event has this type (and these fields); bounded by WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        frame = receive(ws, timeout=max(0.01, deadline - time.monotonic()))
        if frame["type"] != "event":
            continue
        event = frame["event"]
        if event["type"] == event_type and all(event.get(k) == v for k, v in fields.items()):
            return event  # type: ignore[no-any-return]


def _night_answers(alice: Any, bruno: Any) -> None:
    """Night 1 waits for Alice and Bruno only: Bruno answers illegally, legally, twice, then late."""
    night = receive_until(bruno, "request")
    assert night["phase"] == "night"
    act(bruno, night, {"kind": "inspect", "target": "Bruno"})  # illegal: not on the menu
    reason = "inspect target 'Bruno' is not allowed now (allowed: Alice, Chloe, Damien, Elise)"
    assert receive(bruno) == {"type": "rejected", "phase_id": night["phase_id"], "reason": reason}
    assert receive(bruno)["event"]["reason"] == f"illegal answer: {reason}"  # player_faulted
    act(bruno, night, {"kind": "inspect", "target": "Alice"})  # the deadline still stands
    assert receive(bruno)["event"]["type"] == "action_recorded"
    act(bruno, night, {"kind": "inspect", "target": "Alice"})  # again, while Alice has not answered
    assert receive(bruno) == {
        "type": "rejected",
        "phase_id": night["phase_id"],
        "reason": "no answer is expected from you in this phase (already answered?)",
    }
    act(alice, receive_until(alice, "request"), {"kind": "abstain"})  # the night closes
    until_event(bruno, "day_broke")
    act(bruno, night, {"kind": "inspect", "target": "Chloe"})  # late
    assert receive_until(bruno, "rejected")["reason"] == f"phase {night['phase_id']} is over"


def _forfeit(clients: Clients, port: int, token: str, alice: Any, full: Any) -> None:
    """Alice leaves during her speaking turn, is given up after the grace period, and comes back."""
    turn = receive_until(alice, "request")
    assert turn["phase"] == "discussion"
    alice.close()
    forfeit = until_event(full, "player_faulted", player="Alice")
    assert forfeit["reason"] == "agent failed: disconnected for more than 0.3 s"
    # Her token still opens the seat, but the game no longer takes her answers.
    back = clients.connect(port, "alice-again", "agent")
    back.send(hello(token))
    assert receive(back)["type"] == "welcome"
    act(back, turn, {"kind": "speak", "text": "I am back."})
    rejected = receive_until(back, "rejected")
    assert (rejected["phase_id"], rejected["reason"]) == (
        turn["phase_id"],
        "this seat was given up after a disconnection: the game plays its default actions",
    )
    back.close()


def test_answers_that_are_not_applied_get_rejected_and_only_illegal_ones_fault(server):
    """Illegal, duplicate, late and given-up answers each get `rejected`; the game ends with 4000 closes."""
    config = preset("aiwolf-5")
    deal = Game.new(config, seed=1)  # the unkeyed deal of seed 1: Alice is the werewolf, Bruno the seer
    roles = {p: deal.role_of(p) for p in config.players}
    seats: dict[str, Any] = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    seats.update(Alice=None, Bruno=None)
    with Host(SECRET, server=server) as host, open_clients() as clients:
        game = host.open_game(config, seats, seed=1, game_id="answers", grace_s=0.3)
        tokens = game.tokens
        alice = clients.connect(server.port, "alice", "agent")
        alice.send(hello(tokens["Alice"]))
        bruno = clients.connect(server.port, "bruno", "agent")
        bruno.send(hello(tokens["Bruno"]))
        full = clients.connect(server.port, "tv", "observer")
        full.send(hello(server.lobby.admin_token))
        assert [receive(ws)["type"] for ws in (alice, bruno, full)] == ["welcome"] * 3
        running = game.start(timeout_s=60, roles=roles)
        try:
            _night_answers(alice, bruno)
            _forfeit(clients, server.port, tokens["Alice"], alice, full)
            # Bruno plays on (abstaining) to the end: game_over, then the server closes with 4000.
            while (over := receive(bruno))["type"] != "game_over":
                if over["type"] == "request":
                    act(bruno, over, {"kind": "abstain"})
            assert read_to_close(bruno) == ([], CLOSE_GAME_OVER)
            assert over["faults"]["Bruno"] == 1  # the illegal answer only
            assert over["faults"]["Alice"] == 1  # the forfeit, once
            finished = running.wait(GAME_WAIT_S)
        finally:
            running.stop()
        # Reconnecting after the end: the missed events, game_over, a 4000 close.
        again = clients.connect(server.port, "bruno-again", "agent")
        again.send(hello(tokens["Bruno"], resume_from=2))
        frames, code = read_to_close(again)
        expected = audience_events(finished.record, over["roles"], "Bruno")
        assert (frames[0]["type"], frames[0]["resume_from"]) == ("welcome", 2)
        assert [f["seq"] for f in frames[1:-1]] == list(range(2, len(expected)))
        assert [f["event"] for f in frames[1:-1]] == expected[2:]
        assert (frames[-1], code) == (over, CLOSE_GAME_OVER)


def test_no_answer_before_the_deadline_abstains_and_faults(server):
    config = preset("aiwolf-5")
    seats: dict[str, Any] = {p: RandomAgent(i) for i, p in enumerate(config.players) if p != "Bruno"}
    with Host(SECRET, server=server) as host, open_clients() as clients:
        game = host.open_game(config, {**seats, "Bruno": None}, seed=1, game_id="deadline")
        bruno = clients.connect(server.port, "bruno", "agent")
        bruno.send(hello(game.tokens["Bruno"]))
        assert receive(bruno)["type"] == "welcome"
        with game:
            game.start(timeout_s=0.5)
            night = receive_until(bruno, "request")
            assert night["seconds_left"] <= 0.5
            faulted = until_event(bruno, "player_faulted")  # nothing sent: the deadline passes
            assert (faulted["phase_id"], faulted["reason"]) == (
                night["phase_id"],
                "no action before the deadline",
            )
