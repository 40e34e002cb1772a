"""Draw a `ViewerModel` onto a pygame surface: the village, the top bar, the side panel.

`draw(model, surface, ui)` is all there is: no networking, no game rules, no clock (the current time
comes in `UiState.now`). Every size is derived from the surface's size, so a resized window is laid out
again on the next frame. `UiState.full` asks for secrets; they are drawn only when the model's view
carries them (`model.full_allowed`). The returned `Layout` says where the players are, for clicks.

Screen: a top bar (phase, day, time in phase, view, connection), the village on the left (players
around a circle; the speech bubble, the sky or the winner banner in the middle; vote arrows and
tallies), the side panel on the right (the selected player's card or reasoning above the chat log),
and a one-line key help at the bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pygame

from viewer import panels
from viewer import widgets as w
from viewer.model import Link, Seat, ViewerModel
from viewer.narrate import phase_name
from viewer.panels import Canvas, UiState

_LINK_COLORS = {
    Link.CONNECTING: w.GOLD,
    Link.LIVE: w.GREEN,
    Link.RECONNECTING: w.ORANGE,
    Link.ENDED: w.FAINT,
    Link.CLOSED: w.RED,
    Link.FAILED: w.RED,
    Link.REPLAY: w.BLUE,
}
_TROUBLE = {
    Link.CONNECTING: "Connecting",
    Link.RECONNECTING: "Reconnecting",
    Link.CLOSED: "Connection closed before the game ended",
    Link.FAILED: "The server refused the viewer",
}
_LEGEND = "secret (full view): italic roles, dashed votes, red ring: wolves' target, W/V: seer's check"
_CAUSES = {"night": "killed at night", "execution": "executed", "hunter": "shot by the hunter"}

__all__ = ["Layout", "UiState", "draw", "scale_of"]


def _empty_rect() -> pygame.Rect:
    return pygame.Rect(0, 0, 0, 0)


@dataclass
class Layout:
    """Where things were drawn: for hit-testing clicks."""

    seats: dict[str, tuple[tuple[float, float], float]] = field(default_factory=dict)  #: center, radius
    village: pygame.Rect = field(default_factory=_empty_rect)
    side: pygame.Rect = field(default_factory=_empty_rect)

    def player_at(self, pos: tuple[int, int]) -> str | None:
        """The player whose token (or name just below it) is at `pos`, if any."""
        for name, ((x, y), r) in self.seats.items():
            on_token = math.hypot(pos[0] - x, pos[1] - y) <= r * 1.15
            on_label = abs(pos[0] - x) <= r * 1.3 and 0 <= pos[1] - y <= r * 2.2
            if on_token or on_label:
                return name
        return None


def scale_of(surface: pygame.Surface) -> float:
    """The layout's scale factor: 1.0 at 960x640, clamped so tiny or huge windows stay readable."""
    width, height = surface.get_size()
    return max(0.6, min(2.4, width / 960, height / 640))


def draw(model: ViewerModel, surface: pygame.Surface, ui: UiState) -> Layout:
    """Draw the whole screen for `model`; returns where the players are."""
    c = Canvas(model, surface, ui, scale_of(surface), ui.full and model.full_allowed)
    width, height = surface.get_size()
    surface.fill(w.BG)
    top, bottom = c.px(38), c.px(24)
    side_w = max(c.px(250), round(width * 0.36))
    layout = Layout(
        village=pygame.Rect(0, top, width - side_w, height - top - bottom),
        side=pygame.Rect(width - side_w, top, side_w, height - top - bottom),
    )
    _village(c, layout)
    panels.side_panel(c, layout.side)
    _top_bar(c, pygame.Rect(0, 0, width, top))
    _help_bar(c, pygame.Rect(0, height - bottom, width, bottom))
    return layout


# ---------------------------------------------------------------------------------------- bars


def _phase_caption(model: ViewerModel) -> str:
    if not model.seats:
        return "waiting for the game to start"
    if model.game_over:
        return f"Day {model.day}  -  game over"
    parts = [f"Night {model.day}" if model.is_night else f"Day {model.day}"]
    if model.phase != "night":
        parts.append(phase_name(model.phase))
    if model.phase == "vote":
        parts[-1] = f"revote: {', '.join(model.candidates)}" if model.candidates else "vote"
    if model.speaker and model.phase not in ("vote", "night"):
        parts.append(f"{model.speaker}'s turn")
    return "  -  ".join(parts)


