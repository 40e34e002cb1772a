"""Headless rendering (SDL dummy driver, set in conftest.py) of the scripted game's key moments.

Each test leaves its PNG in artifacts/viewer/ (git-ignored) for a reviewer, and checks the pixels
that matter: a dead player's cross, the winner banner, the secrets shown or hidden, the reasoning
panel. The app's input handling is driven with synthetic pygame events.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from tests.viewer import scripted_game as script
from tests.viewer.test_model import write_log
from viewer import widgets as w
from viewer.__main__ import main, spectator_url
from viewer.app import App, LiveFeed, launch
from viewer.client import Received, ViewerClient
from viewer.model import Link, Status, ViewerModel, apply, fold
from viewer.render import Layout, UiState, draw
from viewer.replay import ReplayPlayer, load_replay

SIZE = (960, 640)
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(autouse=True)
def _pygame():
    pygame.init()
    yield
    w.reset_fonts()
    pygame.quit()


def at(moment: str) -> ViewerModel:
    return fold(script.stream()[: script.MOMENTS[moment]])


def render(
    model: ViewerModel, ui: UiState, path: Path, size: tuple[int, int] = SIZE
) -> tuple[pygame.Surface, Layout]:
    surface = pygame.Surface(size)
    layout = draw(model, surface, ui)
    pygame.image.save(surface, str(path))
    return surface, layout


def color(surface: pygame.Surface, x: float, y: float) -> tuple[int, int, int]:
    return tuple(surface.get_at((round(x), round(y))))[:3]  # type: ignore[return-value]


def count(surface: pygame.Surface, rect: pygame.Rect, wanted: tuple[int, int, int]) -> int:
    return sum(
        1
        for x in range(rect.left, rect.right, 2)
        for y in range(rect.top, rect.bottom, 2)
        if color(surface, x, y) == wanted
    )


def fill_of(surface: pygame.Surface, layout: Layout, name: str) -> tuple[int, int, int]:
    """The token's fill colour, sampled away from its initial and the badges."""
    (x, y), r = layout.seats[name]
    return color(surface, x + r * 0.5, y + r * 0.65)


def test_night_in_full_view_shows_roles_the_target_and_the_seer_result(artifacts):
    surface, layout = render(at("night"), UiState(full=True, now=14.0), artifacts / "night-full.png")
    assert fill_of(surface, layout, "Alice") == w.ROLE_COLORS["werewolf"]
    assert fill_of(surface, layout, "Chloe") == w.ROLE_COLORS["seer"]
    (x, y), r = layout.seats["Bruno"]  # the wolves' target: a red ring above the token
    assert any(color(surface, x, y - d) == w.RED for d in range(round(r + 4), round(r + 20)))
    (x, y), r = layout.seats["Damien"]  # the seer found a wolf: a red W badge
    assert color(surface, x - r * 0.85 - r * 0.25, y + r * 0.8) == w.RED
    assert layout.village.collidepoint(layout.seats["Elise"][0])


def test_public_view_hides_every_secret(artifacts):
    surface, layout = render(at("night"), UiState(full=False, now=14.0), artifacts / "night-public.png")
    for name in script.PLAYERS:
        assert fill_of(surface, layout, name) == w.UNKNOWN_FILL, name
    (x, y), r = layout.seats["Bruno"]
    assert not any(color(surface, x, y - d) == w.RED for d in range(round(r + 4), round(r + 20)))
    side = pygame.Rect(layout.side)
    assert count(surface, side, w.PURPLE) == 0  # no "[to X]" lines
    assert count(surface, side, w.RED) == 0  # no "[wolves]" lines


def test_vote_draws_arrows_tallies_and_the_executed_players_cross(artifacts):
    surface, layout = render(at("vote"), UiState(full=False, now=31.0), artifacts / "vote.png")
    (x, y), r = layout.seats["Damien"]
    assert color(surface, x, y) == w.DEAD_MARK  # the cross meets at the token's center
    (ax, ay), _ = layout.seats["Chloe"]
    assert color(surface, ax, ay) != w.DEAD_MARK
    assert color(surface, x + r * 0.85, y - r * 0.85) == w.GOLD  # the tally badge (5 votes)
    (fx, fy), _fr = layout.seats["Fabien"]  # Fabien -> Damien: a gold arrow between the two
    mid = ((fx + x) / 2, (fy + y) / 2)
    assert any(
        color(surface, mid[0] + dx, mid[1] + dy) == w.GOLD for dx in range(-3, 4) for dy in range(-3, 4)
    )


