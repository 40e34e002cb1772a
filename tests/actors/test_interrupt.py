"""Ctrl-C while the host waits: every actor stops and no thread is left."""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator

import pykka
import pytest

from actors.runner import play_game
from engine import preset
from tests.fakes import SilentSeat


@pytest.fixture
def ctrl_c_handled() -> Iterator[None]:
    """Python's own Ctrl-C handler, whatever this process inherited: a shell starts a background job with
    SIGINT ignored (POSIX, asynchronous lists without job control), and `interrupt_main` then does
    nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_handled")
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
