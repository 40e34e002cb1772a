"""Exposure over loopback sockets: which web pages and which `Host` names may open a WebSocket, what
`/stats` tells whom (and how often it is recomputed), TLS (`wss://`), and the addresses printed when
the server listens on every interface.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import simple_websocket
import trustme

from engine import PlayerId
from net.exposure import check_host_and_origin, reachable_hosts, server_names, split_host
from net.game_network import GameNetwork
from net.server import NetworkServer, ServerConfig
from tests.net.edgeutil import Peer, Refused, closing_all, eventually, greet, http_get, tcp
from tests.net.netutil import HOST, WAIT_S

ALICE = PlayerId("Alice")
EVIL = "http://evil.example"


@pytest.fixture
def hosted(make_server: Callable[[ServerConfig], NetworkServer]) -> Callable[..., NetworkServer]:
    """A server with these settings hosting one game (one remote seat), ready for spectators."""

    def host(**settings: Any) -> NetworkServer:
        server = make_server(ServerConfig(port=0, handshake_timeout=2.0, **settings))
        server.network = GameNetwork(server, "g1", [ALICE])  # type: ignore[attr-defined]
        return server

    return host


def upgrade(port: int, *, host: str | None = None, origin: str | None = None, **kw: Any) -> dict[str, Any]:
    """Upgrade with these `Host`/`Origin`, say hello; the first frame (raises Refused if refused)."""
    headers = [("Origin", origin)] if origin is not None else []
    peer, frame = greet(port, "/ws/page?client_type=ui", host=host, headers=headers, **kw)
    peer.close()
    return frame


# ---------------------------------------------------------------------------------------- Origin and Host


def test_a_foreign_web_page_gets_403_saying_what_to_pass(hosted):
    server = hosted()
    for host in ("evil.example", f"{HOST}:{server.port}"):
        with pytest.raises(Refused) as refused:
            upgrade(server.port, host=host, origin=EVIL)
        assert refused.value.status == 403
        error = refused.value.body["error"]
        if host == "evil.example":  # DNS rebinding: the page's own name, resolved to us
            assert "--public-name evil.example" in error
        else:
            assert f"--allow-origin {EVIL}" in error


def test_dns_rebinding_without_origin_is_refused_by_host(hosted):
    server = hosted()
    with pytest.raises(Refused) as refused:
        upgrade(server.port, host=f"evil.example:{server.port}")
    assert refused.value.status == 403
    assert "is not a name of this server" in refused.value.body["error"]


def test_clients_without_origin_and_the_servers_own_pages_get_in(hosted):
    server = hosted()
    port = server.port
    assert eventually(lambda: upgrade(port))["type"] == "welcome"  # no Origin: agents, tools
    for host in (f"localhost:{port}", f"[::1]:{port}", "127.0.0.1"):
        assert upgrade(port, host=host)["type"] == "welcome"
    assert upgrade(port, origin=f"http://localhost:{port}")["type"] == "welcome"
    assert upgrade(port, origin=f"http://127.0.0.1:{port}")["type"] == "welcome"
    with pytest.raises(Refused):  # same name, another port: another origin
        upgrade(port, origin="http://127.0.0.1:9")


def test_allow_origin_and_public_name_let_them_in(hosted):
    server = hosted(allow_origins=(EVIL,), public_names=("games.example",))
    port = server.port
    assert eventually(lambda: upgrade(port, origin=EVIL + "/"))["type"] == "welcome"
    assert upgrade(port, host=f"games.example:{port}")["type"] == "welcome"
    assert upgrade(port, host="games.example", origin=f"https://games.example:{port}")["type"] == "welcome"
    with pytest.raises(Refused):
        upgrade(port, origin="http://evil.example:8080")


def test_host_and_origin_rules():
    names = server_names("0.0.0.0", ["Games.Example."])
    assert names == {"localhost", "127.0.0.1", "::1", "games.example"}
    assert split_host("[::1]:8765") == ("::1", 8765)
    assert split_host("Example.com") == ("example.com", None)
    ok = {"names": names, "local_address": "192.168.1.5", "port": 8765, "allow_origins": ()}
    assert check_host_and_origin("192.168.1.5:8765", None, **ok) is None  # the address connected to
    assert check_host_and_origin("192.168.1.6:8765", None, **ok) is not None
    assert check_host_and_origin("192.168.1.5:8765", "http://192.168.1.5:8765", **ok) is None
    assert check_host_and_origin("localhost", "null", **ok) is not None  # sandboxed pages, files
    assert check_host_and_origin("", None, **ok) is not None


# ---------------------------------------------------------------------------------------- /stats


def test_stats_shows_counts_to_anyone_and_the_clients_only_with_the_admin_token(hosted):
    server = hosted(stats_cache_s=0)
    admin = server.lobby.admin_token
    with closing_all() as opened:
        opened.append(eventually(lambda: _welcomed(server.port)))
        status, _, public = http_get(server.port, "/stats")
        assert status == 200
        assert public == {
            "total_clients": 1,
            "by_type": {"agent": 0, "ui": 1, "observer": 0},
            "games": ["g1"],
        }
        for asked in (("/stats", [("Authorization", f"Bearer {admin}")]), (f"/stats?token={admin}", [])):
            status, _, full = http_get(server.port, asked[0], asked[1])
            assert status == 200
            assert full == public | {"clients": [{"client_id": "page", "type": "ui"}]}
        for wrong in ("not-the-token", "é"):
            status, _, body = http_get(server.port, "/stats", [("Authorization", f"Bearer {wrong}")])
            assert (status, body) == (403, {"error": "wrong admin token"})


def test_stats_is_recomputed_at_most_once_per_cache_period(hosted):
    server = hosted(stats_cache_s=3600)
    admin = server.lobby.admin_token
    first = http_get(server.port, "/stats")[2]
    first_full = http_get(server.port, f"/stats?token={admin}")[2]
    with closing_all() as opened:
        opened.append(eventually(lambda: _welcomed(server.port)))
        assert http_get(server.port, "/stats")[2] == first  # the cached body, though a client came
        assert http_get(server.port, f"/stats?token={admin}")[2] == first_full


def _welcomed(port: int, **kw: Any) -> Peer:
    peer, frame = greet(port, "/ws/page?client_type=ui", **kw)
    if frame["type"] != "welcome":
        peer.close()
        raise AssertionError(frame)
    return peer


# ---------------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA: the server's context (certificate for 127.0.0.1 and localhost) and a client's."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


def test_wss_carries_a_whole_game_view_and_large_frames(hosted, tls):
    server_ctx, client_ctx = tls
    server = hosted(ssl_context=server_ctx)
    url = server.network.url(HOST, "tls-agent", "agent", server.network.seats[ALICE].token)
    assert url.startswith(f"wss://{HOST}:{server.port}/ws/tls-agent?")
    ws = simple_websocket.Client.connect(url, ssl_context=client_ctx)
    try:
        ws.send('{"type": "hello", "protocol_version": 1}')
        assert '"welcome"' in ws.receive(timeout=WAIT_S)
        big = "n" * 60  # a pong echoes the nonce: a frame written through the TLS stream, not the raw fd
        for i in range(150):
            ws.send(f'{{"type": "ping", "nonce": "{big}{i:04d}"}}')
        for i in range(150):
            assert (
                ws.receive(timeout=WAIT_S)
                == f'{{"type":"pong","message_type":"pong","nonce":"{big}{i:04d}"}}'
            )
    finally:
        ws.close()
        # simple-websocket's reader thread may still be in a read on the closed socket's descriptor
        # number: a new socket given that number would lose its first bytes to it.
        ws.thread.join(WAIT_S)
    assert http_get(server.port, "/healthz", tls=client_ctx)[::2] == (200, {"ok": True})


def test_plain_tcp_to_a_tls_server_is_closed_without_harm(hosted, tls):
    server_ctx, client_ctx = tls
    server = hosted(ssl_context=server_ctx)
    with tcp(server.port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert not sock.recv(65536)  # no TLS, no answer: closed
    assert http_get(server.port, "/healthz", tls=client_ctx)[0] == 200


# ---------------------------------------------------------------------------------------- addresses


def test_a_wildcard_listener_prints_reachable_addresses_never_0_0_0_0():
    hosts = reachable_hosts("0.0.0.0")
    assert "0.0.0.0" not in hosts
    assert hosts[-1] == "127.0.0.1"
    assert reachable_hosts("192.168.1.5") == ["192.168.1.5"]


def test_a_tls_client_over_a_cap_is_closed_not_answered_in_plain_text(hosted, tls):
    server_ctx, client_ctx = tls
    server = hosted(ssl_context=server_ctx, max_handshakes_per_address=2)
    with closing_all() as idle:
        idle += [tcp(server.port, "127.0.0.9"), tcp(server.port, "127.0.0.9")]
        with tcp(server.port, "127.0.0.9") as sock:
            assert sock.recv(65536) == b""  # no plain-text 503 in front of a TLS client
    assert http_get(server.port, "/healthz", tls=client_ctx)[0] == 200


def test_what_clients_send_is_not_kept_in_urllibs_cache(hosted):
    """`urllib.parse.urlsplit` keeps its last 128 results (an lru_cache); fed with clients' request
    targets and Origin headers it kept their strings alive, scattered over the allocator's arenas, so
    the server's memory stayed up after a flood of connections had gone. The server must not feed it."""
    server = hosted()
    before = urlsplit.cache_info()
    for n in range(20):
        status, _, _ = http_get(server.port, f"/ws/c{n}?client_type=ui", [("Origin", f"http://o{n}.example")])
        assert status in (403, 426)
        assert http_get(server.port, f"/nothing-{n}?x={n}")[0] == 404
    after = urlsplit.cache_info()
    assert (after.hits, after.misses, after.currsize) == (before.hits, before.misses, before.currsize)


@pytest.mark.parametrize(
    "origin", ["http://a.example:99999", "http://a.example:xyz", "http://[::1", "http://127.0.0.1:-1", "null"]
)
def test_a_malformed_origin_is_refused_like_a_foreign_one_without_a_traceback(hosted, origin, caplog):
    """An Origin that urllib cannot parse (bad port, broken IPv6 literal) gets the same 403, not an
    internal error and a traceback in the log per request."""
    server = hosted()
    with pytest.raises(Refused) as refused:
        upgrade(server.port, host=f"{HOST}:{server.port}", origin=origin)
    assert refused.value.status == 403
    assert "may not connect" in refused.value.body["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_malformed_allowed_origin_is_a_clear_error():
    with pytest.raises(ValueError, match="not an origin"):
        ServerConfig(allow_origins=("http://a.example:xyz",))