def test_game_over_shows_the_winner_banner_and_every_role(artifacts):
    model = at("game_over")
    surface, layout = render(model, UiState(full=False), artifacts / "game-over.png")
    centers = [p for p, _ in layout.seats.values()]
    cx, cy = sum(p[0] for p in centers) / len(centers), sum(p[1] for p in centers) / len(centers)
    radius, token = math.dist((cx, cy), centers[0]), layout.seats["Alice"][1]
    left = cx - (radius - token) * 0.9
    assert color(surface, left + 8, cy) == w.VILLAGE_BANNER
    assert count(surface, layout.village, w.VILLAGE_BANNER) > 2000
    assert fill_of(surface, layout, "Chloe") == w.ROLE_COLORS["seer"]  # revealed to everyone at the end
    wolves = replace(model, winner="wolves")
    surface, _ = render(wolves, UiState(full=False), artifacts / "game-over-wolves.png")
    assert color(surface, left + 8, cy) == w.WOLVES_BANNER


def test_full_view_reasoning_panel_for_the_selected_player(artifacts):
    model = at("discussion")
    surface, layout = render(
        model, UiState(full=True, selected="Alice", now=9.0), artifacts / "reasoning.png"
    )
    card = pygame.Rect(layout.side.x, layout.side.y, layout.side.width, layout.side.height // 2)
    assert count(surface, card, w.PURPLE) > 20  # the "day 1, discussion" headings of her thoughts
    (x, y), r = layout.seats["Alice"]
    assert any(color(surface, x, y - d) == w.CYAN for d in range(round(r + 4), round(r + 16)))  # selected
    public, layout = render(
        model, UiState(full=False, selected="Alice", now=9.0), artifacts / "card-public.png"
    )
    assert count(public, card, w.PURPLE) == 0


def test_connection_trouble_is_shown_on_screen(artifacts):
    model = apply(at("discussion"), Status(Link.RECONNECTING, "connection lost; retrying in 1 s", attempt=2))
    surface, layout = render(model, UiState(), artifacts / "reconnecting.png")
    banner = pygame.Rect(layout.village.x, layout.village.y, layout.village.width, 40)
    assert count(surface, banner, w.ORANGE) == 0  # blended: orange over the background, not pure
    assert any(color(surface, layout.village.x + 14, layout.village.y + y)[0] > 150 for y in range(8, 30))
    closed = apply(model, Status(Link.CLOSED, "server unreachable"))
    surface, layout = render(closed, UiState(), artifacts / "closed.png")
    reds = [color(surface, layout.village.x + 14, layout.village.y + y) for y in range(8, 30)]
    assert any(r > 150 and g < 100 for r, g, _ in reds)
    empty = render(ViewerModel(), UiState(source="ws://h:1/ws/v"), artifacts / "connecting.png")[1]
    assert empty.seats == {}


@pytest.mark.parametrize("size", [(640, 420), (1280, 800), (1920, 1080), (700, 900)])
def test_layout_scales_with_the_window(artifacts, size):
    _surface, layout = render(
        at("vote"), UiState(full=True, selected="Alice"), artifacts / f"size-{size[0]}x{size[1]}.png", size
    )
    assert layout.village.right == layout.side.left
    for (x, y), r in layout.seats.values():
        assert layout.village.left <= x - r
        assert x + r <= layout.village.right
        assert layout.village.top <= y - r
        assert y + r <= layout.village.bottom


def test_docs_screenshots_are_kept_and_small(tmp_path):
    shots = script.render_moments(tmp_path)
    for name in shots:
        kept = DOCS / name
        assert kept.exists(), f"regenerate with: python -m tests.viewer.scripted_game docs ({name})"
        image = pygame.image.load(str(kept))
        assert image.get_size() == SIZE
        assert kept.stat().st_size < 300_000


# ---------------------------------------------------------------------------------------- the app


def key(k: int, char: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, unicode=char, mod=0)


def test_app_keys_and_clicks_drive_a_replay(tmp_path):
    app = App(ReplayPlayer(load_replay(write_log(tmp_path / "g.jsonl"))), UiState(full=True))
    surface = pygame.Surface(SIZE)
    app.tick(0.05)
    app.frame(surface)
    assert app.model.seats
    assert app.ui.replay is not None
    app.handle(key(pygame.K_SPACE))
    assert app.ui.paused
    position = app.feed.position
    app.handle(key(pygame.K_RIGHT))
    assert app.feed.position > position
    app.handle(key(pygame.K_LEFT))
    assert app.feed.position <= position
    app.handle(key(pygame.K_PLUS, "+"))
    assert app.ui.speed == 2.0
    app.handle(key(pygame.K_MINUS, "-"))
    app.handle(key(pygame.K_MINUS, "-"))
    assert app.ui.speed == 0.5
    app.handle(key(pygame.K_f))
    assert not app.ui.full
    app.tick(0.05)
    app.frame(surface)
    (x, y), _ = app.layout.seats["Chloe"]
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(round(x), round(y))))
    assert app.ui.selected == "Chloe"
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=app.layout.village.center))
    assert app.ui.selected is None
    app.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2, flipped=False))
    assert app.ui.chat_scroll == 6
    app.handle(key(pygame.K_q, "q"))
    assert not app.running


