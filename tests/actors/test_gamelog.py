"""The JSON Lines log: its lines, and replaying a game from it (whole or cut short)."""

from __future__ import annotations

import json
import stat

import pytest

from actors.agents import RandomAgent
from actors.gamelog import GameLog, GameLogError, load_record
from actors.runner import play_game
from engine import ReplayError, event_to_dict, game_key, preset, replay


def _play(tmp_path, seed=9):
    config = preset("agentscope-9")
    path = tmp_path / "game.jsonl"
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    finished = play_game(config, agents, seed=seed, log_path=path, wait_s=20)
    return finished, path


def test_log_has_every_event_request_and_answer(tmp_path):
    finished, path = _play(tmp_path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "game"
    assert kinds[-2:] == ["record", "finished"]
    events = [line for line in lines if line["kind"] == "event"]
    assert [e["seq"] for e in events] == list(range(len(finished.record["events"])))
    assert [e["event"] for e in events] == finished.record["events"]
    assert all("audience" in e["event"] for e in events)
    requests = [line for line in lines if line["kind"] == "request"]
    answers = [line for line in lines if line["kind"] == "answer"]
    assert requests
    assert len(answers) == len(requests)
    assert all(a["status"] == "accepted" and a["thought_s"] >= 0 for a in answers)
    assert [line["input"] for line in lines if line["kind"] == "input"] == finished.record["inputs"]


def test_replay_from_log_reproduces_the_outcome(tmp_path):
    finished, path = _play(tmp_path)
    game = replay(load_record(path))
    assert game.outcome() == finished.outcome


def test_a_log_cut_short_replays_up_to_where_it_stops(tmp_path):
    _, path = _play(tmp_path)
    lines = path.read_text().splitlines()
    cut = [line for line in lines if json.loads(line)["kind"] not in {"record", "finished"}]
    input_lines = [i for i, line in enumerate(cut) if json.loads(line)["kind"] == "input"]
    keep = input_lines[len(input_lines) // 2]  # stop halfway through the game
    short = tmp_path / "short.jsonl"
    short.write_text("\n".join(cut[:keep]) + "\n")
    record = load_record(short)
    assert len(record["inputs"]) == len(input_lines) // 2
    game = replay(record)
    assert game.inputs == tuple(record["inputs"])


def test_tampered_log_fails_replay(tmp_path):
    _, path = _play(tmp_path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    record_line = next(line for line in lines if line["kind"] == "record")
    record_line["record"]["seed"] += 1
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(ReplayError):
        replay(load_record(path))


def test_not_a_log(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(GameLogError, match="not JSON"):
        load_record(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(GameLogError, match="no 'game' header"):
        load_record(empty)
    with pytest.raises(GameLogError, match="cannot read"):
        load_record(tmp_path / "missing.jsonl")


def test_a_keyed_game_replays_from_its_log_whole_or_cut_short(tmp_path):
    config = preset("classic-8")
    path = tmp_path / "keyed.jsonl"
    key = game_key(bytes(32), 5)
    agents = {p: RandomAgent(i) for i, p in enumerate(config.players)}
    finished = play_game(config, agents, seed=5, key=key, log_path=path, wait_s=20)
    assert finished.record["key"] == key.hex()
    assert replay(load_record(path)).outcome() == finished.outcome
    lines = path.read_text().splitlines()
    cut = [line for line in lines if json.loads(line)["kind"] not in {"record", "finished"}]
    short = tmp_path / "short.jsonl"
    short.write_text("\n".join(cut) + "\n")
    record = load_record(short)  # rebuilt from the header: it must carry the key too
    assert record["key"] == key.hex()
    assert [event_to_dict(e) for e in replay(record, check=False).events] == finished.record["events"]
    wrong = dict(finished.record, key=game_key(bytes(32), 6).hex())
    with pytest.raises(ReplayError):
        replay(wrong)


def test_a_log_is_readable_by_its_owner_only(tmp_path):
    existing = tmp_path / "runs" / "game.jsonl"
    existing.parent.mkdir(mode=0o755)
    existing.write_text("old\n")
    existing.chmod(0o644)
    GameLog(existing).close()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    fresh = tmp_path / "new" / "deeper" / "game.jsonl"
    GameLog(fresh).close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
