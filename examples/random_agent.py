"""A complete external agent: connects to a seat over WebSocket and plays random legal moves.

    python examples/random_agent.py 'ws://127.0.0.1:8765/ws/Alice?client_type=agent&token=SEAT-TOKEN'

(run.py prints that URL for each remote seat). Anything that speaks the protocol of docs/protocol.md
can do the same in any language; this one uses the Python client in net/client.py.
"""

from __future__ import annotations

import random
import sys
from urllib.parse import parse_qs, urlsplit

from net.client import AgentClient
from net.protocol import EventFrame, RequestFrame

rng = random.Random()


def decide(request: RequestFrame, events: list[EventFrame]) -> dict[str, object]:
    """Pick a random legal move; speak about the last thing said."""
    choices = [c for c in request.choices if c.kind != "abstain"] or request.choices
    choice = rng.choice(choices)
    if choice.kind == "speak":
        heard = [e.event for e in events if e.event.type == "spoke"]
        last = f"I heard {heard[-1].player}." if heard else "Good morning, everyone."
        return {"kind": "speak", "text": f"{last} I am {request.you.player} and I play fair."}
    if choice.kind == "bid":
        return {"kind": "bid", "amount": rng.randint(0, choice.max_bid)}
    if choice.kind == "abstain":
        return {"kind": "abstain"}
    return {"kind": choice.kind, "target": rng.choice(choice.targets)}


def main() -> int:
    """Play the seat whose URL (with its token) is the first argument."""
    if len(sys.argv) != 2:  # noqa: PLR2004 - program name and the URL
        print(__doc__)
        return 2
    url = sys.argv[1]
    token = parse_qs(urlsplit(url).query).get("token", [""])[0]
    client = AgentClient(url, token=token)
    over = client.run(decide)
    me = client.welcome.seat if client.welcome else None
    print(
        f"Game over: {over.winner or 'nobody'} won ({over.reason}). {me} was the {over.roles.get(me or '')}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
