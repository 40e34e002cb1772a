"""What the tests' fake HTTP servers share (tests/llm/fake_ollama.py, tests/llm/fake_openai.py,
tests/llm_real/ollama_front.py): a keep-alive handler's reply, and serving on loopback in a thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server whose handler threads never keep the process alive."""

    daemon_threads = True


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the servers we imitate (Ollama is Go's net/http)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY, as Go; else headers then body stall on delayed ACKs
    timeout = 30  # a stuck connection ends on its own even if nobody stops the server

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        """Send a whole response; a client that gave up (timeout) and closed its end ends the connection."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


def serve_in_thread(server: LoopbackServer, name: str) -> threading.Thread:
    """Serve `server` in a daemon thread (polling for shutdown every 50 ms); returns the started thread."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return thread
