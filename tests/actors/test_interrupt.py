"""Ctrl-C while the host waits: every actor stops and no thread is left."""

from __future__ import annotations

import _thread
import threading

import pykka
import pytest

from actors.runner import play_game
from engine import preset
from tests.fakes import SilentSeat


def test_keyboard_interrupt_stops_every_actor_and_thread():
    config = preset("aiwolf-5")
    seats = {p: SilentSeat() for p in config.players}  # the game can only wait: nobody answers
    before = {t.ident for t in threading.enumerate()}
    # Deliver Ctrl-C to the main thread while it waits inside play_game (the same path as run.py).
    interrupter = threading.Timer(0.3, _thread.interrupt_main)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        play_game(config, seats, seed=1, timeout_s=60, wait_s=30)
    interrupter.join()
    assert pykka.ActorRegistry.get_all() == []
    assert [t for t in threading.enumerate() if t.ident not in before and t.is_alive()] == []
