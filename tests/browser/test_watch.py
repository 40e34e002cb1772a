"""The page watches live games: the public view, the full view with the admin token, the winner."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from actors.heuristic import HeuristicAgent
from engine import PlayerId, preset
from net.hosting import Host
from tests.proof.remote_kit import SECRET

GAME_WAIT_S = 60.0


def _host_and_watch(server, page, fragment: str = "", seed: int = 3):
    """Open a game of heuristic agents, let the page connect, play it to its end; returns the game's
    outcome, the roles and the frames the page received."""
    config = preset("classic-8")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    with Host(SECRET, server=server) as host:
        game = host.open_game(config, {p: HeuristicAgent(i) for i, p in enumerate(config.players)}, seed=seed)
        page.goto(f"http://127.0.0.1:{server.port}/{fragment}")
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        finished = game.play(timeout_s=10, wait_s=GAME_WAIT_S)
    roles = {PlayerId(p): r.value for p, r in finished.roles.items()}
    return finished, roles, frames


def test_the_page_watches_a_whole_game_and_shows_the_winner(server, page):
    finished, roles, _ = _host_and_watch(server, page)
    winner = finished.outcome.winner.value
    expect(page.locator("#winner")).to_have_attribute("data-winner", winner, timeout=15_000)
    expect(page.locator("#winner")).to_contain_text("wins")
    expect(page.locator("#board .player")).to_have_count(8)
    expect(page.locator("#log li").first).to_contain_text("8 players sit down")
    expect(page.locator("#log li.speech").first).to_be_visible()
    # At the end every role is public: the board shows them all.
    for player, role in roles.items():
        expect(page.locator(f'#board .player[data-player="{player}"] .role')).to_have_text(role)
    assert page.errors == []


def test_the_public_page_never_shows_a_secret(server, page):
    _, roles, frames = _host_and_watch(server, page)
    expect(page.locator("#winner")).to_be_visible(timeout=15_000)
    # The public view received no private event at all...
    assert frames
    assert all('"audience":"public"' in f or '"type":"event"' not in f for f in frames)
    log = page.locator("#log").inner_text()
    wolves = [p for p, r in roles.items() if r == "werewolf"]
    # ...and showed nothing of the night's secrets or the wolves' chat before the end.
    before_end = log.split("Game over.")[0]
    for secret in ("The werewolves are", "The wolves attack", "learns that", "Night 1 resolved", " thinks:"):
        assert secret not in before_end
    assert page.locator("#log li.wolves").count() == 0
    assert page.locator("#log li.secret").count() == 0
    assert wolves


def test_the_full_view_shows_roles_only_with_the_admin_token(server, page, browser):
    admin = server.lobby.admin_token
    _host_and_watch(server, page, f"#token={admin}")
    expect(page.locator("#status")).to_contain_text("game over")
    expect(page.locator("#log li.wolves").first).to_be_visible()
    expect(page.locator("#log li.secret").first).to_be_visible()
    # The token left the address bar once read.
    assert admin not in page.url
    # A wrong token shows no full view: the server refuses it.
    other = browser.new_context().new_page()
    try:
        other.goto(f"http://127.0.0.1:{server.port}/#token=not-the-admin-token")
        expect(other.locator("#status")).to_have_attribute("data-state", "failed")
        expect(other.locator("#status")).to_contain_text(re.compile("wrong token"))
        expect(other.locator("#board .player .role")).to_have_count(0)
    finally:
        other.context.close()


def test_the_token_is_never_in_a_url_the_page_requests(server, page):
    admin = server.lobby.admin_token
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("websocket", lambda ws: urls.append(ws.url))
    _host_and_watch(server, page, f"#token={admin}")
    expect(page.locator("#winner")).to_be_visible(timeout=15_000)
    assert any("/ws/" in u for u in urls)
    assert all(admin not in u for u in urls), urls
    stored = page.evaluate("() => JSON.stringify(localStorage) + document.cookie")
    assert admin not in stored
