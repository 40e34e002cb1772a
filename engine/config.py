"""Game configuration: who sits at the table, which roles are dealt, and the rule switches.

A `GameConfig` is validated when it is built, so an impossible configuration cannot exist.
`docs/rules.md` is generated from `RULE_DOCS` and `PRESETS` (see `engine.rulesdoc`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from engine.errors import ConfigError
from engine.roles import ROLE_SPECS, parse_role
from engine.vocabulary import PlayerId, Role

#: The longest speech any game may allow, in characters: the network protocol carries this much at most
#: (net/protocol.py MAX_TEXT), escaped JSON included, within its message size limit.
MAX_SPEECH_CHARS = 10_000


class VoteRule(StrEnum):
    """How the day vote picks the executed player."""

    #: Most votes wins; a tie at the top goes to `tie_policy`.
    PLURALITY = "plurality"
    #: More than half of the living players must vote for the same player, else nobody is executed
    #: (Werewolf Arena).
    STRICT_MAJORITY = "strict_majority"


class TiePolicy(StrEnum):
    """What a plurality tie at the top of the day vote leads to."""

    #: One revote among the tied players; a second tie executes nobody.
    REVOTE_THEN_NONE = "revote_then_none"
    #: One revote among the tied players; a second tie is broken by the seeded random draw.
    REVOTE_THEN_RANDOM = "revote_then_random"
    #: Nobody is executed.
    NONE = "none"
    #: The seeded random draw picks one of the tied players.
    RANDOM = "random"


class Reveal(StrEnum):
    """What everyone learns about a player when he dies."""

    NONE = "none"
    TEAM = "team"
    ROLE = "role"


class Discussion(StrEnum):
    """How speaking turns are given in the day discussion."""

    #: Every living player speaks once per round, in an order drawn each day from the seed.
    ROUND_ROBIN = "round_robin"
    #: Before each turn everyone but the last speaker bids 0-4; the highest bid speaks (Werewolf Arena).
    BIDDING = "bidding"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The rule switches. Defaults are the engine's recommended game; presets override some."""

    doctor_self_protect: bool = True
    doctor_repeat_protect: bool = False
    witch_self_save: bool = False
    allow_self_vote: bool = False
    vote_rule: VoteRule = VoteRule.PLURALITY
    tie_policy: TiePolicy = TiePolicy.REVOTE_THEN_NONE
    reveal_on_death: Reveal = Reveal.NONE
    last_words: bool = True
    discussion: Discussion = Discussion.ROUND_ROBIN
    discussion_rounds: int = 2
    bidding_max_turns: int = 8
    wolf_chat: bool = True
    wolf_chat_rounds: int = 1
    max_days: int = 10
    max_speech_chars: int = 1000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _RULE_TYPES[f.name]
            if kind is bool or kind is int:
                if type(value) is not kind:
                    raise ConfigError(f"rule {f.name} must be {kind.__name__}, got {value!r}")
            elif not isinstance(value, kind):
                raise ConfigError(f"rule {f.name} must be one of {[v.value for v in kind]}, got {value!r}")
        for name, low, high in _RULE_BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"rule {name} must be between {low} and {high}, got {value}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rules:
        """Build rules from plain values (strings for enums); unknown keys are an error."""
        unknown = set(data) - set(_RULE_TYPES)
        if unknown:
            raise ConfigError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            kind = _RULE_TYPES[name]
            if kind in (bool, int):
                values[name] = raw
            else:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    choices = ", ".join(v.value for v in kind)
                    raise ConfigError(f"rule {name}: {raw!r} is not one of {choices}") from None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form (enums as strings), the inverse of `from_dict`."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


_RULE_TYPES: dict[str, Any] = {  # bool, int or a StrEnum class
    "doctor_self_protect": bool,
    "doctor_repeat_protect": bool,
    "witch_self_save": bool,
    "allow_self_vote": bool,
    "vote_rule": VoteRule,
    "tie_policy": TiePolicy,
    "reveal_on_death": Reveal,
    "last_words": bool,
    "discussion": Discussion,
    "discussion_rounds": int,
    "bidding_max_turns": int,
    "wolf_chat": bool,
    "wolf_chat_rounds": int,
    "max_days": int,
    "max_speech_chars": int,
}
_RULE_BOUNDS = (
    ("discussion_rounds", 0, 20),
    ("bidding_max_turns", 0, 100),
    ("wolf_chat_rounds", 0, 20),
    ("max_days", 1, 100),
    ("max_speech_chars", 1, MAX_SPEECH_CHARS),
)

