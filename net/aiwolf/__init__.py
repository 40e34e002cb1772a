"""AIWolf NLP agents take seats in our games: `GET /ws` speaks their protocol (docs/aiwolf.md).

`packets` turns one seat's view of our game into AIWolf packets and the agent's replies into our actions;
`seat` is the remote seat the game master talks to; `session` is the agent's connection.
"""

from __future__ import annotations

from net.aiwolf.packets import AIWolfView, agent_name, aiwolf_problem
from net.aiwolf.seat import AIWolfSeat

__all__ = ["AIWolfSeat", "AIWolfView", "agent_name", "aiwolf_problem"]
