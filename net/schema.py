"""The wire protocol as one JSON Schema document, generated from the pydantic models in `net.protocol`.

`$defs.ClientFrame` is the union of client -> server frames and `$defs.ServerFrame` the union of
server -> client frames; every model they use is a sibling in `$defs`. The root accepts either kind.
Only standard draft 2020-12 keywords are used, so that validators load it with their default settings
(Ajv's strict mode refuses unknown keywords).
`docs/protocol.schema.json` is this document, regenerated with:

    python -m net.schema > docs/protocol.schema.json

(`tests/net/test_schema.py` fails when the committed copy is stale.)
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from net.protocol import CLIENT_FRAME, PROTOCOL_VERSION, SERVER_FRAME

SCHEMA_ID = f"urn:loupgarou:protocol:v{PROTOCOL_VERSION}"
_UNIONS = ("ClientFrame", "ServerFrame")


def build_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of both directions of the protocol, sharing one `$defs`."""
    unions, document = TypeAdapter.json_schemas(
        [("ClientFrame", "validation", CLIENT_FRAME), ("ServerFrame", "validation", SERVER_FRAME)]
    )
    defs: dict[str, Any] = dict(document.get("$defs", {}))
    for name in _UNIONS:
        if name in defs:  # a model of that name would be silently replaced by the union
            raise ValueError(f"a wire model is called {name!r}, which clashes with the union's name")
        defs[name] = unions[(name, "validation")]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"Loup-Garou wire protocol, version {PROTOCOL_VERSION}",
        "description": (
            "JSON text frames over a WebSocket, tagged by their `type` field. "
            "`$defs.ClientFrame`: client -> server frames; `$defs.ServerFrame`: server -> client frames. "
            "Generated from net/protocol.py by `python -m net.schema`; see docs/protocol.md."
        ),
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in _UNIONS],
        "$defs": _standard(defs),
    }


def _standard(node: Any) -> Any:
    """`node` without pydantic's `discriminator` (an OpenAPI keyword, not JSON Schema): validators in
    their default strict mode (Ajv) refuse unknown keywords, and the `const` of each member's `type`
    already tells the members of a `oneOf` apart."""
    if isinstance(node, dict):
        return {key: _standard(value) for key, value in node.items() if key != "discriminator"}
    if isinstance(node, list):
        return [_standard(value) for value in node]
    return node


def schema_text() -> str:
    """The document as committed: sorted keys, two-space indent, ASCII, trailing newline."""
    return json.dumps(build_schema(), sort_keys=True, indent=2) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_text())