#: One line per rule switch, for `docs/rules.md` and `run.py --help`.
RULE_DOCS: dict[str, str] = {
    "doctor_self_protect": "the doctor (bodyguard) may protect himself",
    "doctor_repeat_protect": "the doctor (bodyguard) may protect the same player two nights in a row",
    "witch_self_save": "the witch may use her healing potion on herself",
    "allow_self_vote": "a player may vote to execute himself",
    "vote_rule": "day vote: plurality, or strict majority of the living (else nobody is executed)",
    "tie_policy": "plurality tie at the top: revote_then_none, revote_then_random, none or random",
    "reveal_on_death": "what is announced when someone dies: none, team or role",
    "last_words": "the executed player may speak once more",
    "discussion": "day discussion protocol: round_robin or bidding",
    "discussion_rounds": "round_robin: rounds per day (each living player speaks once per round)",
    "bidding_max_turns": "bidding: speaking turns per day",
    "wolf_chat": "wolves chat privately before their kill vote (only while two or more are alive)",
    "wolf_chat_rounds": "rounds of the wolves' chat per night",
    "max_days": "the game ends with no winner after this many days",
    "max_speech_chars": "longest accepted speech, in characters",
}

DEFAULT_NAMES: tuple[str, ...] = (
    "Alice", "Bruno", "Chloe", "Damien", "Elise", "Fabien", "Gaelle", "Hugo",
    "Ines", "Julien", "Karine", "Louis", "Margot", "Nathan", "Oceane", "Paul",
    "Quentin", "Rose", "Simon", "Theo",
)  # fmt: skip
MAX_PLAYERS = len(DEFAULT_NAMES)


