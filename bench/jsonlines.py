"""Reports from a child process of a benchmark: one JSON object a line on its stdout.

A reader thread drains the pipe as lines come, so a child never blocks on a full pipe (a blocked agent
pool would stop every agent it plays; a blocked attacker would stop attacking), and the parent waits
for each report with a bound.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import IO, Any


class JsonLines:
    """The JSON objects a child writes on `stream`, one a line (blank lines skipped), in order."""

    def __init__(self, stream: IO[str], *, name: str) -> None:
        """Start draining `stream` in a daemon thread called `name`."""
        self._stream = stream
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            if line.strip():
                self._lines.put(json.loads(line))
        self._lines.put(None)  # the stream ended: the child exited or closed it

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next report, or None once the stream has ended; TimeoutError if none comes in time."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no report within {timeout:g} s") from None

    def join(self, timeout: float) -> None:
        """Wait (bounded) for the reader thread to end, after the child is gone."""
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while the reader thread still reads."""
        return self._thread.is_alive()
