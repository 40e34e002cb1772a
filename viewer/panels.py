"""The viewer's text-heavy pieces: the side panel (player card, reasoning, chat log), the speech
bubble and the winner banner; plus `UiState` and `Canvas`, what every drawing function is handed.
Called by `render.draw`; no networking and no game rules here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

from viewer import widgets as w
from viewer.model import ChatLine, LineKind, ViewerModel
from viewer.narrate import phase_name

_TAGS: dict[LineKind, tuple[str, w.Color]] = {
    LineKind.WOLVES: ("[wolves]", w.RED),
    LineKind.SECRET: ("[game master]", w.GM_BLUE),
    LineKind.SYSTEM: ("[viewer]", w.ORANGE),
}
_CARD_SHARE = 0.46  # of the side panel's height, when a player is selected
_BUBBLE_ROWS = 7  # the longest speech shown in the bubble, in rows (the log has all of it)
_NO_REASONING = "No reasoning received for this player: only agents that report it (LLM players) have any."

Run = tuple[str, w.Color, pygame.font.Font]  # a piece of a log row: text, colour, font


@dataclass
class UiState:
    """What the person at the screen chose, plus the current time; owned by the app loop."""

    full: bool = True  #: show secrets (drawn only when the model's view has them)
    selected: str | None = None  #: the player whose card (and reasoning) the side panel shows
    chat_scroll: int = 0  #: rows scrolled up from the newest line of the log
    paused: bool = False
    speed: float = 1.0  #: replay speed factor
    replay: tuple[int, int] | None = None  #: replay position and length (None when live)
    now: float | None = None  #: the clock of the items' `at`, for "time in phase"
    source: str = ""  #: what we watch: a URL or a log path
    toast: str | None = None  #: a short message (e.g. why `f` did nothing)


@dataclass(frozen=True, slots=True)
class Canvas:
    """One frame's drawing context."""

    model: ViewerModel
    surface: pygame.Surface
    ui: UiState
    s: float  #: scale factor (1.0 at 960x640)
    full: bool  #: secrets are shown in this frame

    def px(self, size: float, minimum: int = 1) -> int:
        """`size` design pixels, scaled, at least `minimum`."""
        return max(minimum, round(size * self.s))

    @property
    def sky(self) -> w.Color:
        """The colour inside the circle of players."""
        return (34, 40, 62) if self.model.is_night else (44, 52, 74)


def side_panel(c: Canvas, rect: pygame.Rect) -> None:
    """The right-hand panel: the selected player's card (if any) above the chat log."""
    pygame.draw.rect(c.surface, w.PANEL, rect)
    pygame.draw.line(c.surface, w.PANEL_EDGE, rect.topleft, rect.bottomleft, 1)
    chat = rect.inflate(-c.px(16), -c.px(12))
    if c.ui.selected is not None and c.model.seat(c.ui.selected) is not None:
        card = pygame.Rect(chat.x, chat.y, chat.width, round(chat.height * _CARD_SHARE))
        _player_card(c, c.ui.selected, card)
        gap = c.px(10)
        chat = pygame.Rect(chat.x, card.bottom + gap, chat.width, chat.bottom - card.bottom - gap)
    _chat_log(c, chat)


def _header(c: Canvas, text: str, rect: pygame.Rect, color: w.Color = w.GOLD) -> int:
    f = w.font(c.px(24), bold=True)
    w.blit_text(c.surface, w.ellipsize(f, text, rect.width), f, color, rect.topleft)
    y = rect.y + f.get_linesize() + c.px(2)
    pygame.draw.line(c.surface, w.PANEL_EDGE, (rect.x, y), (rect.right, y), 1)
    return y + c.px(4)


