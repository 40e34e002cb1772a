"""The rules as text, generated from the same config the engine runs (so what is announced is run).

`describe_rules(config)` is the short form given to players (and LLM prompts); `rules_markdown()` is
docs/rules.md. Regenerate the doc with `python -m engine.rulesdoc > docs/rules.md`; a test fails when
the committed file is stale.
"""

from __future__ import annotations

from dataclasses import fields

from engine.actions import ActionKind
from engine.config import PRESETS, RULE_DOCS, Discussion, GameConfig, Reveal, Rules, TiePolicy, VoteRule
from engine.roles import ROLE_SPECS
from engine.vocabulary import Role


def _vote_sentence(rules: Rules) -> str:
    if rules.vote_rule is VoteRule.STRICT_MAJORITY:
        return (
            "Everyone alive votes at once (or abstains); votes are revealed together. A player is executed "
            "only with more than half of the living players' votes; otherwise nobody is."
        )
    tie = {
        TiePolicy.REVOTE_THEN_NONE: "a tie at the top leads to one revote among the tied; a second tie executes nobody",
        TiePolicy.REVOTE_THEN_RANDOM: "a tie at the top leads to one revote among the tied; a second tie is drawn",
        TiePolicy.NONE: "a tie at the top executes nobody",
        TiePolicy.RANDOM: "a tie at the top is drawn at random",
    }[rules.tie_policy]
    return (
        "Everyone alive votes at once (or abstains); votes are revealed together. The most-voted player is "
        f"executed; {tie}; if nobody votes, nobody is executed."
    )


def _discussion_sentence(rules: Rules) -> str:
    if rules.discussion is Discussion.BIDDING:
        return (
            f"Day discussion: {rules.bidding_max_turns} speaking turns. Before each turn everyone alive except "
            "the last speaker bids 0-4 at once; the highest bid speaks (ties go to a player named in the last "
            "speech, then to a random draw)."
        )
    return (
        f"Day discussion: {rules.discussion_rounds} round(s); in each round every living player speaks once, "
        "in an order drawn each day."
    )


_POWER_VERBS = {Role.SEER: "inspects", Role.DOCTOR: "protects", Role.BODYGUARD: "guards"}


def describe_rules(config: GameConfig) -> str:
    """The rules of this game in plain words, one rule per line."""
    rules = config.rules
    counts = ", ".join(f"{n} {r.value}" for r, n in config.roles)
    lines = [
        f"{len(config.players)} players: {counts}.",
        "The village wins when every werewolf is dead; the wolves win as soon as living werewolves are at "
        "least as many as everyone else alive. Victory is checked after every death.",
        "The game opens at night 1; night N comes before day N.",
    ]
    if rules.wolf_chat and rules.wolf_chat_rounds:
        lines.append(
            f"At night, while two or more wolves live, they chat privately ({rules.wolf_chat_rounds} round(s)) "
            "before voting on a victim."
        )
    present = {r for r, _ in config.roles}
    powers = ["wolves vote on a victim (most votes; a tie is drawn)"]
    powers += [f"the {r.value} {_POWER_VERBS[r]}" for r in Role if r in present and r in _POWER_VERBS]
    night = "Night actions are simultaneous: " + ", ".join(powers) + "."
    if any(ROLE_SPECS[r].witch for r in present):
        night += " Then the witch, told the victim, may heal or poison."
    lines.append(night)
    for role, _ in config.roles:
        lines.append(f"{role.value}: {ROLE_SPECS[role].summary}")
    if any(ROLE_SPECS[r].night_action is ActionKind.PROTECT for r in present):
        lines.append(
            f"The doctor/bodyguard {'may' if rules.doctor_self_protect else 'may not'} protect himself and "
            f"{'may' if rules.doctor_repeat_protect else 'may not'} protect the same player two nights in a row."
        )
    if any(ROLE_SPECS[r].witch for r in present):
        lines.append(
            f"The witch {'may' if rules.witch_self_save else 'may not'} heal herself; one potion per night."
        )
    lines.append(_discussion_sentence(rules))
    lines.append(_vote_sentence(rules))
    lines.append(
        f"Self-votes are {'allowed' if rules.allow_self_vote else 'not allowed'}. "
        f"The executed player {'speaks last words' if rules.last_words else 'has no last words'}."
    )
    reveal = {
        Reveal.NONE: "nothing about them is revealed",
        Reveal.TEAM: "their team is revealed",
        Reveal.ROLE: "their role is revealed",
    }[rules.reveal_on_death]
    lines.append(f"When someone dies, {reveal}.")
    lines.append(
        f"After day {rules.max_days} the game ends with no winner. Speeches are at most "
        f"{rules.max_speech_chars} characters."
    )
    return "\n".join(lines)


def rules_markdown() -> str:
    """The whole of docs/rules.md."""
    defaults = Rules()
    out = [
        "# Rules the engine enforces",
        "",
        "Generated from `engine/config.py` and `engine/roles.py` by `python -m engine.rulesdoc > docs/rules.md`;",
        "a test fails when this file is stale. The same text (`describe_rules`) is what players are told.",
        "",
        "## Roles",
        "",
        "| role | team | seen by the seer as | power |",
        "| --- | --- | --- | --- |",
    ]
    for role, spec in ROLE_SPECS.items():
        seen = "werewolf" if spec.seen_as_wolf else "human"
        out.append(f"| {role.value} | {spec.team.value} | {seen} | {spec.summary} |")
    out += [
        "",
        "## How a game runs",
        "",
        "- The seed deals the roles, draws each day's speaking order and the wolves' chat order, and breaks every",
        "  tie. The engine reads no clock and no global randomness: one seed and the same inputs replay one game.",
        "- Night N: (wolves' chat) -> simultaneous night actions -> the witch -> dawn. Protections are applied,",
        "  then the wolves' victim (most kill votes, a tie is drawn), then the seer's inspection; the witch is",
        "  told the victim and may heal it or poison someone (one potion a night). At dawn the victim dies unless",
        "  protected or healed; the poisoned die. Night deaths are simultaneous and announced without a cause.",
        "- The medium learns at nightfall whether the player executed that day was a werewolf.",
        "- Day N: discussion -> simultaneous vote (revealed together) -> execution -> last words -> hunter.",
        "- A dying hunter (any cause, poison included) may shoot a living player; the executed player's last",
        "  words and the hunter's shot are the only actions the dead take.",
        "- Victory is checked after every death; the game ends there and no later phase opens.",
        "- A player who misses a deadline abstains (passes, skips his power) and the fault is recorded;",
        "  an illegal action is rejected with a reason and changes nothing.",
        "",
        "## Rule switches",
        "",
        "| switch | default | meaning |",
        "| --- | --- | --- |",
    ]
    for f in fields(Rules):
        value = getattr(defaults, f.name)
        shown = value.value if hasattr(value, "value") else value
        out.append(f"| `{f.name}` | `{shown}` | {RULE_DOCS[f.name]} |")
    out += ["", "## Presets", ""]
    for name, config in PRESETS.items():
        changed = [
            f"`{f.name}={_shown(getattr(config.rules, f.name))}`"
            for f in fields(Rules)
            if getattr(config.rules, f.name) != getattr(defaults, f.name)
        ]
        out += [
            f"### {name}",
            "",
            f"Switches changed from the defaults: {', '.join(changed) or 'none'}.",
            "",
            "```text",
            describe_rules(config),
            "```",
            "",
        ]
    return "\n".join(out)


def _shown(value: object) -> object:
    return value.value if hasattr(value, "value") else value


if __name__ == "__main__":
    import sys

    sys.stdout.write(rules_markdown())
