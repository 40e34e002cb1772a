"""Hostile input, malformed frames on Mallory's own connection: broken JSON, JSON that is not a frame
(arrays, null, no or unknown `type`, a binary frame, nesting and number bombs), wrong field types (never
coerced: a phase id as a string, a float, a bool), unknown fields and actions, strings over the wire
limits, and a second hello. Each gets an error frame that names the problem, and the connection stays.

How a case is played and checked: `tests.proof.hostile_kit`.
"""

from __future__ import annotations

from engine.config import MAX_SPEECH_CHARS
from tests.proof.hostile_kit import (
    Attack,
    Case,
    act,
    assert_game_correct,
    each_case,
    play_case,
    text,
)
from tests.proof.wire import assert_reaction


def act_text(template: str) -> Attack:
    """An `act` written by hand; `PHASE` stands for the open request's phase id."""
    return lambda m, ctx, frame: m.conn.send_text(template.replace("PHASE", str(m.request["phase_id"])))


INTEGER = "invalid_frame: invalid frame: act.phase_id: Input should be a valid integer"
NOT_AN_OBJECT = "invalid_frame: a frame must be a JSON object"

CASES = [
    # -- malformed JSON, wrong shapes, on Mallory's connection: an error, the connection stays
    Case("malformed_json", text('{"type":"act",'), ("invalid_json: not valid JSON: EOF while parsing",)),
    Case("empty_message", text(""), ("invalid_json: not valid JSON: EOF while parsing a value",)),
    Case(
        "trailing_garbage",
        text('{"type":"ping"} ok?'),
        ("invalid_json: not valid JSON: trailing characters",),
    ),
    Case(
        "deeply_nested_json",
        text("[" * 50_000 + "]" * 50_000),
        ("invalid_frame: frame too complex: a frame may hold at most 16 objects and arrays",),
    ),
    Case("json_array", text("[1,2]"), (NOT_AN_OBJECT,)),
    Case("json_null", text("null"), (NOT_AN_OBJECT,)),
    Case(
        "binary_frame",
        lambda m, ctx, frame: m.conn.send_bytes(b'{"type":"ping"}'),
        ("binary_not_supported: binary frames are not part of this protocol: send JSON text",),
    ),
    Case(
        "unknown_frame_type",
        text('{"type":"vote","target":"Bruno"}'),
        ('invalid_frame: unknown frame type "vote" (expected one of: hello, act, ping)',),
    ),
    Case(
        "frame_without_type",
        text('{"phase_id":1,"action":{"kind":"abstain"}}'),
        ("invalid_frame: the frame has no 'type' field (expected one of: hello, act, ping)",),
    ),
    Case("type_not_a_string", text('{"type":5}'), ("invalid_frame: unknown frame type 5",)),
    # -- wrong field types: never coerced
    Case(
        "phase_id_as_string",
        act_text('{"type":"act","phase_id":"PHASE","action":{"kind":"abstain"}}'),
        (INTEGER,),
    ),
    Case(
        "phase_id_as_float",
        act_text('{"type":"act","phase_id":PHASE.0,"action":{"kind":"abstain"}}'),
        (INTEGER,),
    ),
    Case("phase_id_as_bool", act(phase_id=True), (INTEGER,)),
    Case(
        "phase_id_of_4301_digits",
        text('{"type":"act","phase_id":' + "9" * 4301 + ',"action":{"kind":"abstain"}}'),
        ("invalid_json: not valid JSON: number out of range",),
    ),
    Case(
        "unknown_field",
        act(as_player="Bruno"),
        ("invalid_frame: invalid frame: act.as_player: Extra inputs are not permitted",),
    ),
    Case(
        "unknown_action_kind",
        act({"kind": "eat", "target": "Bruno"}),
        ("invalid_frame: invalid frame: act.action: Input tag 'eat' found using 'kind' does not match",),
    ),
    Case(
        "action_without_target",
        act({"kind": "inspect"}),
        ("invalid_frame: invalid frame: act.action.inspect.target: Field required",),
    ),
    Case(
        "action_as_a_string",
        act("inspect"),
        ("invalid_frame: invalid frame: act.action: Input should be an object",),
    ),
    Case(
        "target_over_64_characters",
        act({"kind": "inspect", "target": "B" * 65}),
        ("invalid_frame: act.action.inspect.target: String should have at most 64 characters",),
    ),
    Case(
        "speech_over_the_wire_limit",
        act({"kind": "speak", "text": "x" * (MAX_SPEECH_CHARS + 1)}),
        ("invalid_frame: act.action.speak.text: String should have at most 10000 characters",),
    ),
    Case(
        "second_hello",
        lambda m, ctx, frame: m.conn.hello(m.token),
        ("invalid_frame: hello was already received",),
    ),
]


@each_case(CASES)
def test_hostile_input(case, servers, baseline):
    played = play_case(servers[case.server], case, baseline)
    assert_reaction(tuple(line.format_map(played.ids) for line in case.expect), played.observed)
    assert_game_correct(played, mallory_faults=case.faults)