@dataclass(frozen=True, slots=True, kw_only=True)
class GameConfig:
    """A playable configuration: seats (by name, in seating order), the roles dealt, the rules.

    Attributes:
        players: the player ids in seat order.
        roles: how many of each role are dealt, in `Role` order, zero counts omitted. Their sum equals
            the number of players (`build` fills empty seats with villagers).
        rules: the rule switches.
        name: the preset this came from, or "custom".
    """

    players: tuple[PlayerId, ...]
    roles: tuple[tuple[Role, int], ...]
    rules: Rules = field(default_factory=Rules)
    name: str = "custom"

    def __post_init__(self) -> None:
        _validate(self.players, self.roles)

    @classmethod
    def build(
        cls,
        roles: Mapping[str, int] | Mapping[Role, int],
        *,
        players: int | Sequence[str] | None = None,
        rules: Rules | None = None,
        name: str = "custom",
    ) -> GameConfig:
        """Build a config from role counts; seats not covered by a role are villagers."""
        counts: dict[Role, int] = {}
        for key, count in roles.items():
            try:
                role = key if isinstance(key, Role) else parse_role(str(key))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if type(count) is not int or count < 0:
                raise ConfigError(f"count for {role} must be a non-negative integer, got {count!r}")
            counts[role] = counts.get(role, 0) + count
        dealt = sum(counts.values())
        names = _player_names(players, dealt)
        if dealt > len(names):
            raise ConfigError(f"{dealt} roles for {len(names)} seats: more roles than seats")
        counts[Role.VILLAGER] = counts.get(Role.VILLAGER, 0) + len(names) - dealt
        ordered = tuple((r, counts[r]) for r in Role if counts.get(r))
        return cls(players=names, roles=ordered, rules=rules or Rules(), name=name)

    @property
    def role_counts(self) -> dict[Role, int]:
        """Role -> count, zero counts omitted."""
        return dict(self.roles)

    def with_rules(self, **changes: Any) -> GameConfig:
        """A copy with some rules changed (validated); unknown rule names are a ConfigError."""
        unknown = set(changes) - set(_RULE_TYPES)
        if unknown:
            raise ConfigError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        return replace(self, rules=replace(self.rules, **changes))

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form for logs; `from_dict` is its inverse."""
        return {
            "name": self.name,
            "players": list(self.players),
            "roles": {r.value: n for r, n in self.roles},
            "rules": self.rules.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GameConfig:
        """Rebuild a config from `to_dict` output; raises ConfigError on anything malformed."""
        try:
            players = data["players"]
            roles = data["roles"]
            rules = Rules.from_dict(data.get("rules", {}))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"malformed game config: {exc}") from None
        if not isinstance(roles, Mapping):
            raise ConfigError("config 'roles' must map role names to counts")
        return cls.build(roles, players=players, rules=rules, name=str(data.get("name", "custom")))


def _player_names(players: int | Sequence[str] | None, dealt: int) -> tuple[PlayerId, ...]:
    if players is None:
        players = dealt
    if isinstance(players, int) and not isinstance(players, bool):
        if not 1 <= players <= MAX_PLAYERS:
            raise ConfigError(f"player count must be between 1 and {MAX_PLAYERS}, got {players}")
        return tuple(PlayerId(n) for n in DEFAULT_NAMES[:players])
    if isinstance(players, str) or not isinstance(players, Sequence):
        raise ConfigError(f"players must be a count or a list of names, got {players!r}")
    return tuple(PlayerId(n) for n in players)


def _validate(players: tuple[PlayerId, ...], roles: tuple[tuple[Role, int], ...]) -> None:
    if len(players) < 3:  # noqa: PLR2004 - fewer than three seats cannot hold a wolf and two humans
        raise ConfigError(f"a game needs at least 3 players, got {len(players)}")
    for name in players:
        if not isinstance(name, str) or not name or not name.isprintable() or name != name.strip():
            raise ConfigError(f"player name {name!r} must be printable text without surrounding spaces")
    if len({n.lower() for n in players}) != len(players):
        raise ConfigError("player names must be unique (ignoring case)")
    counts: dict[Role, int] = {}
    for role, count in roles:
        if not isinstance(role, Role):
            raise ConfigError(f"unknown role {role!r}")
        if type(count) is not int or count <= 0:
            raise ConfigError(f"count for {role} must be a positive integer, got {count!r}")
        counts[role] = counts.get(role, 0) + count
    total = sum(counts.values())
    if total != len(players):
        raise ConfigError(f"{total} roles dealt for {len(players)} seats; they must be equal")
    wolves = sum(n for r, n in counts.items() if ROLE_SPECS[r].is_wolf)
    if wolves == 0:
        raise ConfigError("no werewolf: a game needs at least one")
    if wolves >= total - wolves:
        raise ConfigError(
            f"{wolves} werewolves against {total - wolves} others: "
            "the wolves would win before the game starts"
        )


def _plain(value: object) -> object:
    return value.value if isinstance(value, StrEnum) else value


def _preset(name: str, roles: dict[Role, int], **rules: Any) -> GameConfig:
    return GameConfig.build(roles, rules=Rules(**rules), name=name)


#: Named presets that reproduce the rival systems' games (see docs/rules.md for the sources).
PRESETS: dict[str, GameConfig] = {
    cfg.name: cfg
    for cfg in (
        # Google Werewolf Arena / Kaggle Game Arena: 8 seats; WA's bidding debate (8 turns) and
        # strict-majority exile; no reveal; one wolf decision per night (no chat).
        _preset(
            "classic-8",
            {Role.WEREWOLF: 2, Role.SEER: 1, Role.DOCTOR: 1, Role.VILLAGER: 4},
            discussion=Discussion.BIDDING,
            bidding_max_turns=8,
            vote_rule=VoteRule.STRICT_MAJORITY,
            wolf_chat=False,
            last_words=False,
            doctor_repeat_protect=True,
        ),
        # AIWolf NLP default_5: no bodyguard; plurality, revote then random; no reveal.
        _preset(
            "aiwolf-5",
            {Role.WEREWOLF: 1, Role.POSSESSED: 1, Role.SEER: 1, Role.VILLAGER: 2},
            discussion_rounds=3,
            tie_policy=TiePolicy.REVOTE_THEN_RANDOM,
            last_words=False,
            allow_self_vote=False,
        ),
        # AIWolf NLP default_13: whisper (wolf chat), bodyguard who cannot guard himself, medium.
        _preset(
            "aiwolf-13",
            {
                Role.WEREWOLF: 3,
                Role.POSSESSED: 1,
                Role.SEER: 1,
                Role.BODYGUARD: 1,
                Role.MEDIUM: 1,
                Role.VILLAGER: 6,
            },
            discussion_rounds=3,
            tie_policy=TiePolicy.REVOTE_THEN_RANDOM,
            last_words=False,
            doctor_self_protect=False,
            doctor_repeat_protect=True,
        ),
        # AgentScope werewolves example: 9 seats, wolves discuss then vote, witch, hunter, last words,
        # one sequential discussion round, ties resolved arbitrarily (here: the seeded draw).
        _preset(
            "agentscope-9",
            {Role.WEREWOLF: 3, Role.VILLAGER: 3, Role.SEER: 1, Role.WITCH: 1, Role.HUNTER: 1},
            discussion_rounds=1,
            tie_policy=TiePolicy.RANDOM,
            wolf_chat_rounds=2,
            witch_self_save=False,
        ),
    )
}


def preset(name: str) -> GameConfig:
    """Return the preset called `name`, or raise ConfigError listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None
