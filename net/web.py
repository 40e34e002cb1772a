"""The browser page, served by the game server on its own port: `GET /` and a fixed set of assets.

The page (plain HTML, CSS and JavaScript modules in `net/web/`, no build step) watches the game hosted
last, plays a seat for a person, or replays a log file the user opens; docs/protocol.md ("The browser page")
says what it does. Only the files listed in `FILES` are ever served: a request path is looked up in
that table, never joined to a directory, so no path reaches any other file. They are read once, at
import.

Every answer forbids what the page does not need (`Content-Security-Policy`: scripts, styles and
WebSocket connections from this origin only, no inline code, no frames), and is revalidated by the
browser each time (`Cache-Control: no-cache` with an `ETag`): a restarted server never serves a stale
page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

#: Request path -> (file in net/web/, content type).
FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/state.js": ("state.js", "text/javascript; charset=utf-8"),
    "/board.js": ("board.js", "text/javascript; charset=utf-8"),
    "/narrate.js": ("narrate.js", "text/javascript; charset=utf-8"),
    "/live.js": ("live.js", "text/javascript; charset=utf-8"),
    "/seat.js": ("seat.js", "text/javascript; charset=utf-8"),
    "/replay.js": ("replay.js", "text/javascript; charset=utf-8"),
}

#: Scripts, styles and connections (the WebSocket: 'self' covers ws:// and wss:// to this host and port,
#: CSP level 3) from this origin only; images only as data: URLs; nothing inline, no frames, no forms.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),  # the fragment never leaves the page anyway; nothing else either
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cache-control", "no-cache"),
)


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the page, as served."""

    body: bytes
    content_type: str
    etag: str


def _load() -> dict[str, Asset]:
    folder = resources.files("net") / "web"
    assets = {}
    for path, (name, content_type) in FILES.items():
        body = (folder / name).read_bytes()
        assets[path] = Asset(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return assets


ASSETS: dict[str, Asset] = _load()


def answer(path: str, if_none_match: str | None) -> tuple[int, bytes, list[tuple[str, str]]] | None:
    """(status, body, headers) for a GET of `path`, or None if `path` is not one of the page's files."""
    asset = ASSETS.get(path)
    if asset is None:
        return None
    headers = [*HEADERS, ("etag", asset.etag)]
    if if_none_match is not None and asset.etag in {t.strip() for t in if_none_match.split(",")}:
        return 304, b"", headers
    return 200, asset.body, [("content-type", asset.content_type), *headers]
