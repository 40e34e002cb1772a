"""Viewer layer: a Pygame spectator that is just another client of the wire protocol.

It receives server frames over a WebSocket on its own network thread, folds them into a drawable model and
renders that model. It imports only the wire types (``net.protocol``, ``net.codec``), never the engine, the
actors or the server side of ``net``.
"""

__all__: list[str] = []