def test_app_live_feed_never_waits_and_refuses_the_full_view_without_a_token():
    client = ViewerClient("ws://127.0.0.1:9/ws/v?client_type=ui")  # never started: nothing arrives
    app = App(LiveFeed(client), UiState(full=True))
    for _ in range(3):
        app.tick(1 / 30)  # returns at once: get_nowait on an empty queue
    client.out.put(Received(0.0, script.welcome(view="public")))
    app.tick(1 / 30)
    assert app.model.view == "public"
    assert not app.model.full_allowed
    app.handle(key(pygame.K_f))
    assert app.ui.toast is not None
    assert "admin token" in app.ui.toast
    app.handle(key(pygame.K_RIGHT))
    assert "replay" in (app.ui.toast or "")


# ---------------------------------------------------------------------------------------- the CLI


def test_cli_completes_a_bare_server_url_and_checks_others():
    url = spectator_url("ws://127.0.0.1:8765")
    assert url.startswith("ws://127.0.0.1:8765/ws/viewer-")
    assert url.endswith("?client_type=ui")
    printed = "ws://127.0.0.1:8765/ws/full-view?client_type=ui&token=abc"
    assert spectator_url(printed) == printed
    for bad in (
        "http://x:1",
        "ws://",
        "ws://h:99999",
        "ws://h:1/other/path",
        "ws://h:1/ws/a?client_type=agent",
    ):
        with pytest.raises(ValueError, match=r"URL|client_type"):
            spectator_url(bad)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["ws://h:1", "--replay", "x.jsonl"],
        ["http://h:1"],
        ["--replay", "missing.jsonl"],
        ["--replay", "x", "--token", "t"],
        ["ws://h:1", "--size", "big"],
    ],
)
def test_cli_bad_arguments_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_launch_starts_the_viewer_as_a_child_process(monkeypatch):
    started = {}

    class FakePopen:
        def __init__(self, command, **kwargs):
            started["command"], started["kwargs"] = command, kwargs

    monkeypatch.setattr("viewer.app.subprocess.Popen", FakePopen)
    launch("ws://127.0.0.1:8765/ws/viewer?client_type=ui", "SECRET")
    assert started["command"][1:] == ["-m", "viewer", "ws://127.0.0.1:8765/ws/viewer?client_type=ui"]
    assert "SECRET" not in " ".join(started["command"])  # not on a command line that `ps` shows
    assert started["kwargs"]["env"]["LOUPGAROU_TOKEN"] == "SECRET"
    assert Path(started["kwargs"]["cwd"], "viewer", "__main__.py").exists()
