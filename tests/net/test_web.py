"""The page the server serves on its own port (`GET /` and its fixed set of assets, net/web.py)."""

from __future__ import annotations

import http.client

import pytest

from net.server import ServerConfig
from net.web import ASSETS
from tests.net.netutil import HOST, WAIT_S, raw_exchange


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=WAIT_S)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_root_serves_the_page_with_restrictive_headers(make_server):
    server = make_server(ServerConfig(port=0))
    status, headers, body = _get(server.port, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b"<script" in body
    assert b"Loup-Garou" in body
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-cache"
    assert headers["etag"]
    assert int(headers["content-length"]) == len(body)


def test_every_asset_is_served_with_its_type_and_revalidates(make_server):
    server = make_server(ServerConfig(port=0))
    for path, asset in ASSETS.items():
        status, headers, body = _get(server.port, path)
        assert status == 200, path
        assert headers["content-type"] == asset.content_type
        assert body == asset.body
        status, headers, body = _get(server.port, path, {"If-None-Match": headers["etag"]})
        assert (status, body) == (304, b""), path
    assert any(a.content_type.startswith("text/javascript") for a in ASSETS.values())
    assert any(a.content_type.startswith("text/css") for a in ASSETS.values())


def test_the_page_loads_nothing_from_outside():
    for path, asset in ASSETS.items():
        # The SVG namespace is a name, not a fetch.
        text = asset.body.decode().replace('"http://www.w3.org/2000/svg"', "")
        for marker in ("http://", "https://", "//cdn", "javascript:", "eval(", "innerHTML"):
            assert marker not in text, (path, marker)
    html = ASSETS["/"].body.decode()
    for marker in (
        "<script>",
        "style=",
        " onclick=",
        " onload=",
        "<style",
    ):  # nothing inline: the CSP forbids it
        assert marker not in html, marker


@pytest.mark.parametrize(
    "target",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/web/../../pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/net/web/index.html",
        "/index.html/",
        "//etc/passwd",
        "/app.js/../../run.py",
        "/.%2e/.%2e/run.py",
        "/__init__.py",
        "/web.py",
    ],
)
def test_only_the_fixed_set_of_files_is_served(make_server, target):
    server = make_server(ServerConfig(port=0))
    reply = raw_exchange(server.port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 404 "), reply[:200]
    assert b"[project]" not in reply
    assert b"root:" not in reply
    assert b"import" not in reply


def test_a_query_string_does_not_change_what_is_served(make_server):
    server = make_server(ServerConfig(port=0))
    status, _, body = _get(server.port, "/?token=x")
    assert status == 200
    assert body == ASSETS["/"].body
