"""The network benchmark's own tools: the load generator against our server, and the stall report.

Figures are never asserted here (machines are noisy); what is checked is that the tools measure what
they claim: every broadcast counted once and in order, the silent spectator left out of the counts and
seen dropped through `/stats`, and the report's verdicts following the numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.fanout import stall
from bench.fanout.__main__ import load_results, save_results
from bench.fanout.harness import loadgen, reproduce, server
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
    normal, silent = report["normal"], report["stall"]
    assert report["errors"] == 0
    assert normal["readers"] == 20
    assert silent["readers"] == 19
    assert len(silent["per_second"]) == 6
    assert sum(silent["per_second"]) == silent["deliveries"] > 0
    assert silent["completed"] > 0
    assert normal["silent_dropped_at_s"] is None
    assert silent["silent_dropped_at_s"] is not None


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


def pair(silent: dict[str, object], control_ratio: float) -> dict[str, object]:
    """A silent run and its control, whose second window ran at `control_ratio` of its first."""
    control = fake_report(1000.0, [int(1000 * control_ratio)] * 4, None)
    return {"silent": silent, "control": control}


def test_stall_report_follows_the_figures() -> None:
    results = {
        "ours": {
            200: [pair(fake_report(1000.0, [990, 1000, 980, 1000], 2.0), 1.0)],
            16384: [pair(fake_report(1000.0, [1000, 900, 800, 900], 1.0), 1.0)],
        },
        "baseline": {
            200: [pair(fake_report(500.0, [500, 500, 500, 500], None), 1.0)],
            16384: [pair(fake_report(500.0, [500, 0, 0, 0], None), 0.5)],
        },
    }
    summary = stall.summarise(results)
    assert summary["ours", 200]["raw"] == [pytest.approx(0.9925)]
    assert summary["baseline", 16384]["dead_seconds"] == 3
    assert summary["baseline", 16384]["corrected"] == [pytest.approx(0.25 / 0.5)]
    table = "\n".join(stall.table(summary))
    assert "| 16,384 B | 1,000 | 900 | 90% | 100% | **90%** | 80% | 0 | 1 s |" in table
    assert "not within 4 s" in table
    reading = stall.reading(summary)
    assert "With 200-byte frames our server kept 99% of its control rate to the others (median" in reading
    assert "goal met" in reading
    assert "With 16,384-byte frames our server kept 90% of its control rate" in reading
    assert "goal NOT met" in reading
    assert "stalled outright: none of the others got anything for up to 3 of the 4 seconds" in reading
    assert "and kept 50% of its control rate" in reading


def test_a_drift_seen_by_the_control_run_is_taken_out() -> None:
    # Both windows of the control run show the machine slowing by 20%: the silent run's 80% is drift.
    results = {"ours": {200: [pair(fake_report(1000.0, [800, 800, 800, 800], 5.0), 0.8)]}}
    summary = stall.summarise(results)
    assert summary["ours", 200]["corrected"] == [pytest.approx(1.0)]


def test_loadgen_refuses_a_remote_host() -> None:
    with pytest.raises(SystemExit):
        loadgen_main(["--kind", "ours", "--port", "1", "--host", "example.org"])


def test_a_saved_run_loads_back_with_its_numbers_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    results = {"fanout": {"ours": {100: [{"x": 1}]}, "baseline": {100: [{"x": 2}]}}, "rt": {"ours": []}}
    args = argparse.Namespace(
        save=path, spectators=[100], repeats=1, in_flight=8, loadavg="0.1", quick=True,
        date="2026-01-01", machine="m", commit="abc",
    )  # fmt: skip
    save_results(args, results)
    loaded = argparse.Namespace(load=path)
    assert load_results(loaded) == results
    assert (loaded.commit, loaded.spectators, loaded.in_flight) == ("abc", [100], 8)
    assert loaded.command.startswith("python -m bench.fanout")


def test_a_saved_stall_run_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "stall.json"
    results = {"ours": {200: [pair(fake_report(1000.0, [1000], None), 1.0)]}}
    args = argparse.Namespace(
        save=path, repeats=1, in_flight=8, loadavg="0.1", quick=True, date="d", machine="m", commit="c",
        command="python -m bench.fanout.stall --quick",
    )  # fmt: skip
    stall.save(args, results)
    loaded = argparse.Namespace(load=path)
    assert stall.load(loaded) == results
    assert loaded.command == "python -m bench.fanout.stall --quick"


def test_the_reproduce_command_leaves_out_the_file_flags() -> None:
    flags = ["--quick", "--save", "/tmp/run.json", "--write-docs", "--repeats", "2", "--load=/x"]
    assert reproduce("bench.fanout.stall", flags) == "python -m bench.fanout.stall --quick --repeats 2"
