"""TranscriptActor: a subscriber that narrates the game for a terminal, with colour when wanted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pykka

from actors.messages import Deliver, GameFinished
from engine import Event, Phase, Scope
from engine.events import DayBroke, GameEnded, NightFell, PhaseStarted, PlayerDied, PlayerFaulted, Spoke
from engine.narration import narrate

_RESET = "\033[0m"
_STYLES: dict[type[Event], str] = {
    NightFell: "\033[1;34m",  # bold blue
    DayBroke: "\033[1;33m",  # bold yellow
    PlayerDied: "\033[1;31m",  # bold red
    GameEnded: "\033[1;32m",  # bold green
    PlayerFaulted: "\033[35m",  # magenta
}
_SECRET = "\033[2m"  # dim: events the public does not see (full view only)


class TranscriptActor(pykka.ThreadingActor):
    """Prints (through `write`) one line per narrated event of the view it is subscribed to."""

    def __init__(self, write: Callable[[str], None], *, colour: bool = False) -> None:
        """`write` receives whole lines with their newline; runs in the caller's thread (pykka)."""
        super().__init__()
        self._write = write
        self._colour = colour

    def on_receive(self, message: Any) -> None:
        """Narrate delivered events; summarise the faults at the end."""
        match message:
            case Deliver(events=events):
                for event in events:
                    self._line(event)
            case GameFinished(faults=faults):
                counted = ", ".join(f"{p} {n}" for p, n in faults.items() if n)
                if counted:
                    self._write(f"Faults: {counted}.\n")
            case _:
                super().on_receive(message)

    def _line(self, event: Event) -> None:
        text = narrate(event)
        if text is None:
            return
        if isinstance(event, NightFell | DayBroke):
            text = f"\n== {text}"
        elif isinstance(event, Spoke) and event.phase is Phase.DISCUSSION:
            text = f"  {text}"
        elif isinstance(event, PhaseStarted):
            text = f"-- {text}"
        if event.audience.scope is not Scope.PUBLIC:
            text = f"[{event.audience}] {text}"
        if self._colour:
            style = _SECRET if event.audience.scope is not Scope.PUBLIC else _STYLES.get(type(event), "")
            if style:
                text = (
                    f"{style}{text}{_RESET}" if not text.startswith("\n") else f"\n{style}{text[1:]}{_RESET}"
                )
        self._write(text + "\n")
