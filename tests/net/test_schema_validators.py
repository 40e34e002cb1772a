"""docs/protocol.schema.json loads in the validators other languages use, with their default settings,
and every frame quoted in docs/protocol.md is valid against it (Python `jsonschema`; Node's Ajv)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from net.codec import decode_client_frame
from net.errors import RemoteProtocolError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "protocol.schema.json"
PROTOCOL_DOC = ROOT / "docs" / "protocol.md"
NODE_CACHE = ROOT / ".cache" / "node"  # npm installs Ajv here once (gitignored)
AJV = "ajv@8.17.1"

AJV_CHECK = """
const Ajv2020 = require("ajv/dist/2020");
const fs = require("fs");
const [schemaPath, framesPath] = process.argv.slice(-2);
const ajv = new Ajv2020();  // the defaults: strict mode on
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const frames = JSON.parse(fs.readFileSync(framesPath, "utf8"));
const bad = frames.filter((frame) => !validate(frame)).map((frame) => [frame, validate.errors]);
process.stdout.write(JSON.stringify({checked: frames.length, bad}));
"""


def doc_frames() -> list[dict[str, Any]]:
    """Every frame quoted in docs/protocol.md that the server or a client may send (the refused
    examples excepted: a `C:` line the codec refuses is there to show the error that follows)."""
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    frames = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)]
    for line in re.findall(r"^[CS]: .*$", text, flags=re.MULTILINE):
        if line.startswith("C: "):
            try:
                decode_client_frame(line[3:])
            except RemoteProtocolError:
                continue  # a refused example
        frames.append(json.loads(line[3:]))
    return frames


def test_python_jsonschema_loads_the_schema_and_every_doc_frame_is_valid():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    frames = doc_frames()
    assert len(frames) > 40
    invalid = [(frame, [e.message for e in validator.iter_errors(frame)]) for frame in frames]
    assert [pair for pair in invalid if pair[1]] == []


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Node for this test (the Makefile installs it)")
        pytest.skip("no Node on this machine")
    return node


def test_ajv_in_its_default_strict_mode_loads_the_schema_and_every_doc_frame_is_valid(tmp_path):
    node = _node()
    if not (NODE_CACHE / "node_modules" / "ajv" / "package.json").exists():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to install Ajv"
        done = subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(NODE_CACHE), AJV],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    frames_path = tmp_path / "frames.json"
    frames_path.write_text(json.dumps(doc_frames()), encoding="utf-8")
    done = subprocess.run(
        [node, "-e", AJV_CHECK, str(SCHEMA), str(frames_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "NODE_PATH": str(NODE_CACHE / "node_modules")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["bad"] == []
    assert result["checked"] > 40
