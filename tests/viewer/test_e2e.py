"""End to end: real games hosted on loopback, the viewer's network client attached headless.

The viewer's client thread fills its queue; the test drains it with bounded waits and folds what it
gets into the model, exactly as the pygame loop does, then compares the model with the game's record.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest

from actors.agents import RandomAgent
from actors.runner import start_game
from engine import Action, Choice, Observation, preset
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import HOST, start_server
from viewer import widgets
from viewer.client import ViewerClient
from viewer.model import LineKind, Link, ViewerModel, apply, fold
from viewer.render import UiState, draw
from viewer.replay import load_replay

CONFIG = preset("classic-8")
WAIT_S = 30.0  # seconds: the longest a whole game may take on a loaded 2-core machine


@pytest.fixture
def server() -> Iterator[NetworkServer]:
    started = start_server(ServerConfig(port=0))
    try:
        yield started
    finally:
        started.stop()


def final_roles(record: dict[str, Any]) -> dict[str, str]:
    ended = next(e for e in record["events"] if e["type"] == "game_ended")
    return {str(p): str(r) for p, r in ended["roles"]}


class Pump:
    """Drains a viewer client's queue into a model, like the app's frame loop (but with bounded waits)."""

    def __init__(self, client: ViewerClient) -> None:
        self.client = client
        self.model = ViewerModel()
        self.links: list[Link] = []

    def until(self, done: Callable[[ViewerModel], bool], timeout: float = WAIT_S) -> ViewerModel:
        deadline = time.monotonic() + timeout
        while not done(self.model):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out; links seen: {self.links}; model at seq {self.model.next_seq}"
            try:
                received = self.client.out.get(timeout=remaining)
            except queue.Empty:
                continue
            self.model = apply(self.model, received.item, received.at)
            if not self.links or self.links[-1] is not self.model.link:
                self.links.append(self.model.link)
        return self.model


class GatedAgent(RandomAgent):
    """A random agent whose first decision waits until the test opens the gate."""

    def __init__(self, seed: int, gate: threading.Event) -> None:
        super().__init__(seed)
        self.gate = gate

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self.gate.wait(WAIT_S)
        return super().decide(observation, choices)


def test_viewer_receives_the_whole_public_stream_of_a_hosted_game(server, tmp_path):
    net = GameNetwork(server, "g-viewer", remote_players=[])
    client = ViewerClient(net.url(HOST, "viewer-e2e", "ui"))
    client.start()
    running = None
    try:
        pump = Pump(client)
        pump.until(lambda m: m.view is not None)  # welcomed before the game starts: watching it live
        seats = {p: RandomAgent(i) for i, p in enumerate(CONFIG.players)}
        running = start_game(CONFIG, seats, seed=5, observers=net.observers, game_id="g-viewer")
        finished = running.wait(WAIT_S)
        model = pump.until(lambda m: m.link is Link.ENDED)
    finally:
        if running is not None:
            running.stop()
        client.stop()
    assert not client.running
    public = [e for e in finished.record["events"] if e["audience"] == "public"]
    assert model.view == "public"
    assert not model.full_allowed
    assert model.next_seq == len(public)
    assert model.gap is None
    assert model.duplicates == 0
    assert model.game_over
    assert not model.ended_abruptly
    assert finished.outcome is not None
    assert model.winner == finished.outcome.winner.value
    assert [s.name for s in model.seats] == list(CONFIG.players)
    assert {s.name: s.revealed_role for s in model.seats} == final_roles(finished.record)
    assert not any(line.is_secret for line in model.chat)
    speeches = [e for e in public if e["type"] == "spoke"]
    assert len([line for line in model.chat if line.kind is LineKind.SPEECH]) == len(speeches)
    assert pump.links == [Link.CONNECTING, Link.LIVE, Link.ENDED]
    pygame.init()  # and it draws
    try:
        surface = pygame.Surface((960, 640))
        layout = draw(model, surface, UiState(now=time.monotonic()))
        assert set(layout.seats) == set(CONFIG.players)
        pygame.image.save(surface, str(tmp_path / "e2e.png"))
    finally:
        widgets.reset_fonts()
        pygame.quit()


def test_full_view_viewer_resumes_after_a_dropped_connection_and_matches_the_replay(server, tmp_path):
    net = GameNetwork(server, "g-resume", remote_players=[])
    client = ViewerClient(
        net.url(HOST, "viewer-full", "ui"), token=server.lobby.admin_token, first_delay=0.05
    )
    client.start()
    gate = threading.Event()
    log = tmp_path / "g-resume.jsonl"
    running = None
    try:
        pump = Pump(client)
        pump.until(lambda m: m.view is not None)
        seats = {p: GatedAgent(i, gate) for i, p in enumerate(CONFIG.players)}
        running = start_game(CONFIG, seats, seed=9, observers=net.observers, game_id="g-resume", log_path=log)
        pump.until(lambda m: m.phase == "night")  # the game now waits on the gated agents
        held = pump.model.next_seq
        client.drop_connection()
        pump.until(lambda m: m.link is Link.RECONNECTING)
        pump.until(lambda m: m.link is Link.LIVE)
        gate.set()
        finished = running.wait(WAIT_S)
        model = pump.until(lambda m: m.link is Link.ENDED)
    finally:
        gate.set()
        if running is not None:
            running.stop()
        client.stop()
    assert held > 0
    assert model.view == "full"
    assert model.full_allowed
    assert model.next_seq == len(finished.record["events"])
    assert model.gap is None
    assert model.game_over
    assert not model.ended_abruptly
    assert {s.name: s.secret_role for s in model.seats} == final_roles(finished.record)
    assert any(line.is_secret for line in model.chat)
    # The replay of the game's log folds into the same table and the same log lines.
    replayed = fold(r.item for r in load_replay(Path(log)).items)
    assert replayed.seats == model.seats
    assert replayed.winner == model.winner
    texts = [line.text for line in model.chat if line.kind is not LineKind.SYSTEM]
    assert [line.text for line in replayed.chat if line.kind is not LineKind.SYSTEM] == texts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_retried_then_reported_closed():
    client = ViewerClient(f"ws://{HOST}:{free_port()}/ws/v?client_type=ui", max_attempts=2, first_delay=0.01)
    client.start()
    try:
        pump = Pump(client)
        model = pump.until(lambda m: m.link is Link.CLOSED)
    finally:
        client.stop()
    assert pump.links == [Link.CONNECTING, Link.RECONNECTING, Link.CLOSED]
    assert model.ended_abruptly
    assert "gave up after 2 attempts" in model.link_detail
    assert not client.running


@pytest.mark.parametrize(
    ("path", "token", "reason"),
    [("/ws/viewer?client_type=ui", "not-the-admin-token", "bad_token"), ("/nope", None, "HTTP 404")],
)
def test_a_refusal_is_final_and_shown(server, path, token, reason):
    GameNetwork(server, "g-refused", remote_players=[])
    client = ViewerClient(f"ws://{HOST}:{server.port}{path}", token=token)
    client.start()
    try:
        model = Pump(client).until(lambda m: m.link is Link.FAILED)
    finally:
        client.stop()
    assert reason in model.link_detail
    assert model.ended_abruptly