def _player_card(c: Canvas, name: str, rect: pygame.Rect) -> None:
    """The selected player: status and role; in the full view, his private reasoning, newest first."""
    seat = c.model.seat(name)
    assert seat is not None
    pygame.draw.rect(c.surface, (34, 40, 62), rect.inflate(c.px(8), c.px(6)), border_radius=c.px(6))
    role = seat.revealed_role or (seat.secret_role if c.full else None)
    status = "alive" if seat.alive else f"dead (day {seat.death_day})"
    y = _header(c, f"{name}  -  {role or 'role unknown'}  -  {status}", rect, w.CYAN)
    rows: list[tuple[str, w.Color]] = []
    if c.full:
        thoughts = c.model.reasoning.get(name, ())
        rows.append((f"Private reasoning ({len(thoughts)})", w.DIM) if thoughts else (_NO_REASONING, w.DIM))
        for thought in reversed(thoughts):
            rows.append((f"day {thought.day}, {phase_name(thought.phase)}", w.PURPLE))
            rows.append((thought.text, w.TEXT))
    else:
        speech = c.model.last_speech.get(name)
        rows.append((f'Last said: "{speech}"' if speech else "Has not spoken yet.", w.TEXT))
        hint = (
            "The full view (f) shows his private reasoning."
            if c.model.full_allowed
            else ("Private reasoning needs the full view: start the viewer with --token ADMIN_TOKEN.")
        )
        rows.append((hint, w.DIM))
    f = w.font(c.px(21))
    line_h = f.get_linesize()
    for text, color in rows:
        for row in w.wrap(f, text, rect.width):
            if y + line_h > rect.bottom:
                return
            w.blit_text(c.surface, row, f, color, (rect.x, y))
            y += line_h
        y += c.px(3)


def _prefix(line: ChatLine) -> tuple[str, w.Color]:
    if line.kind is LineKind.PRIVATE:
        return f"[to {line.audience.partition(':')[2] or line.audience}]", w.PURPLE
    return _TAGS.get(line.kind, ("", w.TEXT))


def _text_color(line: ChatLine) -> w.Color:
    if line.kind is LineKind.NARRATION:
        if line.text.startswith(("Day ", "Night ", "Game over")):
            return w.GOLD
        deadly = (" is executed", "found dead", " is shot", "Found dead")
        return (236, 120, 110) if any(d in line.text for d in deadly) else w.DIM
    if line.kind in (LineKind.PRIVATE, LineKind.SECRET, LineKind.WOLVES):
        return (212, 202, 236)
    return w.TEXT


def _rows(line: ChatLine, f: pygame.font.Font, bold: pygame.font.Font, width: int) -> list[list[Run]]:
    """One log line as rows of runs, wrapped to `width` (the tag and speaker lead the first row)."""
    runs: list[Run] = []
    tag, tag_color = _prefix(line)
    if tag:
        runs.append((tag + " ", tag_color, f))
    if line.speaker:
        runs.append((f"{line.speaker}: ", w.CYAN if line.kind is LineKind.SPEECH else w.RED, bold))
    indent = sum(font.size(text)[0] for text, _, font in runs)
    color = _text_color(line)
    if indent > width * 0.6:
        return [runs] + [[(row, color, f)] for row in w.wrap(f, line.text, width)]
    wrapped = w.wrap(f, line.text, width, indent)
    return [[*runs, (wrapped[0], color, f)]] + [[(row, color, f)] for row in wrapped[1:]]


