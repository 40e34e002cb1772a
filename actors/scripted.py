"""ScriptedAgent: the injectable test actor. Plays a fixed sequence of actions and fails loudly.

A script is a list of steps, each an action and optionally the phase it expects to be asked in.
When the game asks for something the script did not expect (another phase, an action that is not
legal, or more steps than it has), the agent raises `ScriptError` naming the step; its seat reports
the failure and the game records a fault event with that message.

Script files (TOML or JSON) hold `steps`, each either a string `"[phase:] verb [argument]"`
(`"night: inspect Bruno"`, `"discussion: say I am the seer"`, `"vote: vote Bruno"`, `"bid 3"`,
`"abstain"`) or a table `{phase = "vote", kind = "vote", target = "Bruno"}`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine import (
    Abstain,
    Action,
    ActionKind,
    Choice,
    Observation,
    Phase,
    Speak,
    action_from_dict,
    action_to_dict,
)


class ScriptError(Exception):
    """The game asked the script for something it did not expect, or the script is malformed."""


@dataclass(frozen=True, slots=True)
class ScriptStep:
    """One scripted action, and the phase it expects (None: any phase)."""

    action: Action
    phase: Phase | None = None


class ScriptedAgent:
    """Plays `steps` in order; raises ScriptError (naming the step) on anything unexpected."""

    #: Reads its next step: played inline by the game master (`actors.inline`).
    instant: ClassVar[bool] = True

    def __init__(self, steps: Sequence[ScriptStep | Action | str], *, name: str = "script") -> None:
        """`steps` may mix `ScriptStep`s, bare actions (no phase check) and shorthand strings."""
        self.steps = [_as_step(s, i) for i, s in enumerate(steps, 1)]
        self.name = name
        self.position = 0

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        """The next scripted action, checked against the phase and the menu."""
        number = self.position + 1
        if self.position >= len(self.steps):
            raise ScriptError(
                f"{self.name}: script exhausted after {len(self.steps)} steps; "
                f"the game asked for step {number} in the {observation.phase} phase"
            )
        step = self.steps[self.position]
        self.position += 1
        if step.phase is not None and step.phase is not observation.phase:
            raise ScriptError(
                f"{self.name}: step {number} expects the {step.phase} phase, "
                f"the game asked in the {observation.phase} phase"
            )
        for choice in choices:
            if choice.kind is step.action.kind and choice.refusal(step.action) is None:
                return step.action
        menu = "; ".join(_describe_choice(c) for c in choices)
        raise ScriptError(
            f"{self.name}: step {number} ({action_to_dict(step.action)}) is not legal now; menu: {menu}"
        )

    @classmethod
    def from_file(cls, path: Path) -> ScriptedAgent:
        """Load a TOML (`.toml`) or JSON script; raises ScriptError saying what is wrong."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(f"cannot read script {path}: {exc.strerror}") from None
        try:
            data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ScriptError(
                f"script {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}"
            ) from None
        if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
            raise ScriptError(f"script {path} must hold a list named 'steps'")
        steps = [parse_step(item, index) for index, item in enumerate(data["steps"], 1)]
        return cls(steps, name=path.name)


def _as_step(item: ScriptStep | Action | str, index: int) -> ScriptStep:
    if isinstance(item, ScriptStep):
        return item
    if isinstance(item, str):
        return parse_step(item, index)
    return ScriptStep(item)


def parse_step(item: object, index: int = 1) -> ScriptStep:
    """Parse one script step (string shorthand or table); raises ScriptError naming the step."""
    try:
        if isinstance(item, str):
            return _parse_shorthand(item)
        if isinstance(item, Mapping):
            fields = {k: v for k, v in item.items() if k != "phase"}
            phase = Phase(item["phase"]) if "phase" in item else None
            return ScriptStep(action_from_dict(fields), phase)
    except (ValueError, KeyError) as exc:
        raise ScriptError(f"step {index}: {exc}") from None
    raise ScriptError(f"step {index}: expected a string or a table, got {type(item).__name__}")


_VERBS = {"say": ActionKind.SPEAK, "speak": ActionKind.SPEAK, "pass": ActionKind.ABSTAIN}


def _parse_shorthand(text: str) -> ScriptStep:
    phase: Phase | None = None
    head, sep, rest = text.partition(":")
    if sep and head.strip() in {p.value for p in Phase}:
        phase = Phase(head.strip())
        text = rest
    verb, _, argument = text.strip().partition(" ")
    kind = _VERBS.get(verb.lower()) or ActionKind(verb.lower())
    argument = argument.strip()
    if kind is ActionKind.SPEAK:
        return ScriptStep(Speak(argument), phase)
    if kind is ActionKind.ABSTAIN:
        return ScriptStep(Abstain(), phase)
    if kind is ActionKind.BID:
        return ScriptStep(action_from_dict({"kind": "bid", "amount": int(argument)}), phase)
    if not argument:
        raise ValueError(f"{kind} needs a target")
    return ScriptStep(action_from_dict({"kind": kind.value, "target": argument}), phase)


def _describe_choice(choice: Choice) -> str:
    if choice.targets:
        return f"{choice.kind} {'/'.join(choice.targets)}"
    return choice.kind.value
