"""Bad client frames are refused cheaply: the shape of a frame is bounded before it is parsed, pydantic's
errors are built once, and the longest legal frame fits the message limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

import net.codec
from engine import ConfigError, Rules
from engine.config import MAX_SPEECH_CHARS
from net.codec import MAX_CONTAINERS, MAX_DEPTH, MAX_KEYS, decode_client_frame
from net.connection import ConnectionConfig
from net.errors import RemoteProtocolError
from net.protocol import CLIENT_FRAME, MAX_ID, MAX_TEXT, Act, ErrorCode, Hello

EMOJI = "\N{GRINNING FACE}"


def rejected(text: str) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        decode_client_frame(text)
    return info.value


class CountingError(ValidationError):
    """A ValidationError that counts how often its errors are built (each call builds them all)."""

    calls = 0

    def errors(self, **kwargs: Any) -> Any:
        CountingError.calls += 1
        return super().errors(**kwargs)


class SpyAdapter:
    def validate_json(self, text: str, *, strict: bool) -> Any:
        try:
            return CLIENT_FRAME.validate_json(text, strict=strict)
        except ValidationError as exc:
            raise CountingError.from_exception_data(exc.title, exc.errors()) from None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"type": "ping", **{f"k{i}": 0 for i in range(10)}}),
        json.dumps({"type": "hello", "protocol_version": "1"}),
        json.dumps({"type": "act", "phase_id": 1, "action": {"kind": "inspect"}}),
    ],
    ids=["extra_keys", "wrong_type", "missing_field"],
)
def test_errors_are_built_once(monkeypatch, text):
    monkeypatch.setattr(net.codec, "CLIENT_FRAME", SpyAdapter())
    CountingError.calls = 0
    rejected(text)
    assert CountingError.calls == 1


def test_a_frame_of_100000_keys_is_refused_before_parsing_naming_the_limit(monkeypatch):
    monkeypatch.setattr(net.codec, "CLIENT_FRAME", None)  # never reached
    error = rejected(json.dumps({"type": "ping", **{str(i): 0 for i in range(100_000)}}))
    assert error.code is ErrorCode.INVALID_FRAME
    assert error.detail == f"frame too complex: an object may have at most {MAX_KEYS} keys"


def test_keys_are_counted_per_object():
    action = {"kind": "abstain", **{f"a{i}": 0 for i in range(MAX_KEYS - 1)}}  # 16 keys here, 3 above
    error = rejected(json.dumps({"type": "act", "phase_id": 1, "action": action}))
    assert error.detail.startswith("invalid frame: act.action.abstain.a0: Extra inputs are not permitted")
    action["one_more"] = 0
    error = rejected(json.dumps({"type": "act", "phase_id": 1, "action": action}))
    assert error.detail == f"frame too complex: an object may have at most {MAX_KEYS} keys"


def test_nesting_is_bounded():
    error = rejected(json.dumps({"type": "ping", "nonce": {"a": {"b": {}}}}))  # 4 deep
    assert error.detail == f"frame too complex: objects and arrays may be nested at most {MAX_DEPTH} deep"
    error = rejected("[" * 50_000 + "]" * 50_000)
    assert error.detail == f"frame too complex: a frame may hold at most {MAX_CONTAINERS} objects and arrays"


def test_objects_and_arrays_are_bounded_in_number():
    error = rejected(json.dumps({"type": "ping", "nonce": [[]] * MAX_CONTAINERS}))  # 2 + 16
    assert error.detail == f"frame too complex: a frame may hold at most {MAX_CONTAINERS} objects and arrays"


def test_brackets_and_colons_inside_strings_are_text():
    speech = 'a: {"b": [1, 2]} \\" :{[ ' * 300
    frame = decode_client_frame(
        json.dumps({"type": "act", "phase_id": 1, "action": {"kind": "speak", "text": speech}})
    )
    assert isinstance(frame, Act)
    assert frame.action.text == speech  # type: ignore[union-attr]
    hello = decode_client_frame(
        json.dumps({"type": "hello", "protocol_version": 1, "name": ':{"x":[ ]}', "token": "tok-1"})
    )
    assert isinstance(hello, Hello)


def test_invalid_json_is_still_reported_as_such():
    error = rejected('{"type":"act", "text": "unterminated')
    assert error.code is ErrorCode.INVALID_JSON


def test_the_longest_legal_frame_fits_the_message_limit():
    # Python's json.dumps escapes every emoji as a surrogate pair: 12 bytes for 1 character.
    act = {
        "type": "act",
        "phase_id": 2**63,
        "action": {"kind": "speak", "text": EMOJI * MAX_TEXT},
        "player": EMOJI * MAX_ID,
    }
    text = json.dumps(act)
    assert len(text.encode()) <= ConnectionConfig().max_message
    assert isinstance(decode_client_frame(text), Act)


def test_the_wire_and_the_engine_agree_on_the_longest_speech():
    assert MAX_TEXT == MAX_SPEECH_CHARS
    Rules(max_speech_chars=MAX_TEXT)
    with pytest.raises(ConfigError):
        Rules(max_speech_chars=MAX_TEXT + 1)
