"""Actions players submit, and the menu of choices (`Choice`) the engine offers them.

An action is a frozen value; `Game.apply` checks it against the player's current choices before it
changes anything. Every action serialises to a small dict (`action_to_dict`) for logs and replays.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from engine.vocabulary import PlayerId


class ActionKind(StrEnum):
    """The kind of an action; also the `kind` field of its serialised form."""

    SPEAK = "speak"
    BID = "bid"
    VOTE = "vote"
    KILL = "kill"
    INSPECT = "inspect"
    PROTECT = "protect"
    HEAL = "heal"
    POISON = "poison"
    SHOOT = "shoot"
    ABSTAIN = "abstain"


@dataclass(frozen=True, slots=True)
class Speak:
    """Say something (day discussion, wolves' chat, last words)."""

    text: str
    kind: ClassVar[ActionKind] = ActionKind.SPEAK


@dataclass(frozen=True, slots=True)
class Bid:
    """Bid for the next speaking turn (bidding discussion): 0 = just listen ... 4 = must answer."""

    amount: int
    kind: ClassVar[ActionKind] = ActionKind.BID


@dataclass(frozen=True, slots=True)
class Vote:
    """Vote to execute `target` (day vote)."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.VOTE


@dataclass(frozen=True, slots=True)
class Kill:
    """A werewolf's vote for the night's victim."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.KILL


@dataclass(frozen=True, slots=True)
class Inspect:
    """The seer looks at `target`."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.INSPECT


@dataclass(frozen=True, slots=True)
class Protect:
    """The doctor (bodyguard) protects `target` from the wolves tonight."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.PROTECT


@dataclass(frozen=True, slots=True)
class Heal:
    """The witch spends her healing potion on the wolves' victim `target`."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.HEAL


@dataclass(frozen=True, slots=True)
class Poison:
    """The witch spends her poison on `target`."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.POISON


@dataclass(frozen=True, slots=True)
class Shoot:
    """A dying hunter shoots `target`."""

    target: PlayerId
    kind: ClassVar[ActionKind] = ActionKind.SHOOT


@dataclass(frozen=True, slots=True)
class Abstain:
    """Do nothing this phase: pass a speaking turn, abstain from a vote, skip a night power."""

    kind: ClassVar[ActionKind] = ActionKind.ABSTAIN


Action = Speak | Bid | Vote | Kill | Inspect | Protect | Heal | Poison | Shoot | Abstain
TargetedAction = Vote | Kill | Inspect | Protect | Heal | Poison | Shoot

ACTION_CLASSES: dict[ActionKind, type[Action]] = {
    cls.kind: cls for cls in (Speak, Bid, Vote, Kill, Inspect, Protect, Heal, Poison, Shoot, Abstain)
}
TARGETED_KINDS = frozenset(
    {
        ActionKind.VOTE,
        ActionKind.KILL,
        ActionKind.INSPECT,
        ActionKind.PROTECT,
        ActionKind.HEAL,
        ActionKind.POISON,
        ActionKind.SHOOT,
    }
)
MAX_BID = 4


@dataclass(frozen=True, slots=True)
class Choice:
    """One line of a player's menu: a kind of action and what it may be applied to.

    Attributes:
        kind: the action kind this line allows.
        targets: for targeted kinds, the players that may be named, in seat order.
        max_chars: for SPEAK, the longest text accepted.
        max_bid: for BID, the highest amount accepted (the lowest is 0).
    """

    kind: ActionKind
    targets: tuple[PlayerId, ...] = ()
    max_chars: int = 0
    max_bid: int = 0

    def refusal(self, action: Action) -> str | None:
        """Say why this choice does not allow `action` (None if it does). `action.kind` must match."""
        # isinstance tests rather than `match` class patterns: the same tests, at a third of the cost
        # (this runs for every action).
        if isinstance(action, Speak):
            text = action.text
            if not isinstance(text, str) or not text.strip():
                return "speech must be non-empty text (abstain to pass the turn)"
            if len(text) > self.max_chars:
                return f"speech is {len(text)} characters, the limit is {self.max_chars}"
            return None
        if isinstance(action, Bid):
            amount = action.amount
            if type(amount) is not int or not 0 <= amount <= self.max_bid:
                return f"bid must be an integer from 0 to {self.max_bid}, got {amount!r}"
            return None
        if isinstance(action, Abstain):
            return None
        target = action.target
        if target in self.targets:
            return None
        allowed = ", ".join(self.targets) or "nobody"
        return f"{action.kind} target {target!r} is not allowed now (allowed: {allowed})"


#: The last line of every menu: doing nothing is always allowed.
ABSTAIN_CHOICE = Choice(ActionKind.ABSTAIN)


@functools.lru_cache(maxsize=4096)
def targeted_menu(kind: ActionKind, targets: tuple[PlayerId, ...]) -> tuple[Choice, ...]:
    """`kind` on one of `targets`, or abstain: one shared value per menu (menus repeat within a phase
    and across games, and a frozen `Choice` is slow to build)."""
    return (Choice(kind, targets), ABSTAIN_CHOICE)


def action_to_dict(action: Action) -> dict[str, Any]:
    """Serialise an action: `{"kind": "vote", "target": "Alice"}`."""
    match action:
        case Speak(text=text):
            return {"kind": action.kind.value, "text": text}
        case Bid(amount=amount):
            return {"kind": action.kind.value, "amount": amount}
        case Abstain():
            return {"kind": action.kind.value}
        case _:
            return {"kind": action.kind.value, "target": action.target}


def action_from_dict(data: Mapping[str, Any]) -> Action:
    """Rebuild an action from `action_to_dict` output; raises ValueError naming what is wrong."""
    try:
        kind = ActionKind(data["kind"])
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"unknown or missing action kind in {dict(data)!r}") from None
    fields = {k: v for k, v in data.items() if k != "kind"}
    expected = {"text"} if kind is ActionKind.SPEAK else {"amount"} if kind is ActionKind.BID else set()
    if kind in TARGETED_KINDS:
        expected = {"target"}
    if set(fields) != expected:
        raise ValueError(f"{kind} takes fields {sorted(expected)}, got {sorted(fields)}")
    if kind in TARGETED_KINDS and not isinstance(fields["target"], str):
        raise ValueError(f"{kind} target must be a string")
    if kind is ActionKind.SPEAK and not isinstance(fields["text"], str):
        raise ValueError("speak text must be a string")
    if kind is ActionKind.BID and type(fields["amount"]) is not int:
        raise ValueError("bid amount must be an integer")
    return ACTION_CLASSES[kind](**fields)