def _elapsed(model: ViewerModel, ui: UiState) -> str | None:
    """Time in phase: the public stream carries no deadlines, so the viewer shows elapsed time."""
    if ui.now is None or model.phase_started_at is None or model.game_over or not model.seats:
        return None
    seconds = max(0, int(ui.now - model.phase_started_at))
    return f"in phase {seconds // 60}:{seconds % 60:02d}"


def _top_bar(c: Canvas, rect: pygame.Rect) -> None:
    surface, model, ui = c.surface, c.model, c.ui
    pygame.draw.rect(surface, w.PANEL, rect)
    pygame.draw.line(surface, w.PANEL_EDGE, rect.bottomleft, rect.bottomright, 1)
    small = w.font(c.px(22))
    title = w.blit_text(
        surface,
        "LOUP-GAROU",
        w.font(c.px(30), bold=True),
        w.GOLD,
        (rect.x + c.px(12), rect.centery),
        anchor="midleft",
    )
    right = rect.right - c.px(10)
    right = w.pill(
        surface,
        model.link.value.upper(),
        small,
        _LINK_COLORS[model.link],
        (right, rect.centery),
        anchor="midright",
    ).left - c.px(8)
    if model.view is not None:
        label, color = ("FULL VIEW", w.PURPLE) if c.full else ("PUBLIC VIEW", w.FAINT)
        right = w.pill(surface, label, small, color, (right, rect.centery), anchor="midright").left - c.px(8)
    if ui.replay is not None:
        state = "paused" if ui.paused else f"x{ui.speed:g}"
        text = f"{ui.replay[0]}/{ui.replay[1]}  {state}"
        right = w.blit_text(
            surface, text, small, w.DIM, (right, rect.centery), anchor="midright"
        ).left - c.px(8)
    elif ui.paused:
        right = w.blit_text(surface, "paused", small, w.ORANGE, (right, rect.centery), anchor="midright").left
    room = right - title.right - c.px(28)
    caption_font = w.font(c.px(26))
    caption = w.ellipsize(caption_font, _phase_caption(model), room)
    where = (title.right + c.px(18), rect.centery)
    shown = w.blit_text(surface, caption, caption_font, w.TEXT, where, anchor="midleft")
    elapsed = _elapsed(model, ui)
    if elapsed and shown.right + small.size(elapsed)[0] + c.px(14) < right:
        w.blit_text(surface, elapsed, small, w.DIM, (shown.right + c.px(14), rect.centery), anchor="midleft")


