"""Network layer: translate WebSocket frames to and from typed messages, in trio style.

``net.protocol`` (pydantic wire models) and ``net.codec`` do no I/O. The connection and server modules run
trio tasks over wsproto, and ``net.bridge`` is the only module that imports both trio and pykka: it hands
decoded messages to actors and carries actor replies back to the trio thread.
"""

__all__: list[str] = []
