"""Actor layer: pykka actors that each own one piece of state and talk to each other only by messages.

The game master actor owns the engine's ``Game``; a player actor owns one agent's memory and policy; a
session actor owns one remote connection's session through a send handle, never the socket itself.
Nothing mutable is shared between actors. This layer sits between ``engine`` (pure rules, called by plain
method calls on the actor's own thread) and ``net`` (which turns WebSocket frames into messages).
"""

__all__: list[str] = []
