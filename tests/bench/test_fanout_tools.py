"""The network benchmark's own tools: the load generator against our server, and the stall report.

Figures are never asserted here (machines are noisy); what is checked is that the tools measure what
they claim: every broadcast counted once and in order, the silent spectator left out of the counts and
seen dropped through `/stats`, and the report's verdicts following the numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fanout.__main__ import loadgen, server, stall_reading, stall_table, summarise_stall
from bench.fanout.loadgen import main as loadgen_main

pytestmark = pytest.mark.timeout(120)


def test_fanout_mode_counts_every_broadcast_once(tmp_path: Path) -> None:
    with server("ours", tmp_path) as ready:
        report = loadgen(
            "ours", ready, "--mode", "fanout", "--spectators", "20", "--broadcasts", "60", "--single", "5"
        )
    assert report["errors"] == 0
    assert report["spectators"] == 20
    assert report["saturated"]["broadcasts"] == 60
    assert report["saturated"]["deliveries_per_s"] > 0
    assert report["single"]["broadcasts"] == 5
    assert report["single"]["reach_all_p50_ms"] > 0


def test_stall_mode_leaves_the_silent_spectator_out_and_sees_it_dropped(tmp_path: Path) -> None:
    # 16 KiB frames to 19 readers fill the silent client's kernel buffers and our 4 MiB outbox within a
    # second or two; the server must then drop it (1008) while the others go on being served.
    with server("ours", tmp_path) as ready:
        report = loadgen(
            "ours", ready, "--mode", "stall", "--spectators", "20", "--payload", "16384",
            "--normal-s", "1", "--stall-s", "6",
        )  # fmt: skip
    normal, stall = report["normal"], report["stall"]
    assert report["errors"] == 0
    assert normal["readers"] == 20
    assert stall["readers"] == 19
    assert len(stall["per_second"]) == 6
    assert sum(stall["per_second"]) == stall["deliveries"] > 0
    assert stall["completed"] > 0
    assert normal["silent_dropped_at_s"] is None
    assert stall["silent_dropped_at_s"] is not None


def fake_report(normal: float, per_second: list[int], dropped: float | None) -> dict[str, object]:
    """A load generator report of the stall mode with the given figures."""
    seconds = float(len(per_second))
    return {
        "errors": 0,
        "normal": {"deliveries_per_s": normal, "per_second": [int(normal)] * 2, "readers": 1000},
        "stall": {
            "deliveries_per_s": sum(per_second) / seconds,
            "per_second": per_second,
            "silent_dropped_at_s": dropped,
            "readers": 999,
            "seconds": seconds,
            "loadgen_cpu_s": seconds / 2,
        },
    }


def test_stall_report_follows_the_figures() -> None:
    results = {
        "ours": {
            200: [fake_report(1000.0, [990, 1000, 980, 1000], 2.0)],
            16384: [fake_report(1000.0, [1000, 900, 800, 900], 1.0)],
        },
        "baseline": {
            200: [fake_report(500.0, [500, 500, 500, 500], None)],
            16384: [fake_report(500.0, [500, 0, 0, 0], None)],
        },
    }
    summary = summarise_stall(results)
    assert summary["ours", 200]["ratios"] == [pytest.approx(0.9925)]
    assert summary["baseline", 16384]["dead_seconds"] == 3
    table = "\n".join(stall_table(summary))
    assert "| 16,384 B | 1,000 | 900 | **90%** | 80% | 0 | 1 s |" in table
    assert "not within 4 s" in table
    reading = stall_reading(summary)
    assert "With 200-byte frames our server kept at least 99%" in reading
    assert "goal met" in reading
    assert "With 16,384-byte frames our server kept at least 90%" in reading
    assert "goal NOT met" in reading
    assert "stalled outright: no spectator got anything for up to 3 of the 4 seconds" in reading
    assert "the seed design kept 100% or more" in reading


def test_loadgen_refuses_a_remote_host() -> None:
    with pytest.raises(SystemExit):
        loadgen_main(["--kind", "ours", "--port", "1", "--host", "example.org"])
