"""Drawing primitives for the viewer: palette, fonts, wrapped text, pills, arrows, bubbles.

Nothing here knows about the game: these are the pen strokes `render.py` and `panels.py` compose.
Every size is in pixels and comes from the caller, who scales it to the window.
"""

from __future__ import annotations

import math

import pygame

Color = tuple[int, int, int]
Point = tuple[float, float]

BG = (17, 21, 33)
BG_DAY = (27, 33, 48)
PANEL = (26, 31, 46)
PANEL_EDGE = (48, 56, 80)
TEXT = (232, 232, 238)
DIM = (150, 156, 172)
FAINT = (92, 100, 122)
GOLD = (240, 196, 70)
RED = (214, 62, 62)
GREEN = (74, 176, 106)
BLUE = (96, 150, 220)
PURPLE = (176, 128, 236)
ORANGE = (236, 142, 52)
CYAN = (90, 214, 230)
GM_BLUE = (128, 158, 196)
DEAD_FILL = (66, 66, 74)
DEAD_MARK = (222, 48, 48)  # the cross on a dead player's token (tests look for it)
UNKNOWN_FILL = (84, 106, 140)
BUBBLE = (246, 243, 232)
BUBBLE_TEXT = (28, 28, 36)
WOLVES_BANNER = (150, 34, 40)
VILLAGE_BANNER = (34, 118, 68)
NEUTRAL_BANNER = (84, 88, 104)

ROLE_COLORS: dict[str, Color] = {
    "werewolf": (206, 58, 58),
    "possessed": (186, 84, 150),
    "seer": (124, 112, 236),
    "medium": (136, 160, 226),
    "doctor": (64, 170, 150),
    "bodyguard": (84, 136, 206),
    "witch": (158, 96, 210),
    "hunter": (212, 138, 54),
    "villager": (98, 150, 96),
}

_fonts: dict[tuple[int, bool, bool], pygame.font.Font] = {}
_wraps: dict[tuple[str, int, int, int], list[str]] = {}
_MAX_WRAPS = 4000  # cached wrapped texts; cleared when full


def font(size: int, *, bold: bool = False, italic: bool = False) -> pygame.font.Font:
    """pygame's default font at `size` px, cached."""
    key = (max(8, size), bold, italic)
    if key not in _fonts:
        if not pygame.font.get_init():
            pygame.font.init()
        f = pygame.font.Font(None, key[0])
        f.set_bold(bold)
        f.set_italic(italic)
        _fonts[key] = f
    return _fonts[key]


def reset_fonts() -> None:
    """Forget the cached fonts: call it before `pygame.quit()` (a font used after quit crashes)."""
    _fonts.clear()
    _wraps.clear()


def wrap(f: pygame.font.Font, text: str, width: int, first_indent: int = 0) -> list[str]:
    """Split `text` into rows no wider than `width` px (the first row starts `first_indent` px in)."""
    key = (text, id(f), width, first_indent)
    if key in _wraps:
        return _wraps[key]
    rows: list[str] = []
    row, room = "", max(1, width - first_indent)
    for original in text.split():
        word = original
        candidate = f"{row} {word}" if row else word
        if f.size(candidate)[0] <= room:
            row = candidate
            continue
        if row:
            rows.append(row)
            room = width
        while f.size(word)[0] > room and len(word) > 1:  # a word wider than the row: cut it
            cut = _fit(f, word, room)
            rows.append(word[:cut])
            word, room = word[cut:], width
        row = word
    rows.append(row)
    if len(_wraps) > _MAX_WRAPS:
        _wraps.clear()
    _wraps[key] = rows
    return rows


def _fit(f: pygame.font.Font, word: str, room: int) -> int:
    cut = len(word)
    while cut > 1 and f.size(word[:cut])[0] > room:
        cut -= 1
    return cut


