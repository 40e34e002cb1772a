"""A person plays a seat from the page: `run.py --seat 3=human` prints the link, the page plays a whole
game through clicks and typing against seven built-in agents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
TURN_MS = 30_000  # the longest the page may wait for its next request (the agents answer at once)
PLAYER = "Chloe"


def _start_host(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    # A fixed host secret: seed 4 is then the same deal on every machine (with the machine's own secret,
    # the person's seat could die before its second turn, or before its first).
    secret = tmp_path / "host-secret"
    secret.write_text(bytes(range(32)).hex() + "\n")
    secret.chmod(0o600)
    host = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "--host-secret",
            str(secret),
            "--seed",
            "4",
            "--seat",
            "3=human",
            "--port",
            "0",
            "--quiet",
            "--hidden-turn",
            "0",  # no cover: it would hold each night for the person's whole deadline
            "--log",
            str(tmp_path / "game.jsonl"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert host.stdout is not None
    for _ in range(20):  # the seat's link is among the first lines
        line = host.stdout.readline()
        if line.startswith(f"Seat 3 ({PLAYER}), for a person"):
            return host, line.rsplit(": ", 1)[1].strip()
    host.kill()
    raise AssertionError("run.py printed no link for the human seat")


def _play_one_turn(page, turn: int) -> None:
    """Answer the open request: speak (typed), bid, or click the first target (else abstain)."""
    phase_id = page.locator("#seat").get_attribute("data-phase-id")
    if page.locator("#speech").count():
        page.locator("#speech").press_sequentially(f"Turn {turn}: I am a simple villager, trust me.")
        page.locator('button[data-kind="speak"]').click()
    elif page.locator("#bid").count():
        page.locator("#bid").fill(page.locator("#bid").get_attribute("max") or "1")  # to get the floor
        page.locator('button[data-kind="bid"]').click()
    elif page.locator("button.act[data-target]").count():
        page.locator("button.act[data-target]").first.click()
    else:
        page.locator('button[data-kind="abstain"]').click()
    # Wait until this request is answered and gone (or the game ended).
    page.wait_for_function(
        "(id) => document.querySelector('#seat').dataset.phaseId !== id"
        " || !document.querySelector('#winner').hidden",
        arg=phase_id,
        timeout=TURN_MS,
    )


def test_a_person_plays_a_whole_game_from_the_page(tmp_path, page):
    host, link = _start_host(tmp_path)
    try:
        assert "#seat=Chloe&token=" in link
        assert "?" not in link
        page.goto(link)
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        expect(page.locator("#view-name")).to_have_text(f"Playing {PLAYER}")
        turns = 0
        for _ in range(300):
            page.wait_for_selector("#seat.open, #winner:not([hidden])", timeout=TURN_MS)
            if page.locator("#winner").is_visible():
                break
            if turns == 0:  # the request shows who the player is and the time left
                expect(page.locator("#you")).to_contain_text(f"You are {PLAYER}, the ")
                expect(page.locator("#time-left")).to_contain_text("s left")
            turns += 1
            _play_one_turn(page, turns)
        expect(page.locator("#winner")).to_be_visible()
        assert turns >= 2
        expect(page.locator(f'#board .player.you[data-player="{PLAYER}"]')).to_have_count(1)
        out = host.communicate(timeout=60)[0]
        assert host.returncode == 0
        assert "Agents: HeuristicAgent x7, remote x1." in out
        assert "Result:" in out
    finally:
        host.kill()
        host.wait()
    lines = [json.loads(line) for line in (tmp_path / "game.jsonl").read_text().splitlines()]
    answers = [x for x in lines if x["kind"] == "answer" and x["player"] == PLAYER]
    assert len(answers) == turns
    assert all(a["status"] == "accepted" for a in answers)
    faults = [x for x in lines if x["kind"] == "event" and x["event"]["type"] == "player_faulted"]
    assert not [f for f in faults if f["event"]["player"] == PLAYER]
    said = [x["event"]["text"] for x in lines if x["kind"] == "event" and x["event"]["type"] == "spoke"]
    assert any(text.startswith("Turn ") for text in said)
    assert page.errors == []
