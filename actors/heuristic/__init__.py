"""The built-in rule-based player, without an LLM.

`agent` holds `HeuristicAgent` itself, `beliefs` what one player makes of the events it was allowed to
see (`Beliefs`), and `speech` the lines the agent says and the reader for what others said.
"""

from actors.heuristic.agent import HeuristicAgent

__all__ = ["HeuristicAgent"]
