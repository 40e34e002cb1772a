"""The baseline: the seed's WebSocket server, built the way its design note describes (bench only).

    .venv-bench/bin/python bench/fanout/baseline_server.py --port 8000

Runs in `.venv-bench/` (FastAPI and Uvicorn `[standard]`, pinned in `bench/requirements-fanout.txt`),
never in the project's venv, and imports nothing from the project. What the seed describes, kept as is:

- FastAPI app on Uvicorn with its defaults (uvloop, httptools, the `websockets` protocol, pings every
  20 s); `@app.websocket("/ws/{client_id}")` with `client_type: str = Query("ui")`; `GET /stats`.
- A `ConnectionManager`: `connect` (accept, remember the socket and its type, send a welcome),
  `disconnect`, `send_personal`, and `broadcast(message, target_type=None, exclude_client=None)`,
  which sends to the matching clients one after the other: `await ws.send_text(json.dumps(message))`.
- Messages are JSON objects with a `message_type`, validated with pydantic models (the seed's
  "Message Schemas (Pydantic)"): every incoming message is parsed into its model, and every outgoing
  one is built as a model, then dumped to a dict for the manager.
- The endpoint loop: `receive_text`, `json.loads`, `handle_message` (which awaits what it triggers).
  `ping` is answered with a `pong` through `send_personal`; an `agent_message` is relayed to the UIs.

Bench-only addition: a `bench_broadcast` message (`{"message_type": "bench_broadcast", "seq": n}`) from
the load generator's control connection makes the server build an `agent_message` whose text carries
the marker `~B<seq>_<time.monotonic_ns()>~` (stamped before the message is built and validated), and
`await manager.broadcast(message, target_type="ui")` it, exactly as an agent's message would be. The
message is padded to about 200 bytes of JSON, like our server's event frames (or to `size` bytes, if the
trigger has a `size`).

Prints one JSON line `{"ready": true, "port": ..., "pid": ...}` once listening.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, TypeAdapter

TARGET_PAYLOAD = 200  # bytes of JSON per broadcast, as in our server's event frames

# ---------------------------------------------------------------------------------------- schemas


class BaseMessage(BaseModel):
    """Every message: its type, who it is from, when."""

    message_type: str
    client_id: str | None = None
    timestamp: float = Field(default_factory=time.time)


class AgentMessage(BaseMessage):
    """An agent speaks; relayed to the UIs."""

    message_type: Literal["agent_message"] = "agent_message"
    agent_name: str
    message_text: str
    phase: str = "discussion"


class PingMessage(BaseMessage):
    """Heartbeat request."""

    message_type: Literal["ping"] = "ping"


class PongMessage(BaseMessage):
    """Heartbeat answer."""

    message_type: Literal["pong"] = "pong"


class BenchBroadcast(BaseMessage):
    """Bench only: broadcast one ~200-byte agent message stamped with `seq`."""

    message_type: Literal["bench_broadcast"] = "bench_broadcast"
    seq: int
    size: int = TARGET_PAYLOAD


ClientMessage = TypeAdapter(
    Annotated[AgentMessage | PingMessage | BenchBroadcast, Field(discriminator="message_type")]
)


# ---------------------------------------------------------------------------------------- manager


class ConnectionManager:
    """Keeps the connected clients by id and type; sends to one, or to all of a type in turn."""

    def __init__(self) -> None:
        """No clients yet."""
        self.active_connections: dict[str, WebSocket] = {}
        self.client_types: dict[str, str] = {}

    async def connect(self, websocket: WebSocket, client_id: str, client_type: str = "ui") -> None:
        """Accept the socket, remember it, welcome the client."""
        await websocket.accept()
        self.active_connections[client_id] = websocket
        self.client_types[client_id] = client_type
        print(f"✓ Client connected: {client_id} (type: {client_type})")
        welcome = BaseMessage(message_type="connection_established", client_id=client_id)
        await self.send_personal(client_id, welcome.model_dump())

    def disconnect(self, client_id: str) -> None:
        """Forget the client."""
        self.active_connections.pop(client_id, None)
        self.client_types.pop(client_id, None)
        print(f"✗ Client disconnected: {client_id}")

    async def send_personal(self, client_id: str, message: dict[str, Any]) -> None:
        """Send `message` to one client."""
        websocket = self.active_connections.get(client_id)
        if websocket is not None:
            await websocket.send_text(json.dumps(message))

    async def broadcast(
        self, message: dict[str, Any], target_type: str | None = None, exclude_client: str | None = None
    ) -> None:
        """Send `message` to every client (of `target_type`, but `exclude_client`), one after the other."""
        disconnected = []
        for client_id, websocket in list(self.active_connections.items()):
            if target_type is not None and self.client_types.get(client_id) != target_type:
                continue
            if client_id == exclude_client:
                continue
            try:
                await websocket.send_text(json.dumps(message))
            except Exception:  # a vanished client must not stop the broadcast
                disconnected.append(client_id)
        for client_id in disconnected:
            self.disconnect(client_id)

    def stats(self) -> dict[str, Any]:
        """`/stats`: total, counts by type, every client."""
        by_type: dict[str, int] = {}
        for kind in self.client_types.values():
            by_type[kind] = by_type.get(kind, 0) + 1
        clients = [{"client_id": c, "type": t} for c, t in self.client_types.items()]
        return {"total_clients": len(self.active_connections), "by_type": by_type, "clients": clients}


# ---------------------------------------------------------------------------------------- app

app = FastAPI(title="Loup-Garou WebSocket server (seed design, benchmark baseline)")
manager = ConnectionManager()
_FIXED = len(json.dumps(AgentMessage(client_id="agent_3", agent_name="P3", message_text="").model_dump()))


def bench_text(seq: int, stamp: int, size: int = TARGET_PAYLOAD) -> str:
    """The marker the load generator reads, padded so that the message is ~`size` bytes of JSON."""
    mark = f"~B{seq}_{stamp}~ "
    pad = max(0, size - _FIXED - len(mark))
    filler = "I have nothing to add, but I am watching P5 closely today. "
    return mark + (filler * (pad // len(filler) + 1))[:pad]


async def handle_message(client_id: str, data: dict[str, Any]) -> None:
    """Dispatch one validated client message."""
    message = ClientMessage.validate_python(data)
    if isinstance(message, PingMessage):
        await manager.send_personal(client_id, PongMessage(client_id=client_id).model_dump())
    elif isinstance(message, AgentMessage):
        await manager.broadcast(message.model_dump(), target_type="ui")
    elif isinstance(message, BenchBroadcast):
        stamp = time.monotonic_ns()
        event = AgentMessage(
            client_id="agent_3", agent_name="P3", message_text=bench_text(message.seq, stamp, message.size)
        )
        await manager.broadcast(event.model_dump(), target_type="ui")


@app.websocket("/ws/{client_id}")
async def websocket_endpoint(websocket: WebSocket, client_id: str, client_type: str = Query("ui")) -> None:
    """One client: connect, then handle its messages until it leaves."""
    await manager.connect(websocket, client_id, client_type)
    try:
        while True:
            data = await websocket.receive_text()
            message = json.loads(data)
            await handle_message(client_id, message)
    except WebSocketDisconnect:
        manager.disconnect(client_id)


@app.get("/stats")
async def stats() -> dict[str, Any]:
    """Who is connected."""
    return manager.stats()


class AnnouncingServer(uvicorn.Server):
    """Uvicorn's server, printing one JSON line once it listens (for the benchmark's driver)."""

    async def startup(self, sockets: Any = None) -> None:
        """Start as Uvicorn does, then announce."""
        await super().startup(sockets)
        print(json.dumps({"ready": True, "port": self.config.port, "pid": os.getpid()}), flush=True)


def main() -> int:
    """Serve on loopback until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    AnnouncingServer(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning")).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
