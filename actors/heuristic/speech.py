"""Speech for the heuristic agent: template lines to say, and a reader for what others said.

`say` picks one of several phrasings of an intent with the caller's own random generator. `parse`
reads one speech (anyone's: the agent's own templates, another bot, an LLM or a human) into
statements: role claims, "X is a werewolf", "X is not a werewolf", accusations and defences.
Players are recognised by their ids as whole words, case-insensitively. The reader is a handful of
regular expressions, deliberately forgiving: a missed phrasing only costs the agent information.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from engine import PlayerId, Role

#: Several phrasings per intent. Fields: {t} target, {s} a seer claimant, {a} an accuser, {m} a mate,
#: {c} a claimant to contradict, {role} a role phrase ("the seer", "a villager").
LINES: dict[str, tuple[str, ...]] = {
    "claim_seer": (
        "I am the seer.",
        "I'm the seer, and it's time you knew.",
        "Listen carefully: I am the seer.",
        "I'll come out now. I am the seer.",
        "No more hiding: I'm the seer.",
    ),
    "seer_again": (
        "As the seer, here is my next result.",
        "Another result from my night.",
        "I'm the seer, as I said. New result.",
    ),
    "claim_medium": (
        "I am the medium.",
        "I'm the medium, and I have news.",
        "Time to say it: I am the medium.",
    ),
    "result_wolf": (
        "{t} is a werewolf.",
        "{t} is a werewolf, I saw it myself.",
        "My inspection was certain: {t} is a wolf.",
        "I looked at {t} in the night. {t} is a werewolf.",
    ),
    "result_clear": (
        "{t} is not a werewolf.",
        "{t} is innocent.",
        "I checked {t}. {t} is clear.",
        "{t} is not a wolf.",
    ),
    "medium_wolf": (
        "{t} was a werewolf.",
        "{t} was a wolf. Good call, everyone.",
        "{t} was a werewolf, we got one.",
    ),
    "medium_clear": (
        "{t} was not a werewolf.",
        "{t} was innocent. We made a mistake.",
        "{t} was not a wolf.",
    ),
    "vote_known": (
        "Vote {t} today.",
        "Everyone, vote {t}.",
        "We must vote {t} out today.",
        "Let's vote {t} and end this.",
    ),
    "accuse_generic": (
        "I suspect {t}.",
        "My vote goes to {t}.",
        "{t} seems suspicious to me.",
        "I think we should vote {t} today.",
        "I don't trust {t}. Let's vote {t}.",
        "Something about {t} feels off. I suspect {t}.",
    ),
    "accuse_named_by_seer": (
        "I believe {s}. {t} must be voted out today.",
        "{s} came out and named a wolf. I vote {t}.",
        "I trust {s} on this. Let's vote {t}.",
    ),
    "accuse_accused": (
        "Several of you have pointed at {t}, and I agree. I vote {t}.",
        "{t} keeps getting named and the answers have not convinced me. I suspect {t}.",
        "I'm with the others on this one: I suspect {t}.",
    ),
    "accuse_votes": (
        "Look at the votes. I suspect {t}.",
        "The voting record points at {t}. I vote {t}.",
        "{t} voted the wrong way and I haven't forgotten. I suspect {t}.",
    ),
    "accuse_false_claim": (
        "{t} is lying about their role. {t} is a werewolf.",
        "That claim was a lie, so {t} is a wolf.",
        "{t} is lying. Vote {t}.",
    ),
    "accuse_attacks_seer": (
        "{t} keeps attacking our only claimed informant. I suspect {t}.",
        "Why is {t} so eager to discredit the one who came out? I suspect {t}.",
    ),
    "accuse_accused_me": (
        "{t} is pushing hard against me, and I know I'm innocent. I suspect {t}.",
        "I know what I am, so {t} is wrong on purpose. I vote {t}.",
    ),
    "accuse_quiet": (
        "{t} has been very quiet. I suspect {t}.",
        "We've barely heard from {t}. That worries me. I suspect {t}.",
        "{t} talks but never says anything. I suspect {t}.",
    ),
    "hunch": (
        "Nobody is giving us anything, so I'll trust my gut: I suspect {t}.",
        "We can't keep skipping votes. I suspect {t}.",
        "Someone has to start. My vote goes to {t}.",
        "I have little to go on, but {t} feels off to me. I suspect {t}.",
    ),
    "repeat": (
        "My vote stays on {t}.",
        "Nothing has changed my mind. I vote {t}.",
        "Still voting {t}.",
        "I stand by what I said: I suspect {t}.",
    ),
    "deny": (
        "I am not a werewolf, {a}. You've got the wrong person.",
        "{a}, you're wrong about me. I'm on the village side.",
        "Accusing me won't save you, {a}. I'm not a wolf.",
        "I'm not a werewolf. {a}, look elsewhere.",
    ),
    "vague": (
        "I have no strong read yet. Let's hear everyone out.",
        "Too early to point fingers. I'm listening carefully.",
        "Nothing solid so far. Whoever dodges questions will get my vote.",
        "I don't have much to go on yet. Let's be careful with our votes.",
        "Let's keep talking. The wolves will slip up sooner or later.",
    ),
    "ask": ("{t}, what do you think?", "I'd like to hear from {t}.", "{t}, who do you find suspicious?"),
    "defend_mate": ("I trust {m}.", "{m} seems honest to me.", "I've watched {m} closely. {m} seems fine."),
    "counter_claim": (
        "Don't listen to {c}. I am the real seer, and {c} is a werewolf.",
        "{c} is lying. I'm the seer, and {c} is a werewolf.",
        "That's a fake claim. I am the seer. {c} is a wolf.",
    ),
    "doubt_claim": (
        "I don't buy that claim. {c} is lying.",
        "{c} is lying. A fake claim is exactly what a wolf would try.",
        "Convenient story, {c}. I think {c} is lying.",
    ),
    "chat_propose": (
        "Let's take {t} tonight.",
        "I say we go for {t}.",
        "{t} is the biggest threat. Let's take {t}.",
        "How about {t} tonight?",
    ),
    "chat_agree": ("Agreed, {t} it is.", "Fine by me, {t} tonight.", "Yes, {t}. Same target."),
    "lw_role": ("I was {role}.", "For the record, I was {role}.", "You should know I was {role}."),
    "lw_hint": ("Look closely at {t}.", "Don't let {t} fool you.", "My last advice: vote {t}."),
    "lw_none": ("Good luck, everyone.", "Find the wolves without me.", "Think hard before the next vote."),
    "lw_wolf": (
        "You made a mistake, I was a villager. {t} is the real werewolf.",
        "I was on your side. Now watch {t}.",
        "Wrong choice. I was innocent, and {t} is laughing at you.",
    ),
}


def say(rng: random.Random, intent: str, **fields: str) -> str:
    """One phrasing of `intent`, chosen by `rng`, with `fields` filled in."""
    return rng.choice(LINES[intent]).format(**fields)


def role_phrase(role: Role) -> str:
    """How a role is named in speech: "the seer", "a villager"."""
    return "a villager" if role is Role.VILLAGER else f"the {role.value}"


class Kind(StrEnum):
    """What a statement says."""

    CLAIM = "claim"  # the speaker claims a role
    WOLF = "wolf"  # the target is a werewolf
    CLEAR = "clear"  # the target is not a werewolf
    SUSPECT = "suspect"  # the speaker suspects or wants to vote the target
    DEFEND = "defend"  # the speaker trusts the target


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing a speech says; `target` is None for a claim, `role` is set only for a claim."""

    kind: Kind
    target: PlayerId | None = None
    role: Role | None = None


