"""A CI-sized soak: 40 games in a row in one `NetworkServer`, every seat a remote SDK agent (threads).

After every game the thread count is back to the baseline (the main thread and the server's Trio
thread), and no actor is left. Memory: RSS after a full collection (after every game, so the
collector's schedule is not what is measured: the server raises generation 2's threshold to 1000) and
`malloc_trim`, at games 10 and 40; it must not grow by more than `RSS_BOUND_MIB`. Each soak runs in a
fresh interpreter: in pytest's process, the heap the tests before left would absorb a leak.

Measured on the 2-core CI machine (classic-8, 400-character speeches, about 0.35 s a game):
- each game closed after its end (`GameNetwork.close`, as a long-lived host does): +2.2 to +3.2 MiB
  between games 10 and 40, flat after that;
- games never closed (the server before `GameNetwork.close` existed): each finished game stays in the
  lobby with every frame of every view (about 0.4 MiB of frames a game): +18.3 to +18.6 MiB.
The bound (8 MiB, 0.27 MiB a game) passes the noise and stops any leak of a game's frames; the second
test proves it does. The numbers of a run go to the test report (`record_property`) and the log
(`-o log_cli=true`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pykka
import pytest

from engine import preset
from net.server import NetworkServer, ServerConfig
from tests.proof.remote_kit import WAIT_S, assert_faults_only, assert_valid_outcome, host_game

logger = logging.getLogger(__name__)

CONFIG = preset("classic-8")
GAMES = 40
FIRST, LAST = 10, 40  # RSS is compared between these games
RSS_BOUND_MIB = 8.0
SOAK_WAIT_S = 120.0  # bound on one soak of GAMES games
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    """Resident set size after a full collection and giving freed heap back to the system."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # glibc only; elsewhere RSS is just noisier
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


@dataclass
class Soak:
    threads: list[int] = field(default_factory=list)  # after each game
    leftovers: list[list[str]] = field(default_factory=list)  # threads still alive after each game
    rss: dict[int, float] = field(default_factory=dict)  # after games FIRST and LAST
    games_held: int = 0
    baseline_threads: int = 0

    @property
    def growth(self) -> float:
        return self.rss[LAST] - self.rss[FIRST]


@contextlib.contextmanager
def quiet(*names: str) -> Iterator[None]:
    """Keep these loggers at WARNING: pytest keeps every captured record in memory, and a soak
    logs each connection (INFO), which would be counted as the server's memory."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def soak(*, close: bool) -> Soak:
    """Play GAMES games in one server, in a fresh interpreter (RSS would otherwise depend on what the
    tests before left in the heap); with `close`, each game is closed after its end."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as child:
        result = child.submit(_quiet_soak, close).result(timeout=SOAK_WAIT_S)
    logger.info(
        "soak (close=%s): threads %s (baseline %d), RSS %.1f MiB at game %d, %.1f MiB at game %d "
        "(%+.1f MiB), games held by the lobby: %d",
        close,
        sorted(set(result.threads)),
        result.baseline_threads,
        result.rss[FIRST],
        FIRST,
        result.rss[LAST],
        LAST,
        result.growth,
        result.games_held,
    )
    return result


def _quiet_soak(close: bool) -> Soak:
    with quiet("net", "actors", "simple_websocket"):
        return _soak(close=close)


def _soak(*, close: bool) -> Soak:
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    result = Soak()
    try:
        baseline = set(threading.enumerate())
        result.baseline_threads = len(baseline)
        for number in range(1, GAMES + 1):
            game_id = f"soak-{number}"
            hosted = host_game(
                server,
                CONFIG,
                seed=number,
                remote=dict.fromkeys(CONFIG.players),
                game_id=game_id,
                close=close,
            )
            assert_valid_outcome(hosted.finished)
            assert_faults_only(hosted.finished, {})
            del hosted
            for thread in threading.enumerate():  # bounded joins: threads still winding down
                if thread not in baseline:
                    thread.join(WAIT_S)
            result.leftovers.append([t.name for t in threading.enumerate() if t not in baseline])
            result.threads.append(threading.active_count())
            assert pykka.ActorRegistry.get_all() == []
            gc.collect()  # live memory, not the collector's schedule (the server sets gen 2 to 1000)
            if number in (FIRST, LAST):
                result.rss[number] = rss_mib()
        result.games_held = len(server.lobby.games)
    finally:
        server.stop()
    return result


@pytest.fixture
def record(record_property):
    def put(result: Soak) -> None:
        record_property("threads_after_each_game", sorted(set(result.threads)))
        record_property("baseline_threads", result.baseline_threads)
        record_property("rss_mib", {k: round(v, 1) for k, v in result.rss.items()})
        record_property("rss_growth_mib", round(result.growth, 1))
        record_property("games_held", result.games_held)

    return put


def growth_message(result: Soak) -> str:
    return f"RSS grew {result.growth:+.1f} MiB from game {FIRST} to game {LAST} (bound {RSS_BOUND_MIB} MiB)"


def assert_threads_flat(result: Soak) -> None:
    assert all(left == [] for left in result.leftovers), result.leftovers
    assert set(result.threads) == {result.baseline_threads}


def test_threads_and_memory_stay_flat_when_each_game_is_closed(record):
    result = soak(close=True)
    record(result)
    assert_threads_flat(result)
    assert result.games_held == 0
    assert result.growth < RSS_BOUND_MIB, growth_message(result)


def test_the_bound_catches_a_server_that_keeps_every_game(record):
    """The same soak without `GameNetwork.close`: the lobby keeps every game's frames, and the bound
    breaks (threads stay flat all the same)."""
    result = soak(close=False)
    record(result)
    assert_threads_flat(result)
    assert result.games_held == GAMES
    assert result.growth > RSS_BOUND_MIB, growth_message(result)
