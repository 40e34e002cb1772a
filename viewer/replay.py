"""A finished game's JSON Lines log, read back as the same frame stream a live viewer receives.

The log (`actors/gamelog.py`) holds every event of the game, whatever its audience, as
`{"kind": "event", "t": seconds, "seq": n, "event": <wire payload>}` lines, so a replay is a full
view: a `welcome` with view `full`, one `event` frame per logged event (validated by the wire models),
and a `game_over` built from the `game_ended` event and the `finished` line. A log cut short ends with
a `Status(CLOSED)` instead, which the model shows as a game that never finished.

`dwell(item)` says how long the player lingers on an item at speed 1, so that speeches can be read and
bookkeeping flies by; `is_notable(item)` picks the items that left/right step between.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from net.protocol import PROTOCOL_VERSION, ClientType, EventFrame, GameOver, Welcome
from viewer.client import Received
from viewer.model import Item, Link, Status, ViewerModel, apply

_BASE_DWELL_S = 0.9  # seconds at speed 1 on an event worth a look (a death, a vote, nightfall)
_READ_CHARS_PER_S = 45.0  # reading speed for speeches, characters per second
_MAX_SPEECH_S = 6.0  # seconds: the longest pause on one speech at speed 1
_NOTABLE_S = 0.3  # seconds: items dwelt on at least this long are steps for left/right
_QUICK = {"action_recorded": 0.0, "role_assigned": 0.05, "player_faulted": 0.1, "reasoned": 0.4}


class ReplayError(Exception):
    """The file cannot be replayed (missing, not JSON, not a game log, invalid events)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """A log read into frames; `items[i].at` is the log's own clock (seconds since the game began)."""

    path: Path
    game_id: str
    items: tuple[Received, ...]
    complete: bool  #: True when the log reaches the end of the game


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(line, dict):
            raise ReplayError(f"{path}:{number}: not a game log line")
        line["_number"] = number
        lines.append(line)
    return lines


def _event_frame(path: Path, line: dict[str, Any]) -> EventFrame:
    try:
        return EventFrame.model_validate({"type": "event", "seq": line["seq"], "event": line["event"]})
    except (KeyError, ValidationError) as exc:
        raise ReplayError(f"{path}:{line['_number']}: not a valid event: {exc}") from None


def load_replay(path: Path) -> Replay:
    """Read the game log at `path` into a frame stream; raises ReplayError."""
    lines = _lines(path)
    header = next((line for line in lines if line.get("kind") == "game"), None)
    if header is None:
        raise ReplayError(f"{path}: no 'game' header line: not a game log written by run.py")
    game_id = str(header.get("game_id", path.stem))
    welcome = Welcome(
        type="welcome",
        protocol_version=PROTOCOL_VERSION,
        client_id="replay",
        client_type=ClientType.UI,
        view="full",
        game_id=game_id,
        seat=None,
        resume_from=0,
        heartbeat_s=0.0,
    )
    items = [Received(0.0, Status(Link.REPLAY, str(path))), Received(0.0, welcome)]
    ended: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None
    for line in lines:
        kind, at = line.get("kind"), float(line.get("t", 0.0))
        if kind == "event":
            frame = _event_frame(path, line)
            items.append(Received(at, frame))
            if line["event"].get("type") == "game_ended":
                ended = line["event"]
        elif kind == "finished":
            finished = line
    last_at = items[-1].at
    if ended is not None:
        over = _game_over(path, game_id, ended, finished)
        items.append(Received(last_at, over))
    else:
        why = "the game was aborted" if finished else "the log ends before the game does"
        items.append(Received(last_at, Status(Link.CLOSED, why)))
    return Replay(path, game_id, tuple(items), complete=ended is not None)


def _game_over(path: Path, game_id: str, ended: dict[str, Any], finished: dict[str, Any] | None) -> GameOver:
    try:
        return GameOver.model_validate(
            {
                "type": "game_over",
                "game_id": game_id,
                "winner": ended.get("winner"),
                "termination": ended.get("termination"),
                "reason": ended.get("reason", ""),
                "day": ended.get("day", 0),
                "roles": dict(ended.get("roles", [])),
                "faults": (finished or {}).get("faults", {}),
            }
        )
    except ValidationError as exc:
        raise ReplayError(f"{path}: the game's end cannot be read: {exc}") from None


def dwell(item: Item) -> float:
    """Seconds to linger after showing `item`, at speed 1."""
    if not isinstance(item, EventFrame):
        return 0.0
    event = item.model_dump(mode="json")["event"]
    kind = str(event["type"])
    if kind in _QUICK:
        return _QUICK[kind]
    if kind == "spoke":
        return min(_MAX_SPEECH_S, 0.8 + len(str(event["text"])) / _READ_CHARS_PER_S)
    if kind == "phase_started":
        return 0.35 if event.get("speaker") else 0.6
    return _BASE_DWELL_S


def is_notable(item: Item) -> bool:
    """True for the items left/right step between (what a person would call "the next thing")."""
    return dwell(item) >= _NOTABLE_S or isinstance(item, (GameOver, Status))


class ReplayPlayer:
    """Plays a `Replay` into a model: timed advance, single steps both ways, speed. No pygame, no clock:
    the app passes the elapsed time in."""

    SNAPSHOT_EVERY = 200  # items between kept models, so stepping back refolds at most this many

    def __init__(self, replay: Replay) -> None:
        """Start at the beginning (the welcome applied), playing."""
        self.replay = replay
        self.items = replay.items
        self.position = 0  #: items applied
        self.model = ViewerModel()
        self._snapshots: dict[int, ViewerModel] = {0: self.model}
        self._timer = 0.0
        self._wait = 0.0
        while self.position < len(self.items) and not isinstance(self.items[self.position].item, EventFrame):
            self._apply_next()
        self._start = self.position  # the welcome: stepping back stops here

    @property
    def at_end(self) -> bool:
        """True when every item has been applied."""
        return self.position >= len(self.items)

    @property
    def now(self) -> float:
        """The log's clock at the current position (for "time in phase")."""
        return self.items[self.position - 1].at if self.position else 0.0

    def _apply_next(self) -> Item:
        received = self.items[self.position]
        self.model = apply(self.model, received.item, received.at)
        self.position += 1
        if self.position % self.SNAPSHOT_EVERY == 0:
            self._snapshots[self.position] = self.model
        return received.item

    def advance(self, seconds: float, speed: float) -> None:
        """Play `seconds` of wall time at `speed`: apply what falls due."""
        self._timer += seconds * speed
        while not self.at_end and self._timer >= self._wait:
            self._timer -= self._wait
            self._wait = dwell(self._apply_next())
        if self.at_end:
            self._timer = 0.0

    def step_forward(self) -> None:
        """Apply items up to and including the next notable one."""
        while not self.at_end:
            if is_notable(self._apply_next()):
                break
        self._timer, self._wait = 0.0, 0.0

    def step_back(self) -> None:
        """Go back to just after the previous notable item (refolding from the nearest snapshot)."""
        target = self.position - 1
        while target > 0 and not is_notable(self.items[target - 1].item):
            target -= 1
        self.seek(max(target, 0))

    def seek(self, position: int) -> None:
        """Show the state after the first `position` items."""
        position = max(self._start, min(position, len(self.items)))
        start = max(p for p in self._snapshots if p <= position)
        self.model, self.position = self._snapshots[start], start
        while self.position < position:
            self._apply_next()
        self._timer, self._wait = 0.0, 0.0
