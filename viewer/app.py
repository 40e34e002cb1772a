"""The pygame loop: drain the feed, fold it into the model, draw; keys and clicks; 30 frames a second.

Each frame: handle input, take what the feed has (live: `get_nowait()` on the client's queue, never a
blocking call; replay: what falls due at the chosen speed), fold it into the model, draw it, flip.
The network lives on the client's own thread, so a slow or dead server can only make the screen say
so, never freeze it.

`launch(url, token)` starts the viewer as a child process: that is how `run.py --viewer` opens it on
the game it hosts without importing pygame itself.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before pygame is imported

import pygame

from viewer.client import TOKEN_ENV, Received, ViewerClient
from viewer.model import ViewerModel, apply
from viewer.render import Layout, UiState, draw
from viewer.replay import Replay, ReplayPlayer
from viewer.widgets import reset_fonts

logger = logging.getLogger(__name__)

FPS = 30
DRAIN_LIMIT = 600  # items folded per frame at most (~55 us each): a catch-up burst spreads over frames
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # replay speed steps for +/-
TOAST_S = 3.0  # seconds a hint stays on screen
SCROLL_ROWS = 3  # chat rows per wheel notch
ROOT = Path(__file__).resolve().parent.parent


def launch(url: str, token: str | None, *extra: str) -> subprocess.Popen[bytes]:
    """Start `python -m viewer URL` as a child process (the caller may wait or leave it).

    The admin token goes through the child's environment (`LOUPGAROU_TOKEN`), not its arguments.
    """
    env = dict(os.environ)
    if token:
        env[TOKEN_ENV] = token
    return subprocess.Popen([sys.executable, "-m", "viewer", url, *extra], cwd=ROOT, env=env)


class LiveFeed:
    """A running `ViewerClient` and its queue."""

    def __init__(self, client: ViewerClient) -> None:
        """Take over a started client."""
        self.client = client
        self.model = ViewerModel()

    def poll(self) -> None:
        """Fold what has arrived (without waiting)."""
        for _ in range(DRAIN_LIMIT):
            try:
                received: Received = self.client.out.get_nowait()
            except queue.Empty:
                return
            self.model = apply(self.model, received.item, received.at)

    def waiting(self) -> int:
        """Items queued and not folded yet (while paused)."""
        return self.client.out.qsize()

    def close(self) -> None:
        """Stop the network thread."""
        self.client.stop()


class App:
    """Input handling and per-frame work, over a live feed or a replay player."""

    def __init__(self, feed: LiveFeed | ReplayPlayer, ui: UiState) -> None:
        """`ui` holds the initial choices (full view, source label)."""
        self.feed = feed
        self.ui = ui
        self.layout = Layout()
        self.running = True
        self._toast_until = 0.0

    @property
    def model(self) -> ViewerModel:
        """The model on screen."""
        return self.feed.model

    def toast(self, text: str) -> None:
        """Show a short hint for a few seconds."""
        self.ui.toast, self._toast_until = text, time.monotonic() + TOAST_S

    def tick(self, seconds: float) -> None:
        """Advance the feed by one frame that lasted `seconds`."""
        feed = self.feed
        if isinstance(feed, LiveFeed):
            if not self.ui.paused:
                feed.poll()
            self.ui.now = time.monotonic()
        else:
            if not self.ui.paused:
                feed.advance(seconds, self.ui.speed)
            self.ui.now = feed.now
            self.ui.replay = (feed.position, len(feed.items))
        if self.ui.toast and time.monotonic() > self._toast_until:
            self.ui.toast = None

    def handle(self, event: pygame.event.Event) -> None:
        """React to one pygame event."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            self._key(event.key, getattr(event, "unicode", ""))
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._click(event.pos)
        elif event.type == pygame.MOUSEWHEEL:  # the log is the only thing that scrolls
            self.ui.chat_scroll = max(0, self.ui.chat_scroll + event.y * SCROLL_ROWS)

    def _key(self, key: int, char: str) -> None:
        replay = self.feed if isinstance(self.feed, ReplayPlayer) else None
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.running = False
        elif key == pygame.K_SPACE:
            self.ui.paused = not self.ui.paused
        elif key in (pygame.K_LEFT, pygame.K_RIGHT):
            if replay is None:
                self.toast("stepping works in a replay (python -m viewer --replay LOG)")
                return
            self.ui.paused = True
            replay.step_back() if key == pygame.K_LEFT else replay.step_forward()
        elif char in ("+", "=", "-") or key in (pygame.K_KP_PLUS, pygame.K_KP_MINUS):
            self._speed(+1 if char in ("+", "=") or key == pygame.K_KP_PLUS else -1)
        elif key == pygame.K_f:
            if self.model.full_allowed:
                self.ui.full = not self.ui.full
                self.toast("full view: secrets shown" if self.ui.full else "public view: secrets hidden")
            else:
                self.toast("the full view needs the admin token: python -m viewer URL --token TOKEN")
        elif key == pygame.K_END:
            self.ui.chat_scroll = 0
        elif key in (pygame.K_PAGEUP, pygame.K_PAGEDOWN):
            step = 10 if key == pygame.K_PAGEUP else -10
            self.ui.chat_scroll = max(0, self.ui.chat_scroll + step)

    def _speed(self, direction: int) -> None:
        if not isinstance(self.feed, ReplayPlayer):
            self.toast("a live game plays at its own pace (speed works in a replay)")
            return
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.ui.speed))
        self.ui.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, index + direction))]
        self.toast(f"speed x{self.ui.speed:g}")

    def _click(self, pos: tuple[int, int]) -> None:
        name = self.layout.player_at(pos)
        if name is not None:
            self.ui.selected = None if name == self.ui.selected else name
        elif self.layout.village.collidepoint(pos):
            self.ui.selected = None

    def frame(self, surface: pygame.Surface) -> None:
        """Draw the current model."""
        self.layout = draw(self.model, surface, self.ui)


def run(
    feed: LiveFeed | ReplayPlayer, ui: UiState, size: tuple[int, int], *, until_over: Path | None = None
) -> int:
    """Open the window and loop until the person quits; returns the exit code.

    With `until_over`, the viewer saves a screenshot there and exits once the game is over (for demos,
    docs and tests).
    """
    pygame.init()
    try:
        surface = pygame.display.set_mode(size, pygame.RESIZABLE)
        pygame.display.set_caption(f"Loup-Garou viewer - {ui.source.split('?')[0]}")
        app = App(feed, ui)
        clock = pygame.time.Clock()
        while app.running:
            for event in pygame.event.get():
                app.handle(event)
            app.tick(clock.get_time() / 1000.0)
            app.frame(pygame.display.get_surface() or surface)
            pygame.display.flip()
            if until_over is not None and app.model.game_over:
                pygame.image.save(pygame.display.get_surface() or surface, str(until_over))
                break
            clock.tick(FPS)
    finally:
        if isinstance(feed, LiveFeed):
            feed.close()
        reset_fonts()
        pygame.quit()
    return 0


def run_live(url: str, token: str | None, size: tuple[int, int], *, until_over: Path | None = None) -> int:
    """Watch the server at `url` (a spectator URL) until the person quits (or the game is over)."""
    client = ViewerClient(url, token)
    client.start()
    return run(LiveFeed(client), UiState(full=True, source=url), size, until_over=until_over)


def run_replay(replay: Replay, size: tuple[int, int]) -> int:
    """Play a logged game until the person quits."""
    return run(ReplayPlayer(replay), UiState(full=True, source=str(replay.path)), size)