def ellipsize(f: pygame.font.Font, text: str, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` px."""
    if f.size(text)[0] <= width:
        return text
    while text and f.size(text + "...")[0] > width:
        text = text[:-1]
    return text + "..."


def blit_text(
    surface: pygame.Surface,
    text: str,
    f: pygame.font.Font,
    color: Color,
    pos: Point,
    *,
    anchor: str = "topleft",
) -> pygame.Rect:
    """Draw one line of text with its `anchor` (a pygame.Rect attribute name) at `pos`."""
    image = f.render(text, True, color)
    rect = image.get_rect(**{anchor: (round(pos[0]), round(pos[1]))})
    surface.blit(image, rect)
    return rect


def pill(
    surface: pygame.Surface, text: str, f: pygame.font.Font, fill: Color, pos: Point, *, anchor: str
) -> pygame.Rect:
    """A rounded label: `text` on `fill`, placed by `anchor`."""
    w, h = f.size(text)
    pad = max(4, h // 3)
    rect = pygame.Rect(0, 0, w + 2 * pad, h + pad // 2 + 2)
    setattr(rect, anchor, (round(pos[0]), round(pos[1])))
    pygame.draw.rect(surface, fill, rect, border_radius=rect.height // 2)
    blit_text(surface, text, f, BG if sum(fill) > 400 else TEXT, rect.center, anchor="center")  # noqa: PLR2004
    return rect


def translucent(
    surface: pygame.Surface, rect: pygame.Rect, color: Color, alpha: int, radius: int = 0
) -> None:
    """Fill `rect` with `color` at `alpha` (0-255) over what is already drawn."""
    layer = pygame.Surface(rect.size, pygame.SRCALPHA)
    pygame.draw.rect(layer, (*color, alpha), layer.get_rect(), border_radius=radius)
    surface.blit(layer, rect.topleft)


def towards(a: Point, b: Point, distance: float) -> Point:
    """The point `distance` px from `a` in the direction of `b`."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    return a[0] + dx / length * distance, a[1] + dy / length * distance


def arrow(
    surface: pygame.Surface,
    start: Point,
    end: Point,
    color: Color,
    *,
    width: int,
    head: float,
    dashed: bool = False,
) -> None:
    """An arrow from `start` to `end` with a head `head` px long (dashed: a vote only the full view sees)."""
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    if length < 1:
        return
    shaft_end = towards(end, start, head * 0.8)
    if dashed:
        step = max(6.0, head * 0.9)
        t = 0.0
        while t < length - head:
            a = towards(start, end, t)
            b = towards(start, end, min(t + step * 0.6, length - head))
            pygame.draw.line(surface, color, a, b, width)
            t += step
    else:
        pygame.draw.line(surface, color, start, shaft_end, width)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    left = (end[0] - head * math.cos(angle - 0.42), end[1] - head * math.sin(angle - 0.42))
    right = (end[0] - head * math.cos(angle + 0.42), end[1] - head * math.sin(angle + 0.42))
    pygame.draw.polygon(surface, color, [end, left, right])


def cross(surface: pygame.Surface, center: Point, radius: float, color: Color, width: int) -> None:
    """An X over a circle of `radius` (the dead player's mark)."""
    d = radius * 0.62
    cx, cy = center
    pygame.draw.line(surface, color, (cx - d, cy - d), (cx + d, cy + d), width)
    pygame.draw.line(surface, color, (cx - d, cy + d), (cx + d, cy - d), width)


def moon(surface: pygame.Surface, center: Point, radius: float, sky: Color) -> None:
    """A crescent moon."""
    pygame.draw.circle(surface, (236, 228, 190), center, radius)
    pygame.draw.circle(surface, sky, (center[0] + radius * 0.45, center[1] - radius * 0.25), radius * 0.85)


def sun(surface: pygame.Surface, center: Point, radius: float) -> None:
    """A sun with rays."""
    for k in range(12):
        a = k * math.pi / 6
        inner = (center[0] + math.cos(a) * radius * 1.25, center[1] + math.sin(a) * radius * 1.25)
        outer = (center[0] + math.cos(a) * radius * 1.6, center[1] + math.sin(a) * radius * 1.6)
        pygame.draw.line(surface, GOLD, inner, outer, max(2, round(radius / 6)))
    pygame.draw.circle(surface, GOLD, center, radius)


def bubble_tail(surface: pygame.Surface, box: pygame.Rect, target: Point, color: Color, base: float) -> None:
    """A speech bubble's tail from the edge of `box` to `target`."""
    cx, cy = box.center
    dx, dy = target[0] - cx, target[1] - cy
    scale = min(
        (box.width / 2 - base) / abs(dx) if dx else math.inf,
        (box.height / 2 - 2) / abs(dy) if dy else math.inf,
    )
    edge = (cx + dx * scale, cy + dy * scale)
    nx, ny = -dy, dx
    norm = math.hypot(nx, ny) or 1.0
    nx, ny = nx / norm * base, ny / norm * base
    pygame.draw.polygon(surface, color, [(edge[0] + nx, edge[1] + ny), (edge[0] - nx, edge[1] - ny), target])