def _help_bar(c: Canvas, rect: pygame.Rect) -> None:
    pygame.draw.rect(c.surface, w.PANEL, rect)
    keys = ["space pause"]
    if c.ui.replay is not None:
        keys += ["left/right step", "+/- speed"]
    if c.model.full_allowed:
        keys.append("f full/public view")
    keys += ["click a player", "wheel scrolls the log", "q quit"]
    f = w.font(c.px(20))
    source = w.ellipsize(f, c.ui.source.split("?")[0], rect.width // 3) if c.ui.source else ""
    room = rect.width - f.size(source)[0] - c.px(40)
    text = w.ellipsize(f, "   ".join(keys), room)
    w.blit_text(c.surface, text, f, w.DIM, (rect.x + c.px(10), rect.centery), anchor="midleft")
    if source:
        w.blit_text(c.surface, source, f, w.FAINT, (rect.right - c.px(10), rect.centery), anchor="midright")


# ---------------------------------------------------------------------------------------- village


def _village(c: Canvas, layout: Layout) -> None:
    area, model = layout.village, c.model
    pygame.draw.rect(c.surface, w.BG if model.is_night else w.BG_DAY, area)
    if not model.seats:
        message = "connecting..." if model.link is Link.CONNECTING else "waiting for the game to start"
        w.blit_text(c.surface, message, w.font(c.px(30)), w.DIM, area.center, anchor="center")
    else:
        # Vertically: a ring margin above the top token; two or three label lines and the footnote
        # below the bottom one. The circle fills what is left.
        labels = w.font(c.px(23)).get_linesize() + w.font(c.px(20)).get_linesize() * 2
        above, below = c.px(16), labels + w.font(c.px(20)).get_linesize() + c.px(6)
        token = max(12.0, min(min(area.width, area.height) * 0.07, 40 * c.s))
        radius = max((min(area.width - 2 * labels, area.height - above - below) - 2 * token) / 2, token * 2)
        center = (area.centerx, area.y + above + token + radius)
        pygame.draw.circle(c.surface, c.sky, center, radius * 0.86)
        for i, seat in enumerate(model.seats):
            angle = -math.pi / 2 + 2 * math.pi * i / len(model.seats)
            layout.seats[seat.name] = (
                (center[0] + radius * math.cos(angle), center[1] + radius * math.sin(angle)),
                token,
            )
        _arrows(c, layout)
        _middle(c, layout, center, (radius - token) * 2 * 0.9)
        for seat in model.seats:
            _token(c, seat, layout.seats[seat.name])
        _tally_badges(c, layout)
    _connection_banner(c, area)
    _footnotes(c, area)


def _visible_role(seat: Seat, full: bool) -> tuple[str | None, bool]:
    """The role to show and whether it is a secret (only the full view knows it)."""
    if seat.revealed_role:
        return seat.revealed_role, False
    if full and seat.secret_role:
        return seat.secret_role, True
    return None, False


def _token(c: Canvas, seat: Seat, where: tuple[tuple[float, float], float]) -> None:
    surface, model, (x, y), r = c.surface, c.model, where[0], where[1]
    role, secret = _visible_role(seat, c.full)
    fill = w.ROLE_COLORS.get(role or "", w.UNKNOWN_FILL) if seat.alive else w.DEAD_FILL
    if seat.name == c.ui.selected:
        pygame.draw.circle(surface, w.CYAN, (x, y), r + 10 * c.s, c.px(3, 2))
    if seat.name == model.speaker and not model.game_over:
        pygame.draw.circle(surface, w.GOLD, (x, y), r + 5 * c.s, c.px(4, 2))
    if c.full and model.pack_target == seat.name and seat.alive:
        pygame.draw.circle(surface, w.RED, (x, y), r + 14 * c.s, c.px(3, 2))
    pygame.draw.circle(surface, fill, (x, y), r)
    pygame.draw.circle(surface, w.TEXT if seat.alive else w.FAINT, (x, y), r, c.px(2, 1))
    initial = w.font(round(r * 1.3), bold=True)
    w.blit_text(
        surface,
        seat.name[:1].upper(),
        initial,
        w.TEXT if seat.alive else w.FAINT,
        (x, y + 1),
        anchor="center",
    )
    if not seat.alive:
        w.cross(surface, (x, y), r, w.DEAD_MARK, max(3, round(r / 5)))
    if c.full and seat.name in model.inspected:
        wolf, badge = model.inspected[seat.name], (x - r * 0.85, y + r * 0.8)
        pygame.draw.circle(surface, w.RED if wolf else w.GREEN, badge, r * 0.36)
        w.blit_text(
            surface, "W" if wolf else "V", w.font(round(r * 0.6), bold=True), w.TEXT, badge, anchor="center"
        )
    name_font = w.font(c.px(23), bold=True)
    top = w.blit_text(
        surface, seat.name, name_font, w.TEXT if seat.alive else w.DIM, (x, y + r + 3 * c.s), anchor="midtop"
    ).bottom
    lines: list[tuple[str, w.Color, bool]] = []
    if role:
        lines.append((role, w.ROLE_COLORS.get(role, w.DIM), secret))
    elif seat.revealed_team:
        lines.append((f"{seat.revealed_team} team", w.DIM, False))
    if not seat.alive:
        lines.append((f"{_CAUSES.get(seat.death_cause or '', 'dead')}, day {seat.death_day}", w.DIM, False))
    for text, color, italic in lines:
        top = w.blit_text(
            surface, text, w.font(c.px(20), italic=italic), color, (x, top), anchor="midtop"
        ).bottom


def _arrows(c: Canvas, layout: Layout) -> None:
    """Vote arrows (gold: revealed; dashed cyan: cast, seen by the full view only) and the hunter's shot."""
    seats = layout.seats
    for ballot in c.model.ballots:
        if ballot.target is None or ballot.voter not in seats or ballot.target not in seats:
            continue
        if not ballot.revealed and not c.full:
            continue
        (a, ra), (b, rb) = seats[ballot.voter], seats[ballot.target]
        color = w.GOLD if ballot.revealed else w.CYAN
        start, end = w.towards(a, b, ra + 2), w.towards(b, a, rb + 6 * c.s)
        w.arrow(c.surface, start, end, color, width=c.px(3, 2), head=14 * c.s, dashed=not ballot.revealed)
    shot = c.model.shot
    if shot is not None and shot[0] in seats and shot[1] in seats:
        (a, ra), (b, rb) = seats[shot[0]], seats[shot[1]]
        start, end = w.towards(a, b, ra), w.towards(b, a, rb + 6 * c.s)
        w.arrow(c.surface, start, end, w.ORANGE, width=c.px(5, 3), head=18 * c.s)


def _tally_badges(c: Canvas, layout: Layout) -> None:
    counts = dict(c.model.tally)
    if not counts and c.full:  # votes still being cast: count what the full view has seen
        for ballot in c.model.ballots:
            if ballot.target is not None:
                counts[ballot.target] = counts.get(ballot.target, 0) + 1
    for name, n in counts.items():
        if name in layout.seats and n:
            (x, y), r = layout.seats[name]
            badge = (x + r * 0.85, y - r * 0.85)
            pygame.draw.circle(c.surface, w.GOLD, badge, max(9.0, r * 0.42))
            w.blit_text(
                c.surface, str(n), w.font(round(max(14.0, r * 0.62)), bold=True), w.BG, badge, anchor="center"
            )


def _middle(c: Canvas, layout: Layout, center: tuple[float, float], inner: float) -> None:
    """The middle of the circle: the winner banner, a speech bubble, or the sky and the tally."""
    model = c.model
    if model.game_over:
        panels.winner_banner(c, center, inner)
        return
    bubble = model.bubble
    if bubble is not None and (c.full or not bubble.is_secret) and bubble.speaker in layout.seats:
        panels.speech_bubble(c, bubble, center, inner, layout.seats[bubble.speaker])
        return
    icon_r = max(12.0, inner * 0.09)
    icon_at = (center[0], center[1] - icon_r * 1.4)
    if model.is_night:
        w.moon(c.surface, icon_at, icon_r, c.sky)
    else:
        w.sun(c.surface, icon_at, icon_r * 0.8)
    label = f"Night {model.day}" if model.is_night else f"Day {model.day}"
    big = w.font(c.px(40), bold=True)
    below = w.blit_text(
        c.surface, label, big, w.TEXT, (center[0], icon_at[1] + icon_r * 1.8), anchor="midtop"
    )
    if model.tally:
        f = w.font(c.px(23))
        tally = "votes: " + "   ".join(f"{p} {n}" for p, n in model.tally)
        where = (center[0], below.bottom + c.px(6))
        w.blit_text(c.surface, w.ellipsize(f, tally, round(inner)), f, w.GOLD, where, anchor="midtop")


def _connection_banner(c: Canvas, area: pygame.Rect) -> None:
    """Connection trouble, said on screen (the render loop never waits for the network)."""
    model = c.model
    if model.link not in _TROUBLE or (model.game_over and model.link is not Link.FAILED):
        return
    title = _TROUBLE[model.link]
    if model.link is Link.RECONNECTING:
        title += f" (attempt {model.attempt})"
    text = title + (f": {model.link_detail}" if model.link_detail else "")
    f = w.font(c.px(22), bold=True)
    rect = pygame.Rect(
        area.x + c.px(10), area.y + c.px(8), area.width - c.px(20), f.get_linesize() + c.px(10)
    )
    color = w.RED if model.link in (Link.CLOSED, Link.FAILED) else w.ORANGE
    w.translucent(c.surface, rect, color, 225, c.px(6))
    w.blit_text(
        c.surface, w.ellipsize(f, text, rect.width - c.px(16)), f, w.TEXT, rect.center, anchor="center"
    )


def _footnotes(c: Canvas, area: pygame.Rect) -> None:
    f = w.font(c.px(20))
    notes: list[tuple[str, w.Color]] = []
    if c.model.gap is not None:
        first, last = c.model.gap
        notes.append((f"missed events {first}-{last}: waiting for them to be resent", w.ORANGE))
    notes += [(f"events {first}-{last} were never received", w.ORANGE) for first, last in c.model.missed]
    if c.full and c.model.seats:
        notes.append((_LEGEND, w.FAINT))
    if c.ui.toast:
        notes.append((c.ui.toast, w.GOLD))
    y = area.bottom - c.px(6)
    for text, color in reversed(notes):
        line = w.ellipsize(f, text, area.width - c.px(20))
        y = w.blit_text(c.surface, line, f, color, (area.x + c.px(10), y), anchor="bottomleft").top
