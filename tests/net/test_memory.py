"""Memory goes back to the system once a crowd of connections has gone (net/memory.py)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
from wsproto.events import TextMessage

from net import cli
from net.memory import MemoryPolicy, glibc, keep_memory
from net.server import ServerConfig
from tests.net.netutil import RawWebSocket, open_clients

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Counts:
    connections: int = 0
    peak_connections: int = 0
    memory_returns: int = 0

    def open(self, n: int) -> None:
        self.connections += n
        self.peak_connections = max(self.peak_connections, self.connections)


@dataclass
class Keeper:
    """Stands in for the collection and the trim: records when each ran (Trio's clock)."""

    release_s: float = 0.0  # what a collection says it took
    released: list[float] = field(default_factory=list)
    trimmed: list[float] = field(default_factory=list)

    def release(self) -> float:
        self.released.append(trio.current_time())
        return self.release_s

    def trim(self) -> float:
        self.trimmed.append(trio.current_time())
        return 0.0


POLICY = MemoryPolicy(min_drop=100, check_every_s=1.0, min_interval_s=5.0, trim_every_s=None)  # crowds only


@pytest.mark.parametrize(
    ("peak", "before", "now", "due"),
    [
        (1500, 0, 0, True),  # the crowd has gone, nothing moved since the last check
        (1500, 800, 800, False),  # still more than half of the peak
        (1500, 400, 300, False),  # still going: wait until the teardown is over
        (150, 0, 0, True),
        (99, 0, 0, False),  # too few to be worth a full collection
        (1500, 1400, 1450, False),
    ],
)
def test_a_trim_is_due_once_a_crowd_has_gone_and_the_count_is_still(
    peak: int, before: int, now: int, due: bool
) -> None:
    assert POLICY.due(peak, before, now) is due


@pytest.mark.deadline(200)  # virtual seconds (autojump clock)
async def test_keep_memory_gives_back_once_per_crowd_and_not_more_often_than_allowed(autojump_clock) -> None:
    counts = Counts()
    keeper = Keeper()
    released = keeper.released

    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_memory, counts, POLICY, keeper.release, keeper.trim)
        counts.open(1500)
        await trio.sleep(10.5)  # the keeper looks at whole seconds; the crowd moves in between
        assert released == []  # a crowd that stays is not a crowd that has gone
        counts.connections = 700
        await trio.sleep(1)
        counts.connections = 0
        await trio.sleep(1)  # the count fell during the last second: not yet
        assert released == []
        await trio.sleep(1)
        assert released == [13.0]
        assert counts.memory_returns == 1
        assert counts.peak_connections == 0
        counts.open(300)  # another crowd comes and goes at once
        counts.connections = 0
        await trio.sleep(2)
        assert len(released) == 1  # within min_interval_s of the last one
        await trio.sleep(5)
        assert len(released) == 2
        assert released[1] - released[0] >= POLICY.min_interval_s
        await trio.sleep(60)
        assert len(released) == 2  # nothing more has gone
        nursery.cancel_scope.cancel()


@pytest.mark.deadline(30)
async def test_the_server_gives_memory_back_after_its_spectators_leave(make_server) -> None:
    server = make_server(
        ServerConfig(port=0, memory=MemoryPolicy(min_drop=20, check_every_s=0.05, min_interval_s=0.0))
    )
    assert server.admission is not None
    with open_clients() as clients:
        for i in range(30):  # agents without a token: they wait for their hello (no game is hosted)
            clients.connect(server.port, f"crowd-{i}", "agent")
        assert server.admission.memory_returns == 0
    deadline = time.monotonic() + 10
    while server.admission.memory_returns == 0 and time.monotonic() < deadline:
        await trio.sleep(0.02)
    assert server.admission.memory_returns == 1


PROBE = (
    "from net.memory import use_system_allocator; use_system_allocator(); "
    "import os, sys; print(os.environ.get('PYTHONMALLOC'), sys.getallocatedblocks() > 0)"
)


@pytest.mark.skipif(not glibc(), reason="the C allocator is chosen on glibc only")
@pytest.mark.parametrize(
    ("preset", "expected"),
    [(None, "malloc False"), ("pymalloc", "pymalloc True"), ("malloc", "malloc False")],
)
def test_a_server_process_runs_on_the_c_allocator_unless_told_otherwise(
    preset: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    if preset is not None:
        env["PYTHONMALLOC"] = preset
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


@pytest.mark.deadline(30)
async def test_a_server_that_freezes_its_start_up_hides_it_from_the_collector_until_it_stops(
    make_server,
) -> None:
    # A full collection scans every tracked object: frozen, the start-up's (the bulk) are skipped, so
    # the pause after a crowd has gone is short. The freeze is process-wide, so it must end with the server.
    assert gc.get_freeze_count() == 0
    server = make_server(ServerConfig(port=0, memory=MemoryPolicy(freeze_at_start=True)))
    deadline = time.monotonic() + 10
    while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
        await trio.sleep(0.02)
    frozen = gc.get_freeze_count()
    assert frozen > 1000
    server.stop()
    assert gc.get_freeze_count() == 0


@pytest.mark.deadline(100)  # virtual seconds (autojump clock)
async def test_keep_memory_trims_the_heap_alone_every_few_seconds(autojump_clock) -> None:
    counts = Counts()
    keeper = Keeper()
    released, trimmed = keeper.released, keeper.trimmed
    policy = MemoryPolicy(
        min_drop=100, check_every_s=1.0, min_interval_s=5.0, trim_every_s=5.0, collect_below=0
    )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_memory, counts, policy, keeper.release, keeper.trim)
        await trio.sleep(11.5)
        assert trimmed == [5.0, 10.0]
        assert released == []  # no crowd has gone: no collection
        counts.open(500)
        counts.connections = 0
        await trio.sleep(1)  # the crowd's collection (at 12) trims too: the next trim alone is 5 s later
        assert released == [12.0]
        await trio.sleep(6)
        assert trimmed == [5.0, 10.0, 17.0]
        nursery.cancel_scope.cancel()
    never = MemoryPolicy(trim_every_s=None)
    trimmed.clear()
    with trio.move_on_after(30):
        await keep_memory(Counts(), never, keeper.release, keeper.trim)
    assert trimmed == []


