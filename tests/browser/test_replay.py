"""Replay in the page: a game log opened from disk (picker or drop; nothing uploaded), stepped through
with play, pause, speed and the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from actors.heuristic import HeuristicAgent
from actors.runner import play_game
from engine import preset


@pytest.fixture(scope="module")
def game_log(tmp_path_factory) -> Path:
    config = preset("classic-8")
    path = tmp_path_factory.mktemp("replay") / "game.jsonl"
    agents = {p: HeuristicAgent(i) for i, p in enumerate(config.players)}
    play_game(config, agents, seed=9, log_path=path, wait_s=60)
    return path


def _events(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [x["event"] for x in lines if x["kind"] == "event"]


def _position(page) -> tuple[int, int]:
    done, total = page.locator("#position").inner_text().split(" / ")
    return int(done), int(total)


def test_replay_steps_through_a_log(server, page, game_log):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method + " " + request.url))
    page.goto(f"http://127.0.0.1:{server.port}/?replay")
    page.locator("#file").set_input_files(str(game_log))
    events = _events(game_log)
    expect(page.locator("#position")).to_have_text(f"0 / {len(events)}")
    expect(page.locator("#view-name")).to_have_text("Replay: game.jsonl")
    page.locator("#step-forward").click()
    expect(page.locator("#position")).to_have_text(f"1 / {len(events)}")
    expect(page.locator("#log li")).to_have_count(1)
    expect(page.locator("#board .player")).to_have_count(8)
    # The log holds every secret: the replay shows the roles from the start.
    page.locator("#step-forward").click()
    expect(page.locator("#board .player .role").first).to_be_visible()
    page.locator("#step-back").click()
    expect(page.locator("#log li")).to_have_count(1)
    # Play at the highest speed moves on by itself; pause stops it.
    page.locator("#speed").select_option("16")
    page.locator("#play").click()
    page.wait_for_function("() => Number(document.querySelector('#timeline').value) >= 10", timeout=10_000)
    page.locator("#play").click()
    expect(page.locator("#play")).to_have_attribute("data-playing", "false")
    stopped = _position(page)[0]
    assert page.locator("#winner").is_hidden()
    # The timeline jumps anywhere: the end shows the winner, the start an empty table.
    page.eval_on_selector("#timeline", "(t) => { t.value = t.max; t.dispatchEvent(new Event('input')); }")
    expect(page.locator("#winner")).to_be_visible()
    assert _position(page) == (len(events), len(events))
    page.locator("#to-start").click()
    expect(page.locator("#log li")).to_have_count(0)
    assert stopped >= 10
    # Nothing was sent anywhere: only the page's own files were fetched, all with GET.
    assert all(r.startswith("GET ") for r in requests), requests
    assert not [r for r in requests if "game.jsonl" in r]


def test_a_dropped_log_replays_its_public_view_only_when_asked(server, page, game_log):
    page.goto(f"http://127.0.0.1:{server.port}/?replay")
    page.locator("#public-only").check()
    text = game_log.read_text()
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "dropped.jsonl", { type: "application/json" }));
            document.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
        }""",
        text,
    )
    expect(page.locator("#view-name")).to_have_text("Replay: dropped.jsonl")
    public = [e for e in _events(game_log) if e["audience"] == "public"]
    expect(page.locator("#position")).to_have_text(f"0 / {len(public)}")
    page.locator("#to-end").click()
    expect(page.locator("#winner")).to_be_visible()
    assert page.locator("#log li.secret, #log li.wolves, #log li.reasoning").count() == 0


def test_a_file_that_is_not_a_log_is_refused_with_a_reason(server, page, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    page.goto(f"http://127.0.0.1:{server.port}/?replay")
    page.locator("#file").set_input_files(str(bad))
    expect(page.locator("#status")).to_contain_text("cannot replay notes.txt: line 1 is not JSON")
