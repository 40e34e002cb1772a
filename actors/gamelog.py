"""The JSON Lines game log: every event with its audience, every request and answer with timings,
faults, and at the end the full replayable record.

Lines (`kind` field): `game` (header), `event`, `input`, `request`, `answer`, `agent_failed`,
`record` (engine record: config, seed, inputs, events, outcome) and `finished`. `load_record`
rebuilds a replayable record from a log, even from one cut short (from its `game` and `input` lines).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

from engine import Event, event_to_dict

logger = logging.getLogger(__name__)


class GameLogError(Exception):
    """A log file that cannot be read as a game log."""


class GameLog:
    """Appends JSON lines to a file; owned by one actor (not thread-safe)."""

    def __init__(self, path: Path) -> None:
        """Create (or truncate) the log at `path`, readable by its owner only, making parent folders.

        The log holds every secret of the game (roles, night actions, the game's key) while it runs:
        created 0600 (and an existing file is made 0600 before anything is written to it).
        """
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        self._t0 = time.monotonic()

    def write(self, kind: str, **fields: Any) -> None:
        """Append one line `{"kind": kind, "t": seconds since start, **fields}`."""
        if self._file is None:
            return
        line = {"kind": kind, "t": round(time.monotonic() - self._t0, 6), **fields}
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    def event(self, seq: int, event: Event) -> None:
        """Log one event with its audience."""
        self.write("event", seq=seq, event=event_to_dict(event))

    def flush(self) -> None:
        """Push buffered lines to disk."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush and close (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def load_record(path: Path) -> dict[str, Any]:
    """The engine record of the game logged at `path` (see `engine.replay`)."""
    header: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise GameLogError(f"{path}:{number}: not JSON: {exc}") from None
                kind = item.get("kind") if isinstance(item, dict) else None
                if kind == "record":
                    return dict(item["record"])
                if kind == "game":
                    header = item
                elif kind == "input":
                    inputs.append(item["input"])
    except OSError as exc:
        raise GameLogError(f"cannot read {path}: {exc}") from None
    if header is None:
        raise GameLogError(f"{path}: no 'game' header line: not a game log")
    return {
        "format": header["record_format"],
        "config": header["config"],
        "seed": header["seed"],
        "key": header.get("key"),
        "roles": header.get("forced_roles"),
        "inputs": inputs,
    }
