"""The results store: SQLite (stdlib `sqlite3`) in WAL mode, one writer, one transaction per game.

A game's row and its seats' rows are written in one transaction when the game ends, so a runner killed
at any point (`kill -9`, a crashed machine) leaves whole games or nothing: resuming plays exactly the
scheduled games that have no `done` row. `games.idx` is the primary key and rows are inserted, never
replaced, so a game recorded twice would be an error, not a silent double.

The plan is stored with the results: resuming with a different plan (another seed, other contestants)
is refused, since its schedule would not be the one the stored games came from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tournament.game import GameResult, SeatResult
from tournament.plan import Plan
from tournament.schedule import ScheduledGame

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS games (
    idx INTEGER PRIMARY KEY,
    tbl INTEGER NOT NULL, table_label TEXT NOT NULL, block INTEGER NOT NULL, kind TEXT NOT NULL,
    seed TEXT NOT NULL, status TEXT NOT NULL, winner TEXT, termination TEXT, days INTEGER NOT NULL,
    attempts INTEGER NOT NULL, wall_s REAL NOT NULL, error TEXT, log_path TEXT, finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    game INTEGER NOT NULL REFERENCES games(idx), seat INTEGER NOT NULL, name TEXT NOT NULL,
    contestant TEXT NOT NULL, role TEXT NOT NULL, side TEXT NOT NULL, survived INTEGER NOT NULL,
    death_day INTEGER, death_cause TEXT, decisions INTEGER NOT NULL, faults INTEGER NOT NULL,
    fallbacks INTEGER NOT NULL, timeouts INTEGER NOT NULL, retries INTEGER NOT NULL, calls INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, latency_s REAL NOT NULL,
    votes INTEGER NOT NULL, wolf_votes INTEGER NOT NULL,
    PRIMARY KEY (game, seat)
);
"""
SEAT_COLUMNS = [f.name for f in dataclasses.fields(SeatResult)]


class StoreError(Exception):
    """The database cannot hold this tournament (another plan's results, an unreadable file)."""


def plan_fingerprint(plan: Plan) -> str:
    """A hash of everything that shapes the schedule and who plays: not the limits, nor where and how
    much a contestant runs (`hosts`, `max_games`), which a resumed run may change (a GPU host died)."""
    shaped = plan.model_dump(
        mode="json", exclude={"limits": True, "contestant": {"__all__": {"hosts", "max_games"}}}
    )
    return hashlib.sha256(json.dumps(shaped, sort_keys=True).encode()).hexdigest()


class Store:
    """The tournament's database; use from one thread (the runner's), or open read-only for reports."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)  # autocommit; explicit transactions below
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
            self.db.executescript(SCHEMA)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"{path}: {exc}") from None
        self.path = path

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bind_plan(self, plan: Plan) -> None:
        """Record the plan, or check it is the one this database was started with."""
        fingerprint = plan_fingerprint(plan)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row is None:
            with self.transaction():
                self.db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
                self.db.execute("INSERT INTO meta VALUES ('plan', ?)", (plan.model_dump_json(),))
        elif row[0] != fingerprint:
            raise StoreError(
                f"{self.path} holds the results of another plan (other contestants, tables, seed or "
                "blocks): use another --db, or the plan it was started with"
            )

    def plan(self) -> Plan:
        """The plan this database was started with."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'plan'").fetchone()
        if row is None:
            raise StoreError(f"{self.path} holds no tournament")
        return Plan.model_validate_json(row[0])

    def finished(self) -> set[int]:
        """Indexes of the games already recorded (done or failed for good)."""
        return {r[0] for r in self.db.execute("SELECT idx FROM games")}

    def record(self, game: ScheduledGame, label: str, result: GameResult, attempts: int, at: float) -> None:
        """Write one ended game and its seats in one transaction."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO games VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    game.index, game.table, label, game.block, game.kind, str(game.seed), result.status,
                    result.winner, result.termination, result.days, attempts, result.wall_s, result.error,
                    result.log_path, at,
                ),
            )  # fmt: skip
            self.db.executemany(
                f"INSERT INTO seats (game, {', '.join(SEAT_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(SEAT_COLUMNS))})",
                [(game.index, *dataclasses.astuple(s)) for s in result.seats],
            )

    @dataclasses.dataclass
    class _Tx:
        db: sqlite3.Connection

        def __enter__(self) -> None:
            self.db.execute("BEGIN IMMEDIATE")

        def __exit__(self, kind: object, *rest: object) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def transaction(self) -> Store._Tx:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception)."""
        return Store._Tx(self.db)

    def rows(self, sql: str, *args: Any) -> Iterator[sqlite3.Row]:
        """Query rows by column name."""
        cursor = self.db.execute(sql, args)
        cursor.row_factory = sqlite3.Row
        yield from cursor

    def counts(self) -> dict[str, int]:
        """Games by status."""
        return dict(self.db.execute("SELECT status, COUNT(*) FROM games GROUP BY status"))
