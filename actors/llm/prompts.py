"""What an LLM seat is told: who it is, the rules as configured, what it knows, and what to decide.

The rules come from `engine.rulesdoc.describe_rules`, the text docs/rules.md is generated from, so a
model is told exactly the rules the engine runs. The history is the narration of the events the
seat was allowed to see; when it outgrows the budget, the oldest part is cut down to its key facts
(deaths, votes, results), then trimmed from the start, so the prompt never overflows the context.
"""

from __future__ import annotations

from actors.llm.personas import Persona
from actors.llm.reply import speech_limit
from engine import ROLE_SPECS, ActionKind, Choice, Event, GameConfig, Observation, Phase
from engine.events import (
    DayBroke,
    HunterShot,
    MediumLearned,
    NoExecution,
    PlayerDied,
    SeerLearned,
    VotesRevealed,
    WitchWoke,
    WolvesChose,
)
from engine.narration import narrate
from engine.rulesdoc import describe_rules

_KEY_FACTS = (
    DayBroke,
    PlayerDied,
    VotesRevealed,
    NoExecution,
    SeerLearned,
    MediumLearned,
    HunterShot,
    WitchWoke,
    WolvesChose,
)

_PHASE_TASK = {
    Phase.WOLF_CHAT: "It is night. You talk privately with the other werewolves: agree on tonight's victim.",
    Phase.NIGHT: "It is night. Use your night power now.",
    Phase.WITCH: "It is night. The wolves have chosen their victim: decide whether to use a potion.",
    Phase.HUNTER: "You have just died, and you are the hunter: you may shoot one living player.",
    Phase.DISCUSSION: "It is day. It is your turn to speak to the village.",
    Phase.BIDDING: "It is day. Bid for the next turn to speak: 0 = just listen, 4 = you must answer now.",
    Phase.VOTE: "It is day. Vote on whom to execute.",
    Phase.LAST_WORDS: "You have just been executed. Say your last words.",
}


def system_prompt(config: GameConfig, obs: Observation, persona: Persona) -> str:
    """Who the seat is, the rules, and how to answer."""
    spec = ROLE_SPECS[obs.role]
    lines = [
        f"You are {obs.player}, playing a game of Werewolf (Loup-Garou) with {len(obs.players) - 1} others: "
        f"{', '.join(p for p in obs.players if p != obs.player)}.",
        f"You speak like {persona.style}.",
        f"Your secret role: {obs.role.value} (you win with the {spec.team.value}). {spec.summary}",
    ]
    if obs.wolves:
        others = [w for w in obs.wolves if w != obs.player]
        lines.append(
            f"Your fellow werewolves: {', '.join(others) or 'none'}. Never reveal this to the village."
        )
    lines += [
        "",
        "The rules of this game:",
        describe_rules(config),
        "",
        "Answer with one JSON object that follows the schema you are given, and nothing else. "
        '"reasoning" holds your private thoughts (nobody else sees them); "speech" is what you say aloud.',
    ]
    return "\n".join(lines)


def history(events: tuple[Event, ...], budget: int) -> str:
    """The narrated history, within `budget` characters (older parts reduced to key facts)."""
    lines = [(event, text) for event in events if (text := narrate(event)) is not None]
    full = "\n".join(text for _, text in lines)
    if len(full) <= budget:
        return full
    recent: list[str] = []
    used = 0
    for _, text in reversed(lines):  # the most recent events, in full, up to two thirds of the budget
        if used + len(text) + 1 > budget * 2 // 3:
            break
        recent.append(text)
        used += len(text) + 1
    older = lines[: len(lines) - len(recent)]
    facts = [text for event, text in older if isinstance(event, _KEY_FACTS)]
    summary = "\n".join(facts)
    room = budget - used - 40
    if len(summary) > room:
        summary = "..." + summary[len(summary) - room :]
    return "Earlier (key facts only):\n" + summary + "\n\nRecently:\n" + "\n".join(reversed(recent))


def _describe(choice: Choice, speech_chars: int | None = None) -> str:
    match choice.kind:
        case ActionKind.SPEAK:
            limit = speech_limit(choice, speech_chars)
            return f'"speak": say something (at most {limit} characters) in "speech"'
        case ActionKind.BID:
            return f'"bid": an integer from 0 to {choice.max_bid} in "bid"'
        case ActionKind.ABSTAIN:
            return '"abstain": do nothing this time'
        case kind:
            return f'"{kind.value}": one of {", ".join(choice.targets)} in "target"'


def decision_prompt(
    obs: Observation, choices: tuple[Choice, ...], budget: int, *, speech_chars: int | None = None
) -> str:
    """The history, the seat's private state and the decision to make now."""
    private = []
    if obs.heal_left or obs.poison_left:
        left = [n for n, has in (("healing", obs.heal_left), ("poison", obs.poison_left)) if has]
        private.append(f"Potions left: {', '.join(left)}.")
    parts = [
        "What you have seen so far:",
        history(obs.events, budget) or "(nothing yet)",
        "",
        f"Day {obs.day}. Alive: {', '.join(obs.alive_players)}.",
        *private,
        _PHASE_TASK.get(obs.phase, "Decide."),
        'Set "action" to one of:',
        *(f"- {_describe(c, speech_chars)}" for c in choices),
    ]
    return "\n".join(parts)


def retry_prompt(
    error: str,
    choices: tuple[Choice, ...],
    *,
    cut: bool,
    reasoning_chars: int,
    speech_chars: int | None = None,
) -> str:
    """The short follow-up after an invalid reply: the error quoted, the allowed values listed again.

    It replaces the previous follow-up (the conversation does not grow with each re-ask), and a reply
    cut by the length bound is told to be shorter, since the same bound applies again.
    """
    lines = [f"That reply is invalid: {error}."]
    if cut:
        lines.append(
            f'It was cut off at the length limit: answer shorter, with "reasoning" under {reasoning_chars} '
            "characters (one sentence is enough)."
        )
    lines += [
        'Answer with one JSON object and nothing else. Set "action" to one of:',
        *(f"- {_describe(c, speech_chars)}" for c in choices),
    ]
    return "\n".join(lines)