def random_action(
    choices: Sequence[Choice], rng: random.Random, *, text: str = "I have nothing to add."
) -> Action:
    """A uniformly random legal action from a menu: first a choice, then a target or amount.

    Speech is the fixed `text`. Used by random agents, tests and benchmarks; `rng` is the caller's own.
    """
    choice = choices[0] if len(choices) == 1 else rng.choice(choices)
    kind = choice.kind
    if kind is _SPEAK_KIND:
        return _speech(text, choice.max_chars)
    if kind is _BID_KIND:
        return Bid(rng.randint(0, choice.max_bid))
    if kind is _ABSTAIN_KIND:
        return _ABSTAIN
    target = choice.targets[0] if len(choice.targets) == 1 else rng.choice(choice.targets)
    return _targeted(kind, target)


# Actions are frozen values, so the random player hands out shared ones: building a frozen dataclass
# costs more than the rest of a random choice, and random play repeats the same few actions.
_ABSTAIN = Abstain()
# Enum members as plain globals: reading `ActionKind.SPEAK` costs ~0.07 µs in CPython 3.11 (the enum
# metaclass's attribute lookup), as much as a third of the rest of a speaking turn's random choice.
_SPEAK_KIND, _BID_KIND, _ABSTAIN_KIND = ActionKind.SPEAK, ActionKind.BID, ActionKind.ABSTAIN


@functools.lru_cache(maxsize=256)
def _speech(text: str, max_chars: int) -> Speak:
    return Speak(text[:max_chars])


@functools.lru_cache(maxsize=4096)
def _targeted(kind: ActionKind, target: PlayerId) -> Action:
    return _TARGETED[kind](target)


_TARGETED: dict[ActionKind, Callable[[PlayerId], Action]] = {
    ActionKind.VOTE: Vote,
    ActionKind.KILL: Kill,
    ActionKind.INSPECT: Inspect,
    ActionKind.PROTECT: Protect,
    ActionKind.HEAL: Heal,
    ActionKind.POISON: Poison,
    ActionKind.SHOOT: Shoot,
}