def _chat_log(c: Canvas, rect: pygame.Rect) -> None:
    """The newest lines that fit, scrolled up by `ui.chat_scroll` rows; secrets only in the full view."""
    shown = "full view" if c.full else "public"
    y = _header(c, f"Village log ({shown})", rect)
    f, bold = w.font(c.px(21)), w.font(c.px(21), bold=True)
    line_h = f.get_linesize()
    capacity = max(1, (rect.bottom - y) // line_h)
    rows: list[list[Run]] = []
    for line in reversed(c.model.chat):
        if line.is_secret and not c.full:
            continue
        rows[:0] = _rows(line, f, bold, rect.width)
        if len(rows) >= capacity + c.ui.chat_scroll:
            break
    scroll = min(c.ui.chat_scroll, max(0, len(rows) - capacity))
    for row in rows[max(0, len(rows) - capacity - scroll) : len(rows) - scroll]:
        x = rect.x
        for text, color, font in row:
            x = w.blit_text(c.surface, text, font, color, (x, y)).right
        y += line_h
    if scroll:
        note = f"scrolled up {scroll} rows (End: newest)"
        w.pill(c.surface, note, w.font(c.px(19)), w.PANEL_EDGE, rect.bottomright, anchor="bottomright")


def speech_bubble(
    c: Canvas,
    line: ChatLine,
    center: tuple[float, float],
    width: float,
    speaker: tuple[tuple[float, float], float],
) -> None:
    """The latest speech in the middle of the circle, with a tail to the speaker's token."""
    f, bold = w.font(c.px(23)), w.font(c.px(23), bold=True)
    pad = c.px(12)
    text_w = round(width) - 2 * pad
    rows = w.wrap(f, line.text, text_w)
    if len(rows) > _BUBBLE_ROWS:
        rows = [*rows[: _BUBBLE_ROWS - 1], w.ellipsize(f, " ".join(rows[_BUBBLE_ROWS - 1 :]), text_w)]
    line_h = f.get_linesize()
    box = pygame.Rect(0, 0, round(width), pad * 2 + line_h * (len(rows) + 1) + c.px(4))
    box.center = (round(center[0]), round(center[1]))
    (sx, sy), r = speaker
    wolves = line.kind is LineKind.WOLVES
    # The tail stops short of the speaker's name and role, which sit below his token.
    dy = (center[1] - sy) / (math.hypot(center[0] - sx, center[1] - sy) or 1.0)
    labels = w.font(c.px(23)).get_linesize() + w.font(c.px(20)).get_linesize()
    tip = w.towards((sx, sy), center, r + 6 * c.s + max(0.0, dy) * labels)
    w.bubble_tail(c.surface, box, tip, w.BUBBLE, 10 * c.s)
    pygame.draw.rect(c.surface, w.BUBBLE, box, border_radius=c.px(12))
    if wolves:
        pygame.draw.rect(c.surface, w.RED, box, c.px(3, 2), border_radius=c.px(12))
    who = str(line.speaker) + (" (to the wolves)" if wolves else "")
    who += " - last words" if line.phase == "last_words" else ""
    w.blit_text(c.surface, who, bold, w.RED if wolves else (40, 90, 150), (box.x + pad, box.y + pad))
    y = box.y + pad + line_h + c.px(4)
    for row in rows:
        w.blit_text(c.surface, row, f, w.BUBBLE_TEXT, (box.x + pad, y))
        y += line_h


def winner_banner(c: Canvas, center: tuple[float, float], width: float) -> None:
    """The end: who won and why (every role is on the tokens around it)."""
    winner = c.model.winner or ""
    fill = {"wolves": w.WOLVES_BANNER, "village": w.VILLAGE_BANNER}.get(winner, w.NEUTRAL_BANNER)
    title = {"wolves": "THE WOLVES WIN", "village": "THE VILLAGE WINS"}.get(winner, "NOBODY WINS")
    size, f = c.px(48), w.font(c.px(23))
    while size > c.px(20) and w.font(size, bold=True).size(title)[0] > width - c.px(24):
        size -= 2
    big = w.font(size, bold=True)
    reason = c.model.end_reason[:1].upper() + c.model.end_reason[1:]
    reasons = w.wrap(f, reason + ".", round(width) - c.px(24))[:2] if reason else []
    height = big.get_linesize() + f.get_linesize() * (len(reasons) + 1) + c.px(30)
    box = pygame.Rect(0, 0, round(width), height)
    box.center = (round(center[0]), round(center[1]))
    pygame.draw.rect(c.surface, fill, box, border_radius=c.px(14))
    pygame.draw.rect(c.surface, w.GOLD, box, c.px(3, 2), border_radius=c.px(14))
    where = (box.centerx, box.y + c.px(12))
    y = w.blit_text(
        c.surface, w.ellipsize(big, title, box.width - 20), big, w.TEXT, where, anchor="midtop"
    ).bottom
    for row in reasons:
        y = w.blit_text(c.surface, row, f, w.TEXT, (box.centerx, y + c.px(2)), anchor="midtop").bottom
    small = w.font(c.px(20), italic=True)
    w.blit_text(
        c.surface,
        "every role is revealed",
        small,
        (226, 222, 200),
        (box.centerx, y + c.px(4)),
        anchor="midtop",
    )
