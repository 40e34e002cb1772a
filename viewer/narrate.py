"""Plain-words chat-log lines for wire events: what the viewer's log says about each event.

The viewer is just a client and may not import the engine (`tests/test_import_boundaries.py` enforces it),
so it narrates the wire payloads itself
(`docs/protocol.md`, "Events and sequence numbers"). Like the engine's narration, a line never adds
information the event does not carry, and bookkeeping events (acknowledgements, most phase openings)
say nothing. Which lines a spectator may see is decided by the event's `audience`, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]  # one event's wire payload, as JSON values (`EventFrame.event.model_dump`)

_CAUSES = {"night": "was found dead", "execution": "is executed", "hunter": "is shot"}
_WINNERS = {"village": "The village wins", "wolves": "The wolves win"}
_PHASE_NAMES = {
    "wolf_chat": "wolves' chat",
    "night": "night",
    "witch": "witch",
    "hunter": "hunter's shot",
    "discussion": "discussion",
    "bidding": "discussion (bidding)",
    "vote": "vote",
    "last_words": "last words",
    "game_over": "game over",
}


def phase_name(phase: str | None) -> str:
    """A reader's name for a wire `phase` value."""
    if phase is None:
        return "waiting"
    return _PHASE_NAMES.get(phase, phase.replace("_", " "))


def names(players: list[Any] | tuple[Any, ...]) -> str:
    """`A, B and C` (or `nobody`)."""
    items = [str(p) for p in players]
    if not items:
        return "nobody"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _game_started(e: Payload) -> str:
    roles = ", ".join(f"{n} {r}" for r, n in e["roles"])
    return f"{len(e['players'])} players sit down: {names(e['players'])}. Roles in play: {roles}."


def _day_broke(e: Payload) -> str:
    if not e["deaths"]:
        return f"Day {e['day']} breaks. Nobody died in the night."
    return f"Day {e['day']} breaks. Found dead: {names(e['deaths'])}."


def _phase_started(e: Payload) -> str | None:
    if e["phase"] == "vote":
        if e["candidates"]:
            return f"Revote between {names(e['candidates'])}."
        return "The village votes."
    if e["phase"] == "hunter":
        return f"{e['speaker']} is the hunter and may shoot someone."
    if e["phase"] == "wolf_chat":
        return "The wolves whisper together."
    return None


def _votes(e: Payload) -> str:
    counted = ", ".join(f"{p} {n}" for p, n in e["tally"]) or "no votes"
    ballots = ", ".join(f"{v} > {t or 'abstain'}" for v, t in e["votes"])
    return f"Votes (round {e['round']}): {counted}.  [{ballots}]"


def _died(e: Payload) -> str:
    how = _CAUSES.get(e["cause"], "dies")
    if e.get("role"):
        return f"{e['player']} {how}. {e['player']} was a {e['role']}."
    if e.get("team"):
        return f"{e['player']} {how}. {e['player']} played for the {e['team']}."
    return f"{e['player']} {how}."


def _ended(e: Payload) -> str:
    roles = ", ".join(f"{p} ({r})" for p, r in e["roles"])
    who = _WINNERS.get(str(e["winner"]), "Nobody wins")
    return f"Game over. {who}: {e['reason']}. Roles: {roles}."


def _wolves_chose(e: Payload) -> str:
    votes = ", ".join(f"{v} > {t or 'nobody'}" for v, t in e["votes"])
    victim = f"attack {e['victim']}" if e["victim"] else "attack nobody"
    return f"The wolves {victim}.  [{votes}]"


def _witch(e: Payload) -> str:
    potions = [n for n, left in (("healing", e["heal_left"]), ("poison", e["poison_left"])) if left]
    return (
        f"{e['witch']} (witch) wakes: the wolves attacked {e['victim'] or 'nobody'}; "
        f"potions left: {', '.join(potions) or 'none'}."
    )


def _night_resolved(e: Payload) -> str:
    return (
        f"Night {e['day']} resolved: victim {e['victim'] or 'none'}, protected {names(e['protected'])}, "
        f"healed {e['healed'] or 'nobody'}, poisoned {names(e['poisoned'])}."
    )


def _learned(who: str) -> Callable[[Payload], str]:
    def line(e: Payload) -> str:
        verdict = "a werewolf" if e["is_wolf"] else "not a werewolf"
        return f"{e[who]} ({who}) learns that {e['target']} is {verdict}."

    return line


def _action(e: Payload) -> str | None:
    """Night actions only: day votes show as arrows and are revealed together; bids and passes are noise."""
    action = e["action"]
    verbs = {"kill": "wants to kill", "inspect": "inspects", "protect": "protects", "heal": "heals"}
    verbs |= {"poison": "poisons", "shoot": "shoots"}
    if action["kind"] not in verbs:
        return None
    return f"{e['player']} {verbs[action['kind']]} {action['target']}."


_NARRATORS: dict[str, Callable[[Payload], str | None]] = {
    "game_started": _game_started,
    "role_assigned": lambda e: f"{e['player']} is the {e['role']}.",
    "wolves_met": lambda e: f"The werewolves are {names(e['wolves'])}.",
    "night_fell": lambda e: f"Night {e['day']} falls.",
    "day_broke": _day_broke,
    "phase_started": _phase_started,
    "spoke": lambda e: str(e["text"]),
    "action_recorded": _action,
    "bids_revealed": lambda e: f"{e['speaker']} wins the floor.",
    "votes_revealed": _votes,
    "no_execution": lambda e: f"Nobody is executed: {e['reason']}.",
    "player_died": _died,
    "wolves_chose": _wolves_chose,
    "seer_learned": _learned("seer"),
    "medium_learned": _learned("medium"),
    "witch_woke": _witch,
    "night_resolved": _night_resolved,
    "hunter_shot": lambda e: f"{e['hunter']} shoots {e['target']}.",
    "player_faulted": lambda e: f"{e['player']} faulted ({phase_name(e['phase'])}): {e['reason']}.",
    "reasoned": lambda e: None,  # shown in the reasoning panel, not in the log
    "game_ended": _ended,
}


def narrate(event: Payload) -> str | None:
    """One log line for `event`, or None when a reader does not need one."""
    narrator = _NARRATORS.get(str(event.get("type")))
    return None if narrator is None else narrator(event)
