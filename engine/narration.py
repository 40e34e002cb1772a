"""Plain-words narration of events, for transcripts, logs and prompts (no colour, no I/O).

`narrate(event)` says what happened in one line, or returns None for bookkeeping events that a
reader does not need (acknowledgements, phase openings that the next line makes obvious).
It never adds information the event does not carry, so narrating only what a player may see
keeps his secrets.
"""

from __future__ import annotations

from engine.events import (
    BidsRevealed,
    DayBroke,
    Event,
    GameEnded,
    GameStarted,
    HunterShot,
    MediumLearned,
    NightFell,
    NightResolved,
    NoExecution,
    PhaseStarted,
    PlayerDied,
    PlayerFaulted,
    Reasoned,
    RoleAssigned,
    SeerLearned,
    Spoke,
    VotesRevealed,
    WitchWoke,
    WolvesChose,
    WolvesMet,
)
from engine.vocabulary import Phase, Team


def _game_started(e: GameStarted) -> str:
    roles = ", ".join(f"{n} {r.value}" for r, n in e.roles)
    return f"{len(e.players)} players sit down: {', '.join(e.players)}. Roles in play: {roles}."


def _day_broke(e: DayBroke) -> str:
    if not e.deaths:
        return f"Day {e.day} breaks. Nobody died in the night."
    return f"Day {e.day} breaks. Found dead: {', '.join(e.deaths)}."


def _phase_started(e: PhaseStarted) -> str | None:
    if e.phase is Phase.VOTE:
        if e.candidates:
            return f"Revote between {', '.join(e.candidates)}."
        return "The village votes."
    if e.phase is Phase.HUNTER:
        return f"{e.speaker} is the hunter and may shoot someone."
    return None


def _spoke(e: Spoke) -> str:
    where = {Phase.WOLF_CHAT: " (to the wolves)", Phase.LAST_WORDS: " (last words)"}.get(e.phase, "")
    return f"{e.player}{where}: {e.text}"


def _votes(e: VotesRevealed) -> str:
    ballots = ", ".join(f"{v}->{t or 'abstain'}" for v, t in e.votes)
    counted = ", ".join(f"{p} {n}" for p, n in e.tally) or "no votes"
    return f"Votes: {ballots}. Tally: {counted}."


def _died(e: PlayerDied) -> str:
    how = {"night": "was found dead", "execution": "is executed", "hunter": "is shot"}[e.cause.value]
    if e.role is not None:
        return f"{e.player} {how}. {e.player} was a {e.role.value}."
    if e.team is not None:
        return f"{e.player} {how}. {e.player} played for the {e.team.value}."
    return f"{e.player} {how}."


def _ended(e: GameEnded) -> str:
    roles = ", ".join(f"{p} ({r.value})" for p, r in e.roles)
    who = {Team.VILLAGE: "The village wins", Team.WOLVES: "The wolves win", None: "Nobody wins"}[e.winner]
    return f"Game over: {who}: {e.reason}. Roles: {roles}."


def _wolves_chose(e: WolvesChose) -> str:
    return f"The wolves choose to attack {e.victim}." if e.victim else "The wolves attack nobody."


def _witch(e: WitchWoke) -> str:
    potions = [name for name, left in (("healing", e.heal_left), ("poison", e.poison_left)) if left]
    left = ", ".join(potions) or "none"
    return f"{e.witch} (witch) wakes: the wolves attacked {e.victim or 'nobody'}; potions left: {left}."


def _night_resolved(e: NightResolved) -> str:
    return (
        f"Night {e.day}: victim {e.victim or 'none'}, protected {', '.join(e.protected) or 'nobody'}, "
        f"healed {e.healed or 'nobody'}, poisoned {', '.join(e.poisoned) or 'nobody'}."
    )


def _inspection(who: str, target: str, is_wolf: bool) -> str:
    return f"{who} learns that {target} is {'a werewolf' if is_wolf else 'not a werewolf'}."


def narrate(event: Event) -> str | None:  # noqa: PLR0912 - one branch per kind of event
    """One line saying what `event` means, or None if it is bookkeeping a reader can skip."""
    match event:
        case GameStarted():
            return _game_started(event)
        case RoleAssigned(player=player, role=role):
            return f"{player} is the {role.value}."
        case WolvesMet(wolves=wolves):
            return f"The werewolves are {', '.join(wolves)}."
        case NightFell(day=day):
            return f"Night {day} falls."
        case DayBroke():
            return _day_broke(event)
        case PhaseStarted():
            return _phase_started(event)
        case Spoke():
            return _spoke(event)
        case BidsRevealed(speaker=speaker):
            return f"{speaker} wins the floor."
        case VotesRevealed():
            return _votes(event)
        case NoExecution(reason=reason):
            return f"Nobody is executed: {reason}."
        case PlayerDied():
            return _died(event)
        case WolvesChose():
            return _wolves_chose(event)
        case SeerLearned(seer=seer, target=target, is_wolf=is_wolf):
            return _inspection(f"{seer} (seer)", target, is_wolf)
        case MediumLearned(medium=medium, target=target, is_wolf=is_wolf):
            return _inspection(f"{medium} (medium)", target, is_wolf)
        case WitchWoke():
            return _witch(event)
        case NightResolved():
            return _night_resolved(event)
        case HunterShot(hunter=hunter, target=target):
            return f"{hunter} shoots {target}."
        case PlayerFaulted(player=player, phase=phase, reason=reason):
            return f"{player} faulted in the {phase.value} phase: {reason}."
        case Reasoned(player=player, text=text):
            return f"{player} thinks: {text}"
        case GameEnded():
            return _ended(event)
        case _:  # ActionRecorded and anything purely technical
            return None
