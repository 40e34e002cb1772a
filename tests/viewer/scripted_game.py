"""A scripted 8-player game as a full-view frame stream, for the viewer's model and render tests.

Every frame is validated by the wire models (`net.protocol`), so the script cannot drift from the
protocol. `MOMENTS` names the positions the render tests (and the docs screenshots) look at.

Regenerate the screenshots in docs/ with:  .venv/bin/python -m tests.viewer.scripted_game docs
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from net.protocol import EventFrame, GameOver, Welcome
from viewer.model import Item

PLAYERS = ["Alice", "Bruno", "Chloe", "Damien", "Elise", "Fabien", "Gaelle", "Hugo"]
ROLES = {
    "Alice": "werewolf",
    "Bruno": "villager",
    "Chloe": "seer",
    "Damien": "werewolf",
    "Elise": "villager",
    "Fabien": "doctor",
    "Gaelle": "villager",
    "Hugo": "hunter",
}
PUBLIC, WOLVES, GM = "public", "wolves", "game_master"


def to(player: str) -> str:
    return f"player:{player}"


def welcome(view: str = "full") -> Welcome:
    return Welcome.model_validate(
        {
            "type": "welcome",
            "protocol_version": 1,
            "client_id": "test-viewer",
            "client_type": "ui",
            "view": view,
            "game_id": "g-script",
            "seat": None,
            "resume_from": 0,
            "heartbeat_s": 20.0,
        }
    )


def event(seq: int, kind: str, audience: str, day: int, **fields: Any) -> EventFrame:
    payload = {"type": kind, "audience": audience, "day": day, **fields}
    return EventFrame.model_validate({"type": "event", "seq": seq, "event": payload})


def _script() -> list[tuple[str, str, int, dict[str, Any]]]:
    def act(player: str, kind: str, target: str | None = None) -> dict[str, Any]:
        action = {"kind": kind} if target is None else {"kind": kind, "target": target}
        return {"player": player, "action": action}

    def turn(day: int, speaker: str, pid: int) -> tuple[str, str, int, dict[str, Any]]:
        return ("phase_started", PUBLIC, day, {"phase": "discussion", "phase_id": pid, "speaker": speaker})

    def said(day: int, player: str, text: str) -> tuple[str, str, int, dict[str, Any]]:
        return ("spoke", PUBLIC, day, {"player": player, "phase": "discussion", "text": text})

    def thinks(day: int, player: str, phase: str, text: str) -> tuple[str, str, int, dict[str, Any]]:
        return ("reasoned", GM, day, {"player": player, "phase": phase, "phase_id": 1, "text": text})

    roles = [["villager", 3], ["werewolf", 2], ["seer", 1], ["doctor", 1], ["hunter", 1]]
    votes = [
        ["Alice", "Chloe"],
        ["Bruno", None],
        ["Chloe", "Damien"],
        ["Damien", "Chloe"],
        ["Elise", "Damien"],
        ["Fabien", "Damien"],
        ["Gaelle", "Damien"],
        ["Hugo", "Damien"],
    ]
    return [
        ("game_started", PUBLIC, 0, {"players": PLAYERS, "roles": roles}),
        *[("role_assigned", to(p), 0, {"player": p, "role": r}) for p, r in ROLES.items()],
        ("wolves_met", WOLVES, 0, {"wolves": ["Alice", "Damien"]}),
        ("night_fell", PUBLIC, 1, {}),
        ("phase_started", PUBLIC, 1, {"phase": "night", "phase_id": 11}),
        ("action_recorded", to("Alice"), 1, act("Alice", "kill", "Bruno")),
        ("action_recorded", to("Damien"), 1, act("Damien", "kill", "Bruno")),
        ("action_recorded", to("Chloe"), 1, act("Chloe", "inspect", "Damien")),
        ("action_recorded", to("Fabien"), 1, act("Fabien", "protect", "Chloe")),
        ("wolves_chose", WOLVES, 1, {"votes": [["Alice", "Bruno"], ["Damien", "Bruno"]], "victim": "Bruno"}),
        ("seer_learned", to("Chloe"), 1, {"seer": "Chloe", "target": "Damien", "is_wolf": True}),
        thinks(
            1, "Alice", "night", "Bruno asks sharp questions; he is the likeliest to read us. He goes first."
        ),
        thinks(1, "Chloe", "night", "Damien was quiet while everyone else joked. I will look at him first."),
        (
            "night_resolved",
            GM,
            1,
            {"victim": "Bruno", "protected": ["Chloe"], "healed": None, "poisoned": [], "deaths": ["Bruno"]},
        ),
        ("day_broke", PUBLIC, 1, {"deaths": ["Bruno"]}),
        ("player_died", PUBLIC, 1, {"player": "Bruno", "cause": "night", "role": None, "team": None}),
        turn(1, "Chloe", 21),
        said(
            1, "Chloe", "I am the seer. Last night I looked at Damien: he is a werewolf. Vote Damien today."
        ),
        thinks(
            1, "Damien", "discussion", "Chloe caught me. Best move: call her a liar and hope Alice backs me."
        ),
        turn(1, "Damien", 22),
        said(1, "Damien", "Chloe is lying to steer the vote. A real seer would wait. I say we vote Chloe."),
        thinks(
            1,
            "Alice",
            "discussion",
            "Damien is exposed. Defending him too hard ties me to him; I will sound doubtful and "
            "vote Chloe quietly, so the village sees a split and not a pack.",
        ),
        turn(1, "Alice", 23),
        said(1, "Alice", "Two claims, no proof. I lean towards Chloe being honest, but Damien has a point."),
        ("phase_started", PUBLIC, 1, {"phase": "vote", "phase_id": 24}),
        ("action_recorded", to("Chloe"), 1, act("Chloe", "vote", "Damien")),
        ("action_recorded", to("Alice"), 1, act("Alice", "vote", "Chloe")),
        ("action_recorded", to("Elise"), 1, act("Elise", "vote", "Damien")),
        ("action_recorded", to("Damien"), 1, act("Damien", "vote", "Chloe")),
        ("action_recorded", to("Fabien"), 1, act("Fabien", "vote", "Damien")),
        (
            "votes_revealed",
            PUBLIC,
            1,
            {"round": 1, "votes": votes, "tally": [["Damien", 5], ["Chloe", 2]]},
        ),
        ("player_died", PUBLIC, 1, {"player": "Damien", "cause": "execution", "role": None, "team": None}),
        ("night_fell", PUBLIC, 2, {}),
        ("phase_started", PUBLIC, 2, {"phase": "night", "phase_id": 31}),
        ("wolves_chose", WOLVES, 2, {"votes": [["Alice", "Hugo"]], "victim": "Hugo"}),
        ("day_broke", PUBLIC, 2, {"deaths": ["Hugo"]}),
        ("player_died", PUBLIC, 2, {"player": "Hugo", "cause": "night", "role": None, "team": None}),
        ("phase_started", PUBLIC, 2, {"phase": "hunter", "phase_id": 41, "speaker": "Hugo"}),
        ("hunter_shot", PUBLIC, 2, {"hunter": "Hugo", "target": "Alice"}),
        ("player_died", PUBLIC, 2, {"player": "Alice", "cause": "hunter", "role": None, "team": None}),
        (
            "game_ended",
            PUBLIC,
            2,
            {
                "winner": "village",
                "termination": "wolves_eliminated",
                "reason": "every werewolf is dead",
                "roles": [[p, r] for p, r in ROLES.items()],
            },
        ),
    ]


def events() -> list[EventFrame]:
    """Every event of the scripted game, full view, seq from 0."""
    return [
        event(seq, kind, audience, day, **fields)
        for seq, (kind, audience, day, fields) in enumerate(_script())
    ]


def game_over() -> GameOver:
    return GameOver.model_validate(
        {
            "type": "game_over",
            "game_id": "g-script",
            "winner": "village",
            "termination": "wolves_eliminated",
            "reason": "every werewolf is dead",
            "day": 2,
            "roles": ROLES,
            "faults": dict.fromkeys(PLAYERS, 0),
        }
    )


def public_events() -> list[EventFrame]:
    """What a public spectator receives: the public events, renumbered from 0."""
    public = [e for e in events() if e.event.audience == PUBLIC]
    return [EventFrame.model_validate({**e.model_dump(mode="json"), "seq": i}) for i, e in enumerate(public)]


def stream() -> list[Item]:
    """The whole full-view stream: welcome, events, game_over."""
    return [welcome(), *events(), game_over()]


def _seq_of(kind: str, nth: int = 1, **match: Any) -> int:
    found = 0
    for frame in events():
        payload = frame.model_dump(mode="json")["event"]
        if payload["type"] == kind and all(payload.get(k) == v for k, v in match.items()):
            found += 1
            if found == nth:
                return frame.seq
    raise LookupError(kind)


# Positions in `stream()` (items applied) of the key moments: welcome is item 0, so seq N is item N+1.
MOMENTS = {
    "night": _seq_of("reasoned", 2) + 2,  # the wolves chose, the seer learned; before the dawn
    "discussion": _seq_of("spoke", 3) + 2,  # Alice speaking, after her private reasoning
    "vote": _seq_of("player_died", player="Damien") + 2,  # votes revealed, Damien executed
    "game_over": len(events()) + 2,  # everything, game_over included
}


def render_moments(out_dir: Path, size: tuple[int, int] = (960, 640)) -> dict[str, Path]:
    """Render the docs screenshots of the key moments to `out_dir`; returns their paths."""
    import pygame  # noqa: PLC0415 - the caller sets the SDL variables first

    from viewer.model import fold  # noqa: PLC0415
    from viewer.render import UiState, draw  # noqa: PLC0415

    shots = {
        "viewer-night.png": ("night", UiState(full=True, now=14.0)),
        "viewer-reasoning.png": ("discussion", UiState(full=True, selected="Alice", now=9.0)),
        "viewer-vote.png": ("vote", UiState(full=False, now=31.0)),
        "viewer-game-over.png": ("game_over", UiState(full=True)),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    items = stream()
    for name, (moment, ui) in shots.items():
        model = fold(items[: MOMENTS[moment]])
        surface = pygame.Surface(size)
        draw(model, surface, ui)
        paths[name] = out_dir / name
        pygame.image.save(surface, str(paths[name]))
    return paths


if __name__ == "__main__":
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    render_moments(Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/viewer"))
