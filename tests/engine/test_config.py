"""Config validation: an impossible configuration is a ConfigError whose message says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from engine import (
    PRESETS,
    RULE_DOCS,
    ConfigError,
    Discussion,
    Game,
    GameConfig,
    PlayerId,
    Role,
    Rules,
    TiePolicy,
    VoteRule,
    WerewolfError,
    preset,
)
from tests.engine.helpers import ALICE, BRUNO, CHLOE, DAMIEN

# ----------------------------------------------------------------------------------- roles and seats


@pytest.mark.parametrize(
    ("roles", "players", "message"),
    [
        ({"seer": 1}, 4, "no werewolf: a game needs at least one"),
        ({"villager": 5}, None, "no werewolf"),
        ({"werewolf": 2}, 4, "2 werewolves against 2 others: the wolves would win before the game starts"),
        ({"werewolf": 3, "seer": 1}, 5, "3 werewolves against 2 others"),
        ({"werewolf": 1}, 2, "a game needs at least 3 players, got 2"),
        (
            {"werewolf": 1, "seer": 1, "doctor": 1, "witch": 1},
            3,
            "4 roles for 3 seats: more roles than seats",
        ),
        ({"werewolf": 1, "seer": 2}, ["Alice", "Bruno"], "3 roles for 2 seats"),
        ({"vampire": 1}, 5, "unknown role 'vampire' \\(known roles: villager, werewolf, seer"),
        ({"werewolf": -1}, 5, "count for werewolf must be a non-negative integer, got -1"),
        ({"werewolf": 1.5}, 5, "must be a non-negative integer, got 1.5"),
        ({"werewolf": 1}, 21, "player count must be between 1 and 20, got 21"),
        ({"werewolf": 1}, 0, "player count must be between 1 and 20, got 0"),
        ({"werewolf": 1}, "Alice", "players must be a count or a list of names"),
        ({"werewolf": 1}, ["Alice", "Bruno", "alice"], "player names must be unique"),
        ({"werewolf": 1}, ["Alice", "Bruno", ""], "player name '' must be printable text"),
        ({"werewolf": 1}, ["Alice", "Bruno", " Chloe"], "without surrounding spaces"),
        ({"werewolf": 1}, ["Alice", "Bruno", "Ch\nloe"], "must be printable"),
    ],
)
def test_impossible_config_is_rejected(roles: dict[str, Any], players: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GameConfig.build(roles, players=players)


def test_config_error_is_a_value_error_and_ours() -> None:
    with pytest.raises(ValueError, match="no werewolf") as caught:
        GameConfig.build({"seer": 1}, players=4)
    assert isinstance(caught.value, WerewolfError)


def test_build_fills_empty_seats_with_villagers_and_accepts_aliases() -> None:
    config = GameConfig.build({"Wolf": 1, Role.SEER: 1, "guard": 1}, players=6)
    assert config.players == ("Alice", "Bruno", "Chloe", "Damien", "Elise", "Fabien")
    assert config.roles == ((Role.VILLAGER, 3), (Role.WEREWOLF, 1), (Role.SEER, 1), (Role.BODYGUARD, 1))


def test_direct_construction_is_validated_too() -> None:
    players = (ALICE, BRUNO, CHLOE)
    with pytest.raises(ConfigError, match="unknown role 'werewolf'"):
        GameConfig(players=players, roles=(("werewolf", 1), (Role.VILLAGER, 2)))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="count for villager must be a positive integer, got 0"):
        GameConfig(players=players, roles=((Role.WEREWOLF, 1), (Role.VILLAGER, 2), (Role.VILLAGER, 0)))
    with pytest.raises(ConfigError, match="2 roles dealt for 3 seats; they must be equal"):
        GameConfig(players=players, roles=((Role.WEREWOLF, 1), (Role.VILLAGER, 1)))


def test_explicit_deal_must_match_the_config() -> None:
    config = GameConfig.build({"werewolf": 1}, players=[ALICE, BRUNO, CHLOE, DAMIEN])
    good = {ALICE: Role.WEREWOLF, BRUNO: Role.VILLAGER, CHLOE: Role.VILLAGER, DAMIEN: Role.VILLAGER}
    assert Game.with_roles(config, good).role_of(ALICE) is Role.WEREWOLF
    with pytest.raises(ConfigError, match="does not match the config's roles"):
        Game.with_roles(config, {**good, BRUNO: Role.SEER})
    with pytest.raises(ConfigError, match="must give a role to every player and to nobody else"):
        Game.with_roles(config, {ALICE: Role.WEREWOLF, BRUNO: Role.VILLAGER, CHLOE: Role.VILLAGER})
    with pytest.raises(ConfigError, match="every player"):
        Game.with_roles(config, {**good, PlayerId("Zoe"): Role.VILLAGER})


# --------------------------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"max_days": 0}, "rule max_days must be between 1 and 100, got 0"),
        ({"max_days": 101}, "rule max_days must be between 1 and 100, got 101"),
        ({"discussion_rounds": -1}, "rule discussion_rounds must be between 0 and 20"),
        ({"bidding_max_turns": 101}, "rule bidding_max_turns must be between 0 and 100"),
        ({"wolf_chat_rounds": 21}, "rule wolf_chat_rounds must be between 0 and 20"),
        ({"max_speech_chars": 0}, "rule max_speech_chars must be between 1 and 10000"),
        ({"last_words": "yes"}, "rule last_words must be bool, got 'yes'"),
        ({"wolf_chat": 1}, "rule wolf_chat must be bool, got 1"),
        ({"discussion_rounds": True}, "rule discussion_rounds must be int, got True"),
        ({"max_days": 2.0}, "rule max_days must be int, got 2.0"),
        ({"vote_rule": "plurality"}, "rule vote_rule must be one of \\['plurality', 'strict_majority'\\]"),
        ({"tie_policy": None}, "rule tie_policy must be one of"),
    ],
)
def test_bad_rule_values_are_rejected(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Rules(**rules)
    with pytest.raises(ConfigError, match=message):
        PRESETS["classic-8"].with_rules(**rules)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"tie_policy": "coin_flip"}, "rule tie_policy: 'coin_flip' is not one of revote_then_none, "),
        (
            {"reveal_on_death": "everything"},
            "rule reveal_on_death: 'everything' is not one of none, team, role",
        ),
        ({"vote_rule": 3}, "rule vote_rule: 3 is not one of plurality, strict_majority"),
        ({"max_days": "3"}, "rule max_days must be int, got '3'"),
    ],
)
def test_bad_rule_values_from_plain_data_are_rejected(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Rules.from_dict(rules)


def test_unknown_rule_names_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown rule\\(s\\): night_length, sheriff"):
        Rules.from_dict({"sheriff": True, "night_length": 3, "max_days": 4})
    with pytest.raises(ConfigError, match="unknown rule\\(s\\): sheriff"):
        PRESETS["aiwolf-5"].with_rules(sheriff=True)
    data = PRESETS["aiwolf-5"].to_dict()
    data["rules"]["sheriff"] = True
    with pytest.raises(ConfigError, match="unknown rule\\(s\\): sheriff"):
        GameConfig.from_dict(data)


def test_rules_from_plain_data_and_back() -> None:
    rules = Rules.from_dict({"vote_rule": "strict_majority", "tie_policy": "random", "max_days": 4})
    assert (rules.vote_rule, rules.tie_policy, rules.max_days) == (
        VoteRule.STRICT_MAJORITY,
        TiePolicy.RANDOM,
        4,
    )
    assert Rules.from_dict(rules.to_dict()) == rules
    assert set(RULE_DOCS) == set(Rules().to_dict())


def test_with_rules_changes_only_the_named_rules() -> None:
    config = PRESETS["classic-8"].with_rules(max_days=3, discussion=Discussion.ROUND_ROBIN)
    assert (config.rules.max_days, config.rules.discussion) == (3, Discussion.ROUND_ROBIN)
    assert config.rules.vote_rule is VoteRule.STRICT_MAJORITY
    assert (config.players, config.roles) == (PRESETS["classic-8"].players, PRESETS["classic-8"].roles)


# ---------------------------------------------------------------------------- presets and plain form


@pytest.mark.parametrize(
    ("name", "seats", "wolves"),
    [("classic-8", 8, 2), ("aiwolf-5", 5, 1), ("aiwolf-13", 13, 3), ("agentscope-9", 9, 3)],
)
def test_presets(name: str, seats: int, wolves: int) -> None:
    config = preset(name)
    assert config.name == name
    assert len(config.players) == seats
    assert config.role_counts[Role.WEREWOLF] == wolves
    assert GameConfig.from_dict(config.to_dict()) == config


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'classic-9' \\(known: classic-8, aiwolf-5, "):
        preset("classic-9")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"roles": {"werewolf": 1}}, "malformed game config"),
        ({"players": 5}, "malformed game config"),
        ({"players": 5, "roles": ["werewolf"]}, "config 'roles' must map role names to counts"),
        ({"players": 5, "roles": {"werewolf": 1}, "rules": ["max_days"]}, "malformed game config"),
        ([1, 2], "malformed game config"),
    ],
)
def test_malformed_plain_config_is_rejected(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GameConfig.from_dict(data)
