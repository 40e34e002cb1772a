"""The viewer's model: a pure fold of frames and status items (no pygame), and the replay reader."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from net.protocol import EVENT_MODELS, ErrorCode, ErrorFrame
from tests.viewer import scripted_game as script
from viewer.model import Ballot, LineKind, Link, Status, ViewerModel, apply, fold
from viewer.narrate import _NARRATORS, narrate
from viewer.replay import ReplayError, ReplayPlayer, is_notable, load_replay

EVENTS = script.events()


def seq_of(kind: str, nth: int = 1, **match: object) -> int:
    return script._seq_of(kind, nth, **match)


def upto(seq: int) -> ViewerModel:
    """The full-view model after events 0..seq."""
    return fold([script.welcome(), *EVENTS[: seq + 1]])


def same_game(a: ViewerModel, b: ViewerModel) -> bool:
    """Equal, ignoring the bookkeeping of how the frames arrived."""
    keep = {
        "game_id": None,
        "phase_started_at": None,
        "duplicates": 0,
        "link": Link.LIVE,
        "link_detail": "",
        "attempt": 0,
        "chat": (),
    }
    texts = [line.text for line in a.chat if line.kind is not LineKind.SYSTEM]
    other = [line.text for line in b.chat if line.kind is not LineKind.SYSTEM]
    return replace(a, **keep) == replace(b, **keep) and texts == other


# ---------------------------------------------------------------------------------------- a whole game


def test_scripted_game_folds_into_the_final_table():
    model = fold(script.stream())
    assert [s.name for s in model.seats] == script.PLAYERS
    assert model.game_over
    assert model.winner == "village"
    assert model.end_reason == "every werewolf is dead"
    assert {s.name: s.revealed_role for s in model.seats} == script.ROLES
    dead = {s.name: (s.death_cause, s.death_day) for s in model.seats if not s.alive}
    assert dead == {
        "Bruno": ("night", 1),
        "Damien": ("execution", 1),
        "Hugo": ("night", 2),
        "Alice": ("hunter", 2),
    }
    assert model.shot == ("Hugo", "Alice")
    assert [t.phase for t in model.reasoning["Alice"]] == ["night", "discussion"]
    assert model.next_seq == len(EVENTS)
    assert model.gap is None
    assert model.duplicates == 0
    assert not model.ended_abruptly
    assert model.chat[-1].text.startswith("Game over. The village wins")  # game_over adds no second line


def test_night_shows_secrets_in_the_model_and_marks_them():
    model = upto(seq_of("seer_learned"))
    assert model.is_night
    assert model.phase == "night"
    assert model.day == 1
    assert model.pack_target == "Bruno"
    assert model.inspected == {"Damien": True}
    assert model.wolves == {"Alice", "Damien"}
    assert model.seat("Alice").secret_role == "werewolf"
    assert model.seat("Alice").revealed_role is None
    kinds = {line.kind for line in model.chat}
    assert {LineKind.WOLVES, LineKind.PRIVATE, LineKind.NARRATION} <= kinds
    wolves = [line for line in model.chat if line.kind is LineKind.WOLVES]
    assert all(line.is_secret and line.audience == "wolves" for line in wolves)
    private = [line for line in model.chat if line.kind is LineKind.PRIVATE]
    assert private[0].audience == "player:Alice"
    assert private[0].is_secret
    assert not model.full_allowed or model.view == "full"


def test_dawn_clears_the_night_and_speech_sets_the_bubble():
    model = upto(seq_of("spoke"))
    assert not model.is_night
    assert model.pack_target is None
    assert model.dawn_deaths == ("Bruno",)
    assert model.speaker == "Chloe"
    assert model.phase == "discussion"
    assert model.bubble is not None
    assert model.bubble.speaker == "Chloe"
    assert model.bubble.kind is LineKind.SPEECH
    assert not model.bubble.is_secret
    assert model.last_speech["Chloe"].startswith("I am the seer")
    model = upto(seq_of("spoke") + 2)  # Damien's turn opens: Chloe's bubble goes
    assert model.speaker == "Damien"
    assert model.bubble is None


def test_votes_appear_as_cast_then_revealed_with_the_tally():
    cast = upto(seq_of("votes_revealed") - 1)
    assert cast.phase == "vote"
    assert Ballot("Chloe", "Damien", revealed=False) in cast.ballots
    assert len(cast.ballots) == 5
    assert cast.tally == ()
    revealed = apply(cast, EVENTS[seq_of("votes_revealed")])
    assert len(revealed.ballots) == 8
    assert all(b.revealed for b in revealed.ballots)
    assert Ballot("Bruno", None, revealed=True) in revealed.ballots  # an abstention
    assert revealed.tally == (("Damien", 5), ("Chloe", 2))
    assert revealed.vote_round == 1
    night = upto(seq_of("night_fell", 2))
    assert night.ballots == ()
    assert night.tally == ()


def test_time_in_phase_comes_from_the_items_arrival_time():
    model = apply(upto(seq_of("phase_started", 2) - 1), EVENTS[seq_of("phase_started", 2)], at=12.5)
    assert model.phase == "discussion"
    assert model.phase_started_at == 12.5
    assert apply(model, EVENTS[model.next_seq], at=20.0).phase_started_at == 12.5  # a speech is no new phase


def test_every_wire_event_type_has_a_narration_rule_and_requests_are_ignored():
    assert set(_NARRATORS) == set(EVENT_MODELS)
    for frame in EVENTS:
        line = narrate(frame.model_dump(mode="json")["event"])
        assert line is None or line.strip()
    model = upto(3)
    assert apply(model, ErrorFrame(type="error", code=ErrorCode.NO_GAME, message="none", closing=True)).error


# ---------------------------------------------------------------------------------------- sequencing


def test_duplicate_frames_are_ignored():
    model = upto(20)
    again = apply(model, EVENTS[5])
    assert again.duplicates == 1
    assert replace(again, duplicates=0) == model


def test_a_gap_is_flagged_and_the_frames_wait_until_it_fills():
    model = upto(4)
    model = apply(model, EVENTS[7])
    model = apply(model, EVENTS[8])
    assert model.gap == (5, 6)
    assert model.next_seq == 5
    assert [f.seq for f in model.pending] == [7, 8]
    assert model.seat("Gaelle").secret_role is None  # event 7 (Gaelle's role) waits
    model = apply(model, EVENTS[8])  # a duplicate of a waiting frame
    assert model.duplicates == 1
    model = apply(model, EVENTS[5])
    assert model.gap == (6, 6)
    model = apply(model, EVENTS[6])
    assert model.gap is None
    assert model.pending == ()
    assert model.next_seq == 9
    assert same_game(model, upto(8))


def test_resume_after_reconnection_skips_what_was_held():
    model = upto(15)
    model = apply(model, Status(Link.RECONNECTING, "connection lost", attempt=1))
    assert model.link is Link.RECONNECTING
    assert model.attempt == 1
    model = apply(model, script.welcome())
    assert model.link is Link.LIVE
    for frame in EVENTS[12:30]:  # the server resends from resume_from; the first four are held
        model = apply(model, frame)
    assert model.duplicates == 4
    assert model.gap is None
    assert same_game(model, upto(29))
    notes = [line.text for line in model.chat if line.kind is LineKind.SYSTEM]
    assert notes == ["reconnecting: connection lost"]


def test_game_over_with_an_open_gap_applies_what_waited_and_remembers_the_loss():
    model = upto(40)
    model = apply(model, EVENTS[44])
    model = apply(model, EVENTS[45])
    model = apply(model, script.game_over())
    assert model.game_over
    assert model.winner == "village"
    assert model.pending == ()
    assert model.gap is None
    assert model.missed == ((41, 43),)
    assert model.next_seq == 46


def test_a_connection_closed_without_game_over_is_an_abrupt_end():
    model = upto(seq_of("votes_revealed"))
    model = apply(model, Status(Link.RECONNECTING, "the server closed the connection", attempt=1))
    assert not model.ended_abruptly
    model = apply(model, Status(Link.RECONNECTING, "cannot connect", attempt=2))
    model = apply(model, Status(Link.CLOSED, "server unreachable; gave up after 8 attempts"))
    assert model.ended_abruptly
    assert not model.game_over
    assert model.winner is None
    assert model.link_detail.startswith("server unreachable")
    notes = [line.text for line in model.chat if line.kind is LineKind.SYSTEM]
    assert len(notes) == 2  # one per change of state, not one per attempt
    assert notes[-1].startswith("closed: ")


def test_the_normal_end_is_not_abrupt():
    model = apply(fold(script.stream()), Status(Link.ENDED, "game over; the server closed the connection"))
    assert model.link is Link.ENDED
    assert not model.ended_abruptly
    assert model.chat[-1].text.startswith("Game over")


# ---------------------------------------------------------------------------------------- replay


def write_log(path: Path, *, complete: bool = True) -> Path:
    lines = [{"kind": "game", "t": 0.0, "game_id": "g-log", "record_format": 1}]
    events = EVENTS if complete else EVENTS[:30]
    for i, frame in enumerate(events):
        lines.append(
            {"kind": "event", "t": i * 0.5, "seq": frame.seq, "event": frame.model_dump(mode="json")["event"]}
        )
        lines.append({"kind": "request", "t": i * 0.5, "player": "Alice"})
    if complete:
        lines.append(
            {"kind": "finished", "t": 99.0, "aborted": False, "faults": dict.fromkeys(script.PLAYERS, 0)}
        )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_a_log_replays_as_the_full_view_stream(tmp_path):
    replay = load_replay(write_log(tmp_path / "g.jsonl"))
    assert replay.complete
    assert replay.game_id == "g-log"
    model = fold(r.item for r in replay.items)
    assert model.link is Link.REPLAY
    assert model.full_allowed
    assert same_game(replace(model, game_id="g-script"), fold(script.stream()))
    assert replay.items[-1].item.faults == dict.fromkeys(script.PLAYERS, 0)


def test_a_log_cut_short_ends_abruptly(tmp_path):
    replay = load_replay(write_log(tmp_path / "g.jsonl", complete=False))
    model = fold(r.item for r in replay.items)
    assert not replay.complete
    assert model.ended_abruptly
    assert model.link_detail == "the log ends before the game does"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("not json\n", "not JSON"),
        ('{"kind": "event", "seq": 0, "event": {}}\n', "no 'game' header"),
        ('{"kind": "game"}\n{"kind": "event", "seq": 0, "event": {"type": "nope"}}\n', "not a valid event"),
    ],
)
def test_bad_logs_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ReplayError, match=message):
        load_replay(path)


def test_replay_player_plays_by_time_and_steps_both_ways(tmp_path):
    player = ReplayPlayer(load_replay(write_log(tmp_path / "g.jsonl")))
    assert player.position == 2
    assert player.model.view == "full"
    player.advance(0.01, speed=1.0)
    assert player.model.seats  # game_started is due at once
    player.advance(1000.0, speed=32.0)
    assert player.at_end
    assert player.model.game_over
    end = player.position
    player.step_back()
    assert player.position < end
    assert is_notable(player.items[player.position - 1].item)
    player.step_forward()
    assert player.position == end
    player.seek(0)
    assert player.position == 2
    assert not player.model.seats
    player.step_forward()
    assert player.model.seats
    assert player.position == 3
    assert player.now == player.items[2].at
    player.seek(seq_of("votes_revealed") + 3)
    assert same_game(replace(player.model, link=Link.LIVE), upto(seq_of("votes_revealed")))
