"""The server's Origin check holds for real browsers: a page from another origin cannot open the game's
WebSocket; the page served by the server itself can, under each of the server's names."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from actors.heuristic import HeuristicAgent
from engine import preset
from net.hosting import Host
from net.server import NetworkServer, ServerConfig
from tests.net.netutil import poll_stats, start_server
from tests.proof.remote_kit import SECRET

PROBE = """<!doctype html><html><head><title>probe</title></head><body><script>
const ws = new WebSocket("ws://127.0.0.1:PORT/ws/evil?client_type=ui");
ws.onopen = () => { document.title = "opened"; };
ws.onclose = (e) => { if (document.title !== "opened") document.title = "refused " + e.code; };
</script></body></html>"""


@pytest.fixture
def foreign_site() -> Iterator[tuple[str, dict[str, int]]]:
    """Another web site on this machine (another port: another origin), serving the probe page. A
    site on this machine, not a public name: Chromium itself keeps public pages off loopback (Local
    Network Access), whatever the server would say."""
    target = {"port": 0}

    class Probe(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PROBE.replace("PORT", str(target["port"])).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}", target
    finally:
        site.shutdown()
        site.server_close()


def _open_game(server: NetworkServer) -> Host:
    host = Host(SECRET, server=server)
    config = preset("classic-8")
    host.open_game(config, {p: HeuristicAgent(i) for i, p in enumerate(config.players)}, seed=1)
    return host


def test_a_page_from_another_origin_is_refused(server, page, foreign_site):
    origin, target = foreign_site
    target["port"] = server.port
    with _open_game(server):
        page.goto(f"{origin}/")
        expect(page).to_have_title("refused 1006")  # the handshake got 403: the browser only says 1006
        assert poll_stats(server.port, lambda s: s["total_clients"] == 0)["total_clients"] == 0
        # The server's own page, under both of its loopback names, connects.
        for name in ("127.0.0.1", "localhost"):
            page.goto(f"http://{name}:{server.port}/")
            expect(page.locator("#status")).to_have_attribute("data-state", "connected")


def test_the_same_page_connects_once_its_origin_is_allowed(page, foreign_site):
    """The control: what refused the probe above is the server's Origin check, not the browser."""
    origin, target = foreign_site
    allowing = start_server(ServerConfig(port=0, allow_origins=(origin,)))
    target["port"] = allowing.port
    try:
        with _open_game(allowing):
            page.goto(f"{origin}/")
            expect(page).to_have_title("opened")
    finally:
        allowing.stop()
