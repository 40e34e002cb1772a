"""Tournaments: fair schedules of games between contestants, a resumable results store, ratings, reports.

`run_tournament(plan, db_path)` plays a plan (`load_plan`); `run.py tournament PLAN.toml` and
`run.py report DB` are its command line. Layering: tournament may import engine, actors and net;
nothing imports tournament.
"""

from __future__ import annotations

from tournament.plan import Plan, PlanError, load_plan, parse_plan
from tournament.runner import Progress, run_tournament

__all__ = ["Plan", "PlanError", "Progress", "load_plan", "parse_plan", "run_tournament"]
