"""Memory goes back to the system once a crowd of connections has gone (net/memory.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import trio

from net.memory import MemoryPolicy, glibc, keep_memory
from net.server import ServerConfig
from tests.net.netutil import open_clients

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Counts:
    connections: int = 0
    peak_connections: int = 0
    memory_returns: int = 0

    def open(self, n: int) -> None:
        self.connections += n
        self.peak_connections = max(self.peak_connections, self.connections)


POLICY = MemoryPolicy(min_drop=100, check_every_s=1.0, min_interval_s=5.0)


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
    released: list[float] = []

    def release() -> float:
        released.append(trio.current_time())
        return 0.0

    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_memory, counts, POLICY, release)
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
        for i in range(30):
            clients.connect(server.port, f"crowd-{i}")
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