@pytest.mark.deadline(100)  # virtual seconds (autojump clock)
async def test_the_periodic_trim_collects_first_while_few_connections_are_open(autojump_clock) -> None:
    # A full collection empties CPython's free lists, whose blocks, spread over the heap by a flood, pin
    # pages a trim alone cannot free; it walks every tracked object, so not with a crowd connected.
    counts = Counts()
    keeper = Keeper()
    released, trimmed = keeper.released, keeper.trimmed
    policy = MemoryPolicy(min_drop=100, check_every_s=1.0, trim_every_s=5.0, collect_below=50)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_memory, counts, policy, keeper.release, keeper.trim)
        counts.open(49)
        await trio.sleep(5.5)
        assert (released, trimmed) == ([5.0], [])
        counts.open(1)  # 50 open: from now on the trim goes alone
        await trio.sleep(10)
        assert (released, trimmed) == ([5.0], [10.0, 15.0])
        nursery.cancel_scope.cancel()


@pytest.mark.deadline(100)  # virtual seconds (autojump clock)
async def test_a_periodic_collection_that_took_long_waits_in_proportion(autojump_clock) -> None:
    # Many games hosted at once (few connections: built-in or in-process seats) make a full collection
    # long: its share of the server's thread stays bounded (`collect_duty`), trims go on meanwhile.
    counts = Counts()
    keeper = Keeper(release_s=0.05)  # 50 ms: at most one every 10 s
    released, trimmed = keeper.released, keeper.trimmed
    policy = MemoryPolicy(check_every_s=1.0, trim_every_s=2.0, collect_below=50, collect_duty=0.005)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_memory, counts, policy, keeper.release, keeper.trim)
        await trio.sleep(14.5)
        nursery.cancel_scope.cancel()
    assert released == [2.0, 12.0]
    assert trimmed == [4.0, 6.0, 8.0, 10.0, 14.0]


@pytest.mark.parametrize("duty", [0.0, -1.0, 1.5])
def test_a_collection_duty_outside_0_1_is_refused(duty: float) -> None:
    with pytest.raises(ValueError, match="collect_duty"):
        MemoryPolicy(collect_duty=duty)


def test_run_py_hosts_with_a_frozen_start_up() -> None:
    args = cli.play_parser().parse_args([])
    assert cli.server_config(args).memory == MemoryPolicy(freeze_at_start=True)


def _read_line() -> int:
    source = (Path(ROOT) / "net" / "receiving.py").read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if "receive_some(self._inbox.read_size)" in line)


def test_an_idle_connection_holds_nothing_of_its_last_read(make_server) -> None:
    # A crowd of connections that each sent one big burst and went quiet must not each keep that
    # burst's buffer (up to RECEIVE_SIZE bytes) while they wait for more.
    server = make_server(ServerConfig(port=0))
    # About 50 KB of whole frames, sent at once: the server reads them in one or two reads.
    pings = [json.dumps({"type": "ping", "nonce": f"n-{i}"}) + " " * 2000 for i in range(25)]
    read_at = _read_line()
    tracemalloc.start(30)
    try:
        sockets = [RawWebSocket(server.port, f"/ws/burst-{i}?client_type=ui&hello=1") for i in range(8)]
        try:
            for raw in sockets:
                raw.sock.sendall(b"".join(raw.ws.send(TextMessage(data=ping)) for ping in pings))
            for raw in sockets:  # every ping answered: every read handled, the connection now idle
                nonces = set()
                while len(nonces) < 25:
                    frame = raw.receive_frame()
                    if frame["type"] == "pong":
                        nonces.add(frame["nonce"])
            held = [
                trace
                for trace in tracemalloc.take_snapshot().traces
                # The read's bytes, not what waiting for the next read allocates (Trio's bookkeeping).
                if trace.size >= 1024
                and any(f.filename.endswith("receiving.py") and f.lineno == read_at for f in trace.traceback)
            ]
        finally:
            for raw in sockets:
                raw.close()
    finally:
        tracemalloc.stop()
    assert sum(trace.size for trace in held) == 0, f"{len(held)} reads held: {[t.size for t in held]}"
