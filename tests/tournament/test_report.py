"""`run.py tournament` and `run.py report`: the schedule, the summary, the report's files."""

from __future__ import annotations

import io
import re
from pathlib import Path

from tests.tournament.conftest import small_plan
from tournament.cli import report_main, tournament_main

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(main, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_tournament_then_report(tmp_path: Path, secret_file: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(small_plan(self_play=True))
    code, out, err = run_cli(tournament_main, str(plan), "--host-secret", str(secret_file))
    assert code == 0, err
    assert "Tournament 'small': 10 games (8 mixed, 2 self-play)" in out  # the schedule, printed first
    assert "10/10 done, 0 running, 0 failed" in out
    assert re.search(r"^1 \[1-\d\]\s+(heur|rand)", out, re.MULTILINE)
    assert "Self-play (not rated)" in out

    code, out, err = run_cli(report_main, str(plan.with_suffix(".db")))
    assert code == 0, err
    folder = tmp_path / "plan-report"
    report = (folder / "report.md").read_text()
    for name in (
        "ratings",
        "win_rate_by_role",
        "pairwise",
        "deceiver_vs_detector",
        "faults_and_tokens",
        "survival",
    ):
        png = folder / f"{name}.png"
        assert png.read_bytes()[:8] == PNG
        assert png.stat().st_size > 10_000, name  # a drawn plot, not an empty canvas
        assert f"]({name}.png)" in report
    for section in ("## Standings", "## Win rate by role", "## Head to head", "## Role play", "## Self-play"):
        assert section in report
    logs = re.findall(r"\[log\]\(([^)]+)\)", report)
    assert len(logs) == 10
    assert all((folder / log).exists() for log in logs)


def test_bad_plan_and_missing_db(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(small_plan().replace("heuristic", "heurstic"))
    code, _, err = run_cli(tournament_main, str(plan))
    assert code == 2
    assert "plan refused:" in err
    assert "plan.toml:8:" in err
    assert "unknown agent 'heurstic'" in err
    code, _, err = run_cli(report_main, str(tmp_path / "none.db"))
    assert (code, err) == (2, f"no database at {tmp_path / 'none.db'}\n")


def test_dry_run_prints_the_schedule_only(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(small_plan(blocks=6))
    code, out, _ = run_cli(tournament_main, str(plan), "--dry-run")
    assert code == 0
    assert "48 games" in out
    assert "... and 8 more" in out
    assert not plan.with_suffix(".db").exists()
