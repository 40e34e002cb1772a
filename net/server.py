"""The server's thread: it runs Trio, listens, and admits each TCP connection to its handler.

`ServerConfig` says where to listen and every limit; `NetworkServer` runs the Trio server in its own thread
and is the rest of the program's handle on it. What one TCP connection gets (routes, the WebSocket
handshake) is net/routes.py.
"""

from __future__ import annotations

import functools
import gc
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from net.admission import Admission, BadTokens, Limits, fd_limit, raise_fd_limit, serve
from net.bridge import Bridge
from net.connection import ConnectionConfig
from net.errors import CLOSE_GOING_AWAY
from net.exposure import origin_parts, server_names
from net.inbox import ReceiveBudget
from net.lobby import Lobby
from net.memory import MemoryPolicy, keep_memory
from net.routes import Site, handle_tcp

logger = logging.getLogger(__name__)

GC_OLDEST_THRESHOLD = 1000  # collections of generation 1 between two full ones (CPython's default: 10)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Where to listen and the limits of every connection (seconds)."""

    host: str = "127.0.0.1"
    port: int = 8765
    handshake_timeout: float = 10.0
    hello_timeout: float = 10.0
    connection: ConnectionConfig = field(default_factory=ConnectionConfig)
    #: Bytes held in unfinished messages across all connections; the one that would go over is closed (1013).
    max_unfinished_bytes: int = 64 * 1024 * 1024
    admin_token: str | None = None
    #: Raise the garbage collector's oldest-generation threshold when the server starts: with thousands
    #: of connections, each full collection walks them all (100+ ms pauses, docs/benchmarks.md).
    tune_gc: bool = True
    #: When to give memory back to the system after a crowd of connections has gone (net/memory.py);
    #: None: never.
    memory: MemoryPolicy | None = field(default_factory=MemoryPolicy)
    #: Serve `client_type=echo` (net/echo.py): for WebSocket conformance testing only, never in a game.
    echo: bool = False
    #: Caps (net/admission.py); 0: derived from the open-file limit, which is raised at start first
    #: (`raise_fd_limit`).
    max_connections: int = 0
    max_per_address: int = 0
    max_handshakes: int = 0
    max_handshakes_per_address: int = 0
    seat_reserve: int = 0
    raise_fd_limit: bool = True
    #: After `bad_token_limit` bad tokens within `bad_token_window` s, an address's WebSocket handshakes
    #: are refused (429) for `bad_token_block` s (0: never).
    bad_token_limit: int = 10
    bad_token_window: float = 60.0
    bad_token_block: float = 60.0
    #: Origins (`http://host:port`) whose web pages may open WebSockets, besides the server's own.
    allow_origins: tuple[str, ...] = ()
    #: Names the server answers to (the `Host` header) besides loopback and `host`.
    public_names: tuple[str, ...] = ()
    #: Serve TLS (`wss://`, `https://`) with this context (net/exposure.py `tls_context`).
    ssl_context: ssl.SSLContext | None = None
    #: `/stats` bodies are computed at most once per this many seconds.
    stats_cache_s: float = 1.0

    def __post_init__(self) -> None:
        """Refuse an allowed origin that is not one (it would silently match nothing)."""
        for origin in self.allow_origins:
            parts = origin_parts(origin)
            if parts is None or parts[0] not in ("http", "https"):
                raise ValueError(f"{origin!r} is not an origin: give http(s)://HOST[:PORT]")


class NetworkServer:
    """Runs the Trio server in its own thread; everything else talks to it through `call_soon`."""

    def __init__(self, config: ServerConfig) -> None:
        """Nothing starts until `start()`."""
        self.config = config
        self.port = 0
        bad_tokens = BadTokens(config.bad_token_limit, config.bad_token_window, config.bad_token_block)
        self.lobby = Lobby(
            admin_token=config.admin_token, hello_timeout=config.hello_timeout, bad_tokens=bad_tokens
        )
        #: The caps and counts of connections (net/admission.py); set when the server starts.
        self.admission: Admission | None = None
        self.bridge: Bridge | None = None
        #: Bytes of unfinished messages held by all connections now (Trio thread).
        self.budget = ReceiveBudget(config.max_unfinished_bytes)
        self._nursery: trio.Nursery | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="network", daemon=True)

    def start(self, timeout: float = 10.0) -> int:
        """Start listening; returns the bound port. Raises OSError if the address cannot be bound."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the network thread did not start")
        if self._error is not None:
            raise self._error
        return self.port

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` in the Trio thread (any thread; never blocks)."""
        assert self.bridge is not None  # start() first
        self.bridge.call_soon(fn, *args)

    def call(self, fn: Callable[..., None], *args: Any, timeout: float = 10.0) -> None:
        """Run `fn(*args)` in the Trio thread and wait until it has run (any thread but that one)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("NetworkServer.call from the server's own thread would wait for itself")
        done = threading.Event()

        def run() -> None:
            try:
                fn(*args)
            finally:
                done.set()

        self.call_soon(run)
        if not done.wait(timeout):
            raise TimeoutError(f"the network thread did not run {fn!r} within {timeout} s")

    def spawn(self, fn: Callable[[], Any]) -> None:
        """Start `await fn()` as a background task of the server (Trio thread only)."""
        assert self._nursery is not None
        self._nursery.start_soon(fn)

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection (1001), stop serving and join the thread."""
        if self.bridge is not None and self._thread.is_alive():
            self.bridge.call_soon(self._shutdown)
            self._thread.join(timeout)

    def _shutdown(self) -> None:
        self.lobby.close_all(CLOSE_GOING_AWAY, "server shutting down")
        assert self._nursery is not None
        self._nursery.start_soon(self._cancel_after_close)

    async def _cancel_after_close(self) -> None:
        with trio.move_on_after(1.0):
            while self.lobby.sessions or self.lobby.echoes:
                await trio.sleep(0.01)
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # reported to start(); the thread must end quietly
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        try:
            listeners = await trio.open_tcp_listeners(self.config.port, host=self.config.host)
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = listeners[0].socket.getsockname()[1]
        config = self.config
        fds = raise_fd_limit() if config.raise_fd_limit else fd_limit()
        try:
            limits = Limits.derive(
                fds,
                max_connections=config.max_connections,
                max_per_address=config.max_per_address,
                max_handshakes=config.max_handshakes,
                max_handshakes_per_address=config.max_handshakes_per_address,
                seat_reserve=config.seat_reserve,
            )
        except ValueError as exc:
            for listener in listeners:
                await listener.aclose()
            self._error = exc
            self._ready.set()
            return
        self.admission = Admission(limits)
        logger.info("open-file limit %d: %s", fds, limits)
        if self.config.tune_gc:
            gen0, gen1, _ = gc.get_threshold()
            gc.set_threshold(gen0, gen1, GC_OLDEST_THRESHOLD)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.bridge = Bridge(trio.lowlevel.current_trio_token())
            self._ready.set()
            if config.memory is not None:
                nursery.start_soon(keep_memory, self.admission, config.memory)
            site = Site(
                self.lobby, config, server_names(config.host, config.public_names), self.budget, self.port
            )
            handler = functools.partial(handle_tcp, site)
            plain = config.ssl_context is None
            await serve(listeners, handler, self.admission, nursery, plain=plain)