_ROLE_WORDS = {
    "seer": Role.SEER,
    "medium": Role.MEDIUM,
    "doctor": Role.DOCTOR,
    "bodyguard": Role.BODYGUARD,
    "guard": Role.BODYGUARD,
    "witch": Role.WITCH,
    "hunter": Role.HUNTER,
    "villager": Role.VILLAGER,
}
_ROLES = "|".join(_ROLE_WORDS)
_CLAIMS = (
    re.compile(
        r"\b(?:i\s+am|i'm|im|i\s+was|my\s+role\s+is|i\s+play)"
        r"(?:\s+(?:actually|really|indeed|just|only|simply|in\s+fact))*"
        r"(?:\s+(?:the|a|an|your|a\s+simple|a\s+plain|a\s+humble|a\s+normal|an\s+ordinary))?"
        rf"(?:\s+(?:real|true|actual|genuine|only))?\s+({_ROLES})\b"
    ),
    re.compile(rf"\bas\s+(?:the|your)\s+(?:real\s+|true\s+)?({_ROLES})\s*,"),
    re.compile(r"\bi\s+(?:inspected|divined)\b()"),
)
_COP = (
    r"(?:'s|\s+is|\s+was|\s*[:=\u2014-]|\s+must\s+be|\s+has\s+to\s+be|\s+seems\s+to\s+be"
    r"|\s+turned\s+out\s+to\s+be)"
)
_ADV = r"(?:\s+(?:definitely|surely|clearly|certainly|obviously|really|indeed|also|actually|absolutely))*"
_ART = r"(?:\s+(?:a|an|the|one\s+of\s+the|one\s+of\s+our|our))?(?:\s+(?:real|true|confirmed|actual))?"
_WOLFW = r"\s+(?:were)?wol(?:f|ves)\b"
_TAIL_WOLF = re.compile(rf"^{_COP}{_ADV}(?:{_ART}{_WOLFW}|\s+evil\b)")
_TAIL_CLEAR = re.compile(
    rf"^{_COP}{_ADV}(?:(?:\s+not|n't|\s+never){_ART}{_WOLFW}|\s+(?:innocent|clear|cleared|human|a\s+human"
    r"|a\s+villager|good|safe|on\s+(?:our|the\s+village(?:'s)?)\s+side)\b)"
)
_DEGREE = r"(?:\s+(?:very|quite|really|a\s+bit|rather|so|pretty|too|the\s+most|most|definitely|clearly))*"
_TAIL_SUSPECT = re.compile(
    rf"^(?:\s+(?:is|seems|looks|sounds|acts|acted|has\s+been|was|feels)|'s){_DEGREE}\s+(?:suspicious|shady"
    r"|sus|fishy|off|odd|strange|evasive|lying|a\s+liar|deceptive|fake|dodgy)\b"
    r"|^\s+(?:lies|lied)\b|^\s+(?:must|should|has\s+to|needs\s+to)\s+(?:go|be\s+(?:voted\s+out|executed"
    r"|eliminated|lynched))\b|^'s\s+claim\s+is\s+(?:fake|false|a\s+lie)"
)
_TAIL_DEFEND = re.compile(
    rf"^(?:\s+(?:is|seems|looks|sounds|has\s+been)|'s){_DEGREE}\s+(?:trustworthy|honest|fine|okay|ok"
    r"|reliable|genuine|legit|believable|sincere|credible|telling\s+the\s+truth)\b"
)
_HEAD_SUSPECT = re.compile(
    r"\b(?:suspect|suspicious\s+of|distrust|mistrust|(?:don't|do\s+not|can't|cannot)\s+trust|vote[sd]?"
    r"|voting|execute|eliminate|lynch|accuse|accusing|point(?:ing)?\s+(?:at|to)|go\s+after|worried\s+about"
    r"|wary\s+of|exile|banish|watch|look\s+(?:closely\s+|hard\s+)?at)(?:\s+(?:goes\s+to|go\s+to|stays\s+on|is\s+on|is\s+for|for|against|out|to|on))?\s*[:,]?\s*$"
)
_HEAD_DEFEND = re.compile(r"\b(?:trust|vouch\s+for|believe|defend|side\s+with|agree\s+with)\s*[:,]?\s*$")
_NEGATED = re.compile(
    r"(?:\b(?:not|never|doubt|if|whether|unless|why|no\s+reason\s+to)|n't)(?:\s+\w+){0,2}\s*$"
)
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")


