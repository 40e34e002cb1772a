"""The sans-IO codec: client frames in (and every way they can be wrong), server frames out.

Server frames are built from engine values; they are checked against `SERVER_FRAME` through the real wire
path (`json_bytes` then `validate_json`), over every event of random full games of every preset, so the
payload models generated from `engine.events` are proven to match what the engine emits.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

from actors.messages import RequestAction
from engine import (
    PRESETS,
    Abstain,
    ActionKind,
    Bid,
    Game,
    Heal,
    Inspect,
    Kill,
    Poison,
    Protect,
    Shoot,
    Speak,
    Vote,
    action_to_dict,
    preset,
)
from engine.events import EVENT_TYPES
from net.codec import (
    decode_client_frame,
    error_dict,
    event_dicts,
    game_over_dict,
    json_bytes,
    request_dict,
    text_frame,
    to_engine_action,
)
from net.errors import RemoteProtocolError
from net.protocol import (
    MAX_ID,
    MAX_TEXT,
    PROTOCOL_VERSION,
    SERVER_FRAME,
    TOKEN_RULE,
    Act,
    ErrorCode,
    EventFrame,
    GameOver,
    Hello,
    Ping,
    Pong,
    RequestFrame,
    TargetAction,
)
from tests.engine.helpers import awaited, play_random

SEEDS = range(6)  # with a 5% deadline rate, seeds 0-5 of the four presets emit every event type


class NullRecipient:
    def tell(self, message: Any) -> None:
        pass


def rejected(text: str) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        decode_client_frame(text)
    assert info.value.close_code is None  # the codec never closes: the connection decides
    return info.value


def act_text(action: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"type": "act", "phase_id": 12345, "action": action, **extra})


def wire_roundtrip(frame: dict[str, Any]) -> Any:
    """Validate a server frame the way a client receives it; return the parsed model."""
    data = json_bytes(frame)
    model = SERVER_FRAME.validate_json(data)
    assert model.model_dump(mode="json", exclude_unset=True) == json.loads(data)
    return model


# ---------------------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    "frame",
    [
        Hello(type="hello", protocol_version=PROTOCOL_VERSION),
        Hello(
            type="hello", protocol_version=PROTOCOL_VERSION, token="seat-token", resume_from=17, name="Bot"
        ),
        Act(type="act", phase_id=987654, action=TargetAction(kind="vote", target="Alice"), player="Bruno"),
        Ping(type="ping"),
        Ping(type="ping", nonce="n-1"),
    ],
    ids=["hello", "hello-full", "act", "ping", "ping-nonce"],
)
def test_client_frames_round_trip(frame: Hello | Act | Ping):
    assert decode_client_frame(frame.model_dump_json()) == frame
    assert decode_client_frame(frame.model_dump_json(exclude_defaults=True)) == frame


def test_hello_defaults():
    hello = decode_client_frame('{"type": "hello", "protocol_version": 1}')
    assert hello == Hello(type="hello", protocol_version=1, token=None, resume_from=0, name=None)


ACTIONS = {
    ActionKind.SPEAK: ({"kind": "speak", "text": "I suspect Chloe."}, Speak("I suspect Chloe.")),
    ActionKind.BID: ({"kind": "bid", "amount": 3}, Bid(3)),
    ActionKind.VOTE: ({"kind": "vote", "target": "Alice"}, Vote("Alice")),
    ActionKind.KILL: ({"kind": "kill", "target": "Alice"}, Kill("Alice")),
    ActionKind.INSPECT: ({"kind": "inspect", "target": "Alice"}, Inspect("Alice")),
    ActionKind.PROTECT: ({"kind": "protect", "target": "Alice"}, Protect("Alice")),
    ActionKind.HEAL: ({"kind": "heal", "target": "Alice"}, Heal("Alice")),
    ActionKind.POISON: ({"kind": "poison", "target": "Alice"}, Poison("Alice")),
    ActionKind.SHOOT: ({"kind": "shoot", "target": "Alice"}, Shoot("Alice")),
    ActionKind.ABSTAIN: ({"kind": "abstain"}, Abstain()),
}


def test_every_action_kind_is_covered():
    assert set(ACTIONS) == set(ActionKind)


@pytest.mark.parametrize("kind", list(ActionKind), ids=str)
def test_every_action_kind_decodes_to_its_engine_action(kind: ActionKind):
    wire, engine_action = ACTIONS[kind]
    frame = decode_client_frame(act_text(wire))
    assert isinstance(frame, Act)
    assert frame.phase_id == 12345
    assert frame.player is None
    action = to_engine_action(frame.action)
    assert action == engine_action
    assert type(action) is type(engine_action)
    assert action_to_dict(action) == wire
    assert decode_client_frame(frame.model_dump_json()) == frame


def test_unknown_type_names_the_tag_and_the_expected_ones():
    error = rejected('{"type": "cast_vote", "target": "Alice"}')
    assert error.code is ErrorCode.INVALID_FRAME
    assert '"cast_vote"' in error.detail
    assert "hello, act, ping" in error.detail


def test_unknown_type_is_quoted_back_briefly():
    error = rejected(json.dumps({"type": "x" * 10_000}))
    assert len(error.detail) < 200


@pytest.mark.parametrize("text", ["{}", '{"protocol_version": 1}', '{"Type": "hello"}'])
def test_missing_type(text: str):
    error = rejected(text)
    assert error.code is ErrorCode.INVALID_FRAME
    assert "no 'type' field" in error.detail
    assert "hello, act, ping" in error.detail


@pytest.mark.parametrize("text", ["[]", "3", '"x"', "null", "true", '[{"type": "ping"}]'])
def test_non_object_json(text: str):
    error = rejected(text)
    assert error.code is ErrorCode.INVALID_FRAME
    assert error.detail == "a frame must be a JSON object"


@pytest.mark.parametrize(
    "text",
    ["", " ", "{", '{"type": "ping"', "{'type': 'ping'}", '{"type": "ping"} {}', "ping", '{"type": "ping",}'],
)
def test_invalid_json(text: str):
    error = rejected(text)
    assert error.code is ErrorCode.INVALID_JSON
    assert error.detail.startswith("not valid JSON: ")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"type": "hello", "protocol_version": 1, "extra": 1}', "hello.extra"),
        ('{"type": "ping", "nonce": "n", "timestamp": 1.5}', "ping.timestamp"),
        (act_text({"kind": "abstain"}, reason="why not"), "act.reason"),
        (act_text({"kind": "abstain", "target": "Alice"}), "act.action.abstain.target"),
        (act_text({"kind": "vote", "target": "Alice", "text": "hi"}), "act.action.vote.text"),
        (act_text({"kind": "speak", "text": "hi", "amount": 2}), "act.action.speak.amount"),
    ],
)
def test_extra_fields_are_rejected(text: str, where: str):
    error = rejected(text)
    assert error.code is ErrorCode.INVALID_FRAME
    assert f"{where}: Extra inputs are not permitted" in error.detail


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"type": "hello", "protocol_version": "1"}', "hello.protocol_version"),
        ('{"type": "hello", "protocol_version": true}', "hello.protocol_version"),
        ('{"type": "hello", "protocol_version": 1.0}', "hello.protocol_version"),
        ('{"type": "hello", "protocol_version": 1, "token": 42}', "hello.token"),
        ('{"type": "hello", "protocol_version": 1, "resume_from": "3"}', "hello.resume_from"),
        ('{"type": "ping", "nonce": 1}', "ping.nonce"),
        ('{"type": "act", "phase_id": "12", "action": {"kind": "abstain"}}', "act.phase_id"),
        ('{"type": "act", "phase_id": 1.5, "action": {"kind": "abstain"}}', "act.phase_id"),
        ('{"type": "act", "phase_id": 12, "action": "abstain"}', "act.action"),
        ('{"type": "act", "phase_id": 12, "action": []}', "act.action"),
        ('{"type": "act", "phase_id": 12}', "act.action"),
        (act_text({"kind": "abstain"}, player=7), "act.player"),
        (act_text({"kind": "bid", "amount": "3"}), "act.action.bid.amount"),
        (act_text({"kind": "bid", "amount": True}), "act.action.bid.amount"),
        (act_text({"kind": "bid", "amount": 2.0}), "act.action.bid.amount"),
        (act_text({"kind": "vote", "target": 3}), "act.action.vote.target"),
        (act_text({"kind": "vote"}), "act.action.vote.target"),
        (act_text({"kind": "speak", "text": None}), "act.action.speak.text"),
    ],
)
def test_wrong_field_types_are_rejected_not_coerced(text: str, where: str):
    error = rejected(text)
    assert error.code is ErrorCode.INVALID_FRAME
    assert error.detail.startswith(f"invalid frame: {where}: "), error.detail


def test_bad_action_kind_is_reported_on_the_action_not_the_frame():
    unknown = rejected(act_text({"kind": "fly"}))
    assert unknown.detail.startswith("invalid frame: act.action: ")
    assert "'fly'" in unknown.detail
    assert "'speak', 'bid', 'vote'" in unknown.detail
    missing = rejected(act_text({"target": "Alice"}))
    assert missing.detail.startswith("invalid frame: act.action: ")
    assert "'kind'" in missing.detail


def test_several_problems_are_listed_and_counted():
    text = json.dumps({"type": "hello", "protocol_version": "1", "a": 1, "b": 2, "c": 3, "d": 4})
    error = rejected(text)
    assert error.detail.count(": ") >= 3
    assert error.detail.endswith("(and 2 more)")


def test_client_chosen_field_names_are_not_echoed_in_full():
    error = rejected(json.dumps({"type": "ping", "k" * 50_000: 1}))
    assert len(error.detail) < 1_000


@pytest.mark.parametrize(
    ("make", "limit", "where"),
    [
        (lambda s: act_text({"kind": "speak", "text": s}), MAX_TEXT, "act.action.speak.text"),
        (lambda s: act_text({"kind": "vote", "target": s}), MAX_ID, "act.action.vote.target"),
        (lambda s: act_text({"kind": "abstain"}, player=s), MAX_ID, "act.player"),
        (lambda s: json.dumps({"type": "hello", "protocol_version": 1, "name": s}), MAX_ID, "hello.name"),
        (lambda s: json.dumps({"type": "ping", "nonce": s}), MAX_ID, "ping.nonce"),
    ],
    ids=["speech", "target", "player", "name", "nonce"],
)
def test_oversize_text_fields(make: Any, limit: int, where: str):
    decode_client_frame(make("é" * limit))  # the limit counts characters, not bytes
    error = rejected(make("é" * (limit + 1)))
    assert error.code is ErrorCode.INVALID_FRAME
    assert error.detail == f"invalid frame: {where}: String should have at most {limit} characters"


@pytest.mark.parametrize("token", ["é" * 16, "x" * 65, "tok en", "", "tok\u0000en"])
def test_a_token_outside_its_alphabet_is_bad_token(token: str):
    decode_client_frame(json.dumps({"type": "hello", "protocol_version": 1, "token": "aZ09_-" * 10 + "abcd"}))
    error = rejected(json.dumps({"type": "hello", "protocol_version": 1, "token": token}))
    assert error.code is ErrorCode.BAD_TOKEN  # the session closes the connection (4003)
    assert error.detail == TOKEN_RULE


def test_negative_resume_from():
    error = rejected('{"type": "hello", "protocol_version": 1, "resume_from": -1}')
    assert error.code is ErrorCode.INVALID_FRAME
    assert error.detail.startswith("invalid frame: hello.resume_from: Input should be greater than or equal")


def test_decoded_frames_are_frozen():
    frame = decode_client_frame('{"type": "ping", "nonce": "a"}')
    with pytest.raises(ValueError, match="frozen"):
        frame.nonce = "b"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------- encoding


def test_request_frame_from_a_real_request():
    game = Game.new(preset("agentscope-9"), seed=1)
    player = awaited(game)[0]
    observation = game.observe(player)
    request = RequestAction(
        game_id="g-1",
        phase_id=game.phase_id,
        player=player,
        observation=observation,
        choices=game.legal_actions(player),
        deadline=100.0,
        reply_to=NullRecipient(),
    )
    frame = wire_roundtrip(request_dict(request, seen=len(observation.events), now=70.1234567))
    assert isinstance(frame, RequestFrame)
    assert frame.phase_id == game.phase_id
    assert frame.seconds_left == 29.877
    assert frame.you.player == player
    assert frame.you.role == game.role_of(player)
    assert frame.seen == len(observation.events)
    assert [c.kind for c in frame.choices] == [c.kind for c in game.legal_actions(player)]
    late = request_dict(request, seen=0, now=200.0)
    assert late["seconds_left"] == 0.0


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_request_of_a_random_game_is_a_valid_frame(name: str):
    game = Game.new(preset(name), seed=3)
    kinds: set[str] = set()

    def check_requests(game: Game) -> None:
        for player in awaited(game):
            observation = game.observe(player)
            request = RequestAction(
                game_id="g",
                phase_id=game.phase_id,
                player=player,
                observation=observation,
                choices=game.legal_actions(player),
                deadline=5.0,
                reply_to=NullRecipient(),
            )
            frame = wire_roundtrip(request_dict(request, seen=len(observation.events), now=0.0))
            kinds.update(c.kind for c in frame.choices)

    check_requests(game)
    play_random(game, random.Random(3), after_step=check_requests)
    assert {"vote", "abstain", "kill"} <= kinds


def test_every_event_of_random_games_is_a_valid_frame():
    seen_types: set[str] = set()
    for name in PRESETS:
        for seed in SEEDS:
            game = Game.new(preset(name), seed=seed)
            game.note_reasoning(game.players[0], "I will play it safe tonight.")  # agents' reasoning, too
            play_random(game, random.Random(seed), deadline_rate=0.05)
            frames = event_dicts(0, game.events)
            assert [f["seq"] for f in frames] == list(range(len(game.events)))
            for frame in frames:
                model = wire_roundtrip(frame)
                assert isinstance(model, EventFrame)
                seen_types.add(model.event.type)  # type: ignore[attr-defined]
            for player in game.players:  # one player's view, numbered from where a resume would start
                events = game.observe(player).events
                assert [f["seq"] for f in event_dicts(5, events)] == list(range(5, 5 + len(events)))
    assert seen_types == set(EVENT_TYPES), "some event types never occurred: add seeds or presets"


def test_game_over_frames():
    game = Game.new(preset("aiwolf-5"), seed=2)
    play_random(game, random.Random(2))
    outcome = game.outcome()
    assert outcome is not None
    roles = {p: game.role_of(p).value for p in game.players}
    faults = dict.fromkeys(game.players, 0)
    over = wire_roundtrip(game_over_dict("g-2", outcome, roles, faults))
    assert isinstance(over, GameOver)
    assert over.winner == outcome.winner
    assert over.termination == outcome.termination.value
    assert over.day == outcome.day
    assert over.roles == {p: game.role_of(p) for p in game.players}
    aborted = wire_roundtrip(game_over_dict("g-3", None, roles, faults))
    assert (aborted.winner, aborted.termination, aborted.reason) == (None, None, "the game was aborted")


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
@pytest.mark.parametrize("closing", [False, True])
def test_error_frames(code: ErrorCode, closing: bool):
    frame = wire_roundtrip(error_dict(code, "what went wrong", closing=closing))
    assert (frame.code, frame.message, frame.closing) == (code, "what went wrong", closing)


def test_json_bytes_of_models_and_dicts():
    assert (
        json_bytes(Pong(type="pong", nonce="é"))
        == '{"type":"pong","message_type":"pong","nonce":"é"}'.encode()
    )
    assert json_bytes({"type": "pong", "nonce": "é"}) == '{"type":"pong","nonce":"é"}'.encode()


# ---------------------------------------------------------------------------------------- framing


@pytest.mark.parametrize(
    ("length", "header_size"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (70000, 10)]
)
def test_text_frame_decodes_in_a_wsproto_client(length: int, header_size: int):
    text = "é" * (length // 2) + "x" * (length % 2)  # multi-byte characters: lengths count bytes
    payload = text.encode()
    assert len(payload) == length
    frame = text_frame(payload)
    assert len(frame) == header_size + length  # the shortest length encoding (RFC 6455 5.2)
    client = FrameProtocol(client=True, extensions=[])  # a client rejects masked frames from a server
    half = len(frame) // 2
    received = []
    for chunk in (frame[:half], frame[half:]):
        client.receive_bytes(chunk)
        received.extend(client.received_frames())
    assert {f.opcode for f in received} == {Opcode.TEXT}
    assert received[-1].message_finished
    assert "".join(f.payload for f in received) == text
