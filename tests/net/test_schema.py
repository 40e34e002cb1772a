"""docs/protocol.schema.json is generated from the wire models; the models follow the naming conventions;
the frames quoted in docs/protocol.md are valid.

Conventions checked here, so that a reader can go from a wire tag to its model and back: every member of
both frame unions has a `type` literal equal to its class name in snake_case, with a trailing `_frame`
removed (`EventFrame` -> "event", `GameOver` -> "game_over"); every event payload model is
`<EngineEvent>Payload` and carries the engine event's `type`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from engine import ActionKind
from engine.events import EVENT_TYPES
from net.codec import decode_client_frame, error_dict
from net.errors import RemoteProtocolError
from net.protocol import (
    EVENT_MODELS,
    PROTOCOL_VERSION,
    SERVER_FRAME,
    ActionModel,
    ChoiceModel,
    ClientFrame,
    ServerFrame,
)
from net.schema import build_schema, schema_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.schema.json"
REGENERATE = "run `python -m net.schema > docs/protocol.schema.json`"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def members(union: Any) -> tuple[type[BaseModel], ...]:
    """The models of an `Annotated[A | B, Field(discriminator=...)]` union."""
    return typing.get_args(typing.get_args(union)[0])


def literal_values(model: type[BaseModel], field: str) -> tuple[str, ...]:
    return typing.get_args(model.model_fields[field].annotation)


def test_committed_schema_is_current():
    committed = DOC.read_text(encoding="utf-8")
    assert json.loads(committed) == build_schema(), f"docs/protocol.schema.json is stale: {REGENERATE}"
    assert committed == schema_text(), (
        f"docs/protocol.schema.json is not formatted as generated: {REGENERATE}"
    )


def test_schema_document_names_both_directions():
    schema = build_schema()
    assert schema["$id"].endswith(f"v{PROTOCOL_VERSION}")
    defs = schema["$defs"]
    assert {ref["$ref"] for ref in schema["oneOf"]} == {"#/$defs/ClientFrame", "#/$defs/ServerFrame"}
    for name, union in (("ClientFrame", ClientFrame), ("ServerFrame", ServerFrame)):
        refs = [ref["$ref"].removeprefix("#/$defs/") for ref in defs[name]["oneOf"]]
        tags = {defs[ref]["properties"]["type"]["const"] for ref in refs}
        assert tags == {literal_values(m, "type")[0] for m in members(union)}
    event_refs = [
        ref["$ref"].removeprefix("#/$defs/") for ref in defs["EventFrame"]["properties"]["event"]["oneOf"]
    ]
    assert {defs[ref]["properties"]["type"]["const"] for ref in event_refs} == set(EVENT_TYPES)


def test_the_schema_uses_standard_keywords_only():
    text = json.dumps(build_schema())
    assert "discriminator" not in text
    assert '"x-' not in text


def test_every_object_in_the_schema_forbids_extra_fields():
    loose = [
        name
        for name, definition in build_schema()["$defs"].items()
        if definition.get("type") == "object" and definition.get("additionalProperties") is not False
    ]
    assert loose == []


@pytest.mark.parametrize("union", [ClientFrame, ServerFrame], ids=["client", "server"])
def test_frame_tags_are_snake_case_class_names_without_frame_suffix(union: Any):
    for model in members(union):
        assert literal_values(model, "type") == (snake(model.__name__).removesuffix("_frame"),), model
        assert model.model_config.get("extra") == "forbid", model
        assert model.model_config.get("frozen") is True, model


def test_event_payload_models_mirror_the_engine_events():
    assert set(EVENT_MODELS) == set(EVENT_TYPES)
    for tag, model in EVENT_MODELS.items():
        cls = EVENT_TYPES[tag]
        assert model.__name__ == f"{cls.__name__}Payload"
        assert literal_values(model, "type") == (cls.type,) == (tag,)
        assert tag == snake(cls.__name__)  # the engine follows the same convention
        assert list(model.model_fields) == ["type", *(f.name for f in dataclasses.fields(cls))]


def test_wire_action_kinds_are_the_engine_action_kinds():
    wire_kinds = [kind for model in members(ActionModel) for kind in literal_values(model, "kind")]
    assert sorted(wire_kinds) == sorted(ActionKind)
    assert len(wire_kinds) == len(set(wire_kinds))
    assert sorted(literal_values(ChoiceModel, "kind")) == sorted(ActionKind)


def test_frames_validate_against_the_json_schema():
    validator = jsonschema.Draft202012Validator(build_schema())
    jsonschema.Draft202012Validator.check_schema(build_schema())
    good = [
        {"type": "hello", "protocol_version": PROTOCOL_VERSION, "token": "t", "resume_from": 3},
        {"type": "act", "phase_id": 7, "action": {"kind": "vote", "target": "Alice"}},
        {"type": "pong", "nonce": None},
        {"type": "error", "code": "invalid_json", "message": "m", "closing": False},
    ]
    for frame in good:
        validator.validate(frame)
    assert not validator.is_valid({"type": "hello", "protocol_version": 1, "extra": 1})
    assert not validator.is_valid({"type": "nope"})


PROTOCOL_DOC = DOC.with_name("protocol.md")


def test_frames_quoted_in_the_protocol_doc_are_valid():
    """Every frame in docs/protocol.md parses; a refused client frame is followed by the codec's own error."""
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    checked = 0
    for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL):
        frame = json.loads(block)
        if frame["type"] in {"hello", "act", "ping"}:
            decode_client_frame(json.dumps(frame))
        else:
            SERVER_FRAME.validate_json(json.dumps(frame))
        checked += 1
    refused: RemoteProtocolError | None = None
    for line in re.findall(r"^([CS]: .*)$", text, flags=re.MULTILINE):
        direction, payload = line[0], line[3:]
        if direction == "C":
            assert refused is None, "a refused client frame must be followed by its error"
            try:
                decode_client_frame(payload)
            except RemoteProtocolError as exc:
                refused = exc
        elif refused is not None:
            assert json.loads(payload) == error_dict(refused.code, refused.detail), line
            refused = None
        else:
            SERVER_FRAME.validate_json(payload)
        checked += 1
    assert checked > 50


def test_every_valid_frame_quoted_in_the_protocol_doc_matches_the_published_schema():
    """What the pydantic models accept in the doc, the JSON Schema that other languages use accepts too."""
    validator = jsonschema.Draft202012Validator(json.loads(DOC.read_text(encoding="utf-8")))
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    frames = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)]
    for line in re.findall(r"^([CS]: .*)$", text, flags=re.MULTILINE):
        payload = line[3:]
        try:
            decode_client_frame(payload) if line[0] == "C" else SERVER_FRAME.validate_json(payload)
        except (RemoteProtocolError, ValueError):
            continue  # the doc's examples of refused frames
        frames.append(json.loads(payload))
    assert len(frames) > 50
    for frame in frames:
        errors = [e.message for e in validator.iter_errors(frame)]
        assert errors == [], (frame, errors)


def test_the_protocol_doc_describes_every_event_type():
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    described = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert set(EVENT_TYPES) - described == set()  # `reasoned` was missing
