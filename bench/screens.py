"""Screenshots of the browser page for the docs: `python -m bench.screens [--out docs]`.

One game of seven heuristic agents and a seat for a person (Chloe), played here through the page
itself in headless Chromium (playwright, the system's browser: `make browser-deps`). At the person's
second turn to speak, with a speech typed but not yet sent, it saves the person's page
(`page-human.png`), a spectator's (`page-live.png`) and the full view's (`page-full.png`); then it
plays on to the end and saves the full view with the winner (`page-over.png`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

from actors.heuristic import HeuristicAgent
from engine import PlayerId, preset
from net.hosting import Host
from net.server import NetworkServer, ServerConfig

SECRET = bytes(range(32))  # fixed: the same game every run
SEED = 4
PERSON = PlayerId("Chloe")
TURN_MS = 30_000
VIEWPORT = {"width": 1280, "height": 760}
SPEECH = "I am a plain villager. Whoever pushed hardest for a quick vote yesterday worries me most."


def _answer(page: Any) -> bool:
    """Answer the person's open request; True when it was a turn to speak (left typed, not sent)."""
    phase_id = page.locator("#seat").get_attribute("data-phase-id")
    if page.locator("#speech").count():
        page.locator("#speech").press_sequentially(SPEECH)
        return True
    if page.locator("#bid").count():
        page.locator("#bid").fill(page.locator("#bid").get_attribute("max") or "1")
        page.locator('button[data-kind="bid"]').click()
    elif page.locator("button.act[data-target]").count():
        page.locator("button.act[data-target]").first.click()
    else:
        page.locator('button[data-kind="abstain"]').click()
    page.wait_for_function(
        "(id) => document.querySelector('#seat').dataset.phaseId !== id"
        " || !document.querySelector('#winner').hidden",
        arg=phase_id,
        timeout=TURN_MS,
    )
    return False


def _play(page: Any, *, stop_at_speech: int | None) -> None:
    """Play the person's seat until its `stop_at_speech`-th turn to speak (typed, not sent), or the end."""
    spoken = 0
    for _ in range(300):
        page.wait_for_selector("#seat.open, #winner:not([hidden])", timeout=TURN_MS)
        if page.locator("#winner").is_visible():
            return
        phase_id = page.locator("#seat").get_attribute("data-phase-id")
        if _answer(page):
            spoken += 1
            if spoken == stop_at_speech:
                return
            page.locator('button[data-kind="speak"]').click()
            page.wait_for_function(
                "(id) => document.querySelector('#seat').dataset.phaseId !== id"
                " || !document.querySelector('#winner').hidden",
                arg=phase_id,
                timeout=TURN_MS,
            )
    raise RuntimeError("the game did not end")


def shoot(out: Path, executable: str) -> list[Path]:
    """Play the game and save the four screenshots under `out`."""
    server = NetworkServer(ServerConfig(port=0))
    server.start()
    config = preset("classic-8")
    seats = {p: (None if p == PERSON else HeuristicAgent(i)) for i, p in enumerate(config.players)}
    saved = []
    try:
        with Host(SECRET, server=server) as host, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            game = host.open_game(config, seats, seed=SEED)
            pages = {}
            for name, link in (
                ("live", game.page_url("127.0.0.1")),
                ("full", game.page_url("127.0.0.1", token=server.lobby.admin_token)),
                ("human", game.page_url("127.0.0.1", token=game.tokens[PERSON], seat=PERSON)),
            ):
                pages[name] = browser.new_context(viewport=VIEWPORT).new_page()
                pages[name].goto(link)
                expect(pages[name].locator("#status")).to_have_attribute("data-state", "connected")
            game.start(timeout_s=30, seat_timeouts={PERSON: 120.0}, hidden_turn_s=0.0)
            _play(pages["human"], stop_at_speech=2)
            for name in ("human", "live", "full"):
                saved.append(out / f"page-{name}.png")
                pages[name].screenshot(path=saved[-1], animations="disabled")
            if pages["human"].locator("#speech").count():
                pages["human"].locator('button[data-kind="speak"]').click()
            _play(pages["human"], stop_at_speech=None)
            expect(pages["full"].locator("#winner")).to_be_visible()
            saved.append(out / "page-over.png")
            pages["full"].screenshot(path=saved[-1], animations="disabled")
            game.wait(60)
            browser.close()
    finally:
        server.stop()
    return saved


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.screens", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNG files")
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="the browser binary")
    args = parser.parse_args(argv)
    if not args.chromium:
        parser.error("no chromium on PATH: apt-get install chromium (or --chromium PATH)")
    for path in shoot(args.out, args.chromium):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
