"""The rules of Werewolf as a pure, seeded state machine (stdlib only, no I/O).

Actions go in (`Game.apply`, `Game.deadline_passed`), events come out, each tagged with its audience;
`Game.observe(player)` is a player's view. See docs/rules.md for the rules this enforces.
"""

from engine.actions import (
    Abstain,
    Action,
    ActionKind,
    Bid,
    Choice,
    Heal,
    Inspect,
    Kill,
    Poison,
    Protect,
    Shoot,
    Speak,
    Vote,
    action_from_dict,
    action_to_dict,
    random_action,
)
from engine.config import (
    DEFAULT_NAMES,
    PRESETS,
    RULE_DOCS,
    Discussion,
    GameConfig,
    Reveal,
    Rules,
    TiePolicy,
    VoteRule,
    preset,
)
from engine.errors import ConfigError, IllegalAction, WerewolfError
from engine.events import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    Audience,
    DeathCause,
    Event,
    Scope,
    event_to_dict,
    to_player,
)
from engine.game import Game
from engine.observation import Observation, may_see
from engine.outcome import Outcome, Termination
from engine.record import ReplayError, replay, to_record
from engine.roles import ROLE_SPECS, RoleSpec, parse_role
from engine.seeding import DEFAULT_SEED_BITS, HOST_SECRET_BYTES, game_key, seat_seed
from engine.vocabulary import Phase, PlayerId, Role, Team

__all__ = [
    "DEFAULT_NAMES",
    "DEFAULT_SEED_BITS",
    "GAME_MASTER",
    "HOST_SECRET_BYTES",
    "PRESETS",
    "PUBLIC",
    "ROLE_SPECS",
    "RULE_DOCS",
    "WOLVES",
    "Abstain",
    "Action",
    "ActionKind",
    "Audience",
    "Bid",
    "Choice",
    "ConfigError",
    "DeathCause",
    "Discussion",
    "Event",
    "Game",
    "GameConfig",
    "Heal",
    "IllegalAction",
    "Inspect",
    "Kill",
    "Observation",
    "Outcome",
    "Phase",
    "PlayerId",
    "Poison",
    "Protect",
    "ReplayError",
    "Reveal",
    "Role",
    "RoleSpec",
    "Rules",
    "Scope",
    "Shoot",
    "Speak",
    "Team",
    "Termination",
    "TiePolicy",
    "Vote",
    "VoteRule",
    "WerewolfError",
    "action_from_dict",
    "action_to_dict",
    "event_to_dict",
    "game_key",
    "may_see",
    "parse_role",
    "preset",
    "random_action",
    "replay",
    "seat_seed",
    "to_player",
    "to_record",
]