@lru_cache(maxsize=64)
def _name_pattern(players: tuple[PlayerId, ...]) -> re.Pattern[str]:
    names = sorted((re.escape(p.lower()) for p in players), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(names) + r")(?!\w)")


def _normalise(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=4096)
def mentions(text: str, players: tuple[PlayerId, ...]) -> tuple[PlayerId, ...]:
    """The players named in `text`, in order of first mention, without repeats."""
    canon = {p.lower(): p for p in players}
    found = dict.fromkeys(canon[m.group(1)] for m in _name_pattern(players).finditer(_normalise(text)))
    return tuple(found)


@lru_cache(maxsize=8192)
def parse(text: str, speaker: PlayerId, players: tuple[PlayerId, ...]) -> tuple[Statement, ...]:
    """Read one speech by `speaker` into statements, role claims first, each (kind, target) once."""
    canon = {p.lower(): p for p in players}
    names = _name_pattern(players)
    claims: list[Statement] = []
    others: list[Statement] = []
    for sentence in _SENTENCES.split(_normalise(text)):
        if sentence.rstrip().endswith("?"):
            continue
        for claim in _CLAIMS:
            for m in claim.finditer(sentence):
                if not _NEGATED.search(sentence[: m.start()]):
                    claims.append(Statement(Kind.CLAIM, role=_ROLE_WORDS.get(m.group(1), Role.SEER)))
        for m in names.finditer(sentence):
            target = canon[m.group(1)]
            if target != speaker:
                kind = _classify(sentence[: m.start()], sentence[m.end() :])
                if kind is not None:
                    others.append(Statement(kind, target))
    return tuple(dict.fromkeys(claims + others))


def _classify(head: str, tail: str) -> Kind | None:
    negated = _NEGATED.search(head) is not None
    for kind, pattern in ((Kind.WOLF, _TAIL_WOLF), (Kind.CLEAR, _TAIL_CLEAR), (Kind.SUSPECT, _TAIL_SUSPECT)):
        if pattern.search(tail):
            return None if negated else kind
    if _TAIL_DEFEND.search(tail):
        return None if negated else Kind.DEFEND
    m = _HEAD_SUSPECT.search(head)
    if m is not None:
        trust_verb = "trust" in m.group(0)
        return Kind.SUSPECT if trust_verb or not _NEGATED.search(head[: m.start()]) else None
    m = _HEAD_DEFEND.search(head)
    if m is not None and not _NEGATED.search(head[: m.start()]):
        return Kind.DEFEND
    return None
