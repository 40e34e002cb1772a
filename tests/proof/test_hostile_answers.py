"""Hostile input, well-formed answers this seat may not give, on Mallory's own connection: refused by the
seat (an error: acting for another seat, a phase that is not open, out of turn) or by the game (`rejected`,
a fault when the answer is illegal: a target or action not on the menu, an empty or too long speech, a
vote for the dead, a stranger or herself; no fault for a duplicate or a late answer, or when she is dead).
After a refused duplicate or late answer she reconnects: she is welcomed back, and that request is
not sent again.

How a case is played and checked: `tests.proof.hostile_kit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.proof.hostile_kit import (
    Attack,
    Case,
    Ctx,
    Observed,
    Trigger,
    act,
    assert_game_correct,
    each_case,
    play_case,
)
from tests.proof.mallory import MALLORY, Mallory
from tests.proof.wire import assert_reaction


def at_request(phase: str) -> Trigger:
    return lambda m, frame: frame["type"] == "request" and frame["phase"] == phase


def at_event(kind: str, test: Callable[[Mallory, dict[str, Any]], bool] = lambda m, e: True) -> Trigger:
    def trigger(m: Mallory, frame: dict[str, Any]) -> bool:
        return frame["type"] == "event" and frame["event"]["type"] == kind and test(m, frame["event"])

    return trigger


at_others_turn = at_event(
    "phase_started", lambda m, e: e["phase"] == "discussion" and e["speaker"] != MALLORY
)
#: Another player's speaking turn while the night-1 request is still Mallory's latest.
at_others_turn_first = at_event(
    "phase_started",
    lambda m, e: e["phase"] == "discussion" and e["speaker"] != MALLORY and len(m.requests) == 1,
)
after_her_death = at_event("phase_started", lambda m, e: m.dead)


def vote_for(pick: Callable[[Mallory], str]) -> Attack:
    return lambda m, ctx, frame: m.act(m.request["phase_id"], {"kind": "vote", "target": pick(m)})


def first_dead(m: Mallory) -> str:
    return str(next(e["player"] for e in m.events if e["type"] == "player_died"))


def duplicate_answer(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    inspect = {"kind": "inspect", "target": "Bruno"}
    m.answer(m.request, inspect)  # legal, and the night stays open: Bruno is held
    m.act(m.request["phase_id"], inspect)


def dead_player_acts(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    start = len(m.reactions)
    m.act(m.requests[0]["phase_id"], {"kind": "inspect", "target": "Bruno"})  # her last request: over
    m.collect(start + 1)
    m.act(frame["event"]["phase_id"], {"kind": "abstain"})  # the phase open now, not hers


def late_answer(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
    m.act(m.requests[0]["phase_id"], {"kind": "inspect", "target": "Chloe"})


def then_reconnect(first: Attack) -> Attack:
    """`first`, its reaction, then Mallory drops her connection and comes back; the new connection's
    frames up to a pong (events and requests for other phases left out)."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> Observed:
        start = len(m.reactions)
        first(m, ctx, frame)
        m.collect(start + 1)
        lines = m.reactions[start:]
        m.close()
        m.connect()
        m.conn.send_json({"type": "ping", "nonce": "back"})
        while (got := m.pump()) is not None:
            if got["type"] == "request" and got["phase_id"] == m.requests[0]["phase_id"]:
                lines.append(f"request {got['phase_id']} again")
            elif got["type"] in ("welcome", "pong"):
                lines.append(got["type"])
            if got["type"] == "pong":
                break
        return lines

    return send


INSPECT_BRUNO = {"kind": "inspect", "target": "Bruno"}
ANSWERED = "rejected: no answer is expected from you in this phase (already answered?)"

CASES = [
    # -- answers this seat may not give: refused by the seat (error) or by the game (rejected)
    Case(
        "act_for_another_seat",
        act(INSPECT_BRUNO, player="Bruno"),
        ("not_your_seat: this connection plays Alice; it cannot act for Bruno",),
    ),
    Case(
        "wrong_phase_id",
        act(INSPECT_BRUNO, phase_id=7),
        ("stale_phase: phase 7 is not open (the open request is for phase {request})",),
    ),
    Case(
        "acting_out_of_turn",
        lambda m, ctx, frame: m.act(frame["event"]["phase_id"], {"kind": "speak", "text": "me first!"}),
        ("stale_phase: phase {phase} is not open (the open request is for phase {request})",),
        when=at_others_turn,
        hold="discussion",
    ),
    Case(
        "illegal_target",
        act({"kind": "inspect", "target": "Alice"}),
        ("rejected: inspect target 'Alice' is not allowed now (allowed: Bruno, Chloe, Damien, Elise)",),
        faults=1,
    ),
    Case(
        "kind_not_on_the_menu",
        act({"kind": "kill", "target": "Bruno"}),
        ("rejected: kill is not allowed in the night phase (allowed: inspect, abstain)",),
        faults=1,
    ),
    Case("duplicate_answer", duplicate_answer, (ANSWERED,)),
    Case(
        "answer_after_the_phase_closed",
        late_answer,
        ("rejected: phase {first} is over",),
        when=at_others_turn_first,
        hold="discussion",
    ),
    Case(
        "empty_speech",
        act({"kind": "speak", "text": "   "}),
        ("rejected: speech must be non-empty text (abstain to pass the turn)",),
        when=at_request("discussion"),
        hold=None,
        faults=1,
    ),
    Case(
        "speech_over_the_game_limit",
        act({"kind": "speak", "text": "x" * 1001}),
        ("rejected: speech is 1001 characters, the limit is 1000",),
        when=at_request("discussion"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_a_dead_player",
        vote_for(first_dead),
        ("rejected: is not allowed now (allowed:",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_an_unknown_player",
        vote_for(lambda m: "Zorro"),
        ("rejected: vote target 'Zorro' is not allowed now",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "vote_for_herself",
        vote_for(lambda m: MALLORY),
        ("rejected: vote target 'Alice' is not allowed now",),
        when=at_request("vote"),
        hold=None,
        faults=1,
    ),
    Case(
        "dead_player_acts",
        dead_player_acts,
        (
            "rejected: phase {first} is over",
            "stale_phase: phase {phase} is not open (the open request is for phase {first})",
        ),
        when=after_her_death,
        hold=None,
        hunt=True,
    ),
    Case(
        "reconnect_after_a_refused_duplicate",
        then_reconnect(duplicate_answer),
        (ANSWERED, "welcome", "pong"),
    ),
    Case(
        "reconnect_after_a_late_answer",
        then_reconnect(late_answer),
        ("rejected: phase {first} is over", "welcome", "pong"),
        when=at_others_turn_first,
        hold="discussion",
    ),
]


@each_case(CASES)
def test_hostile_input(case, servers, baseline):
    played = play_case(servers[case.server], case, baseline)
    assert_reaction(tuple(line.format_map(played.ids) for line in case.expect), played.observed)
    assert_game_correct(played, mallory_faults=case.faults)
