"""The role registry: what each role is, whom it wins with, and which power it has.

Phases never switch on a role by name; they ask this table. Adding a role means adding a
`RoleSpec` here (and, for a new kind of night power, its targets and resolution step in
`engine.night`), not touching every phase.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.actions import ActionKind
from engine.vocabulary import Role, Team


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleSpec:
    """What a role is.

    Attributes:
        role: the role this spec describes.
        team: the side it wins with.
        is_wolf: counts as a werewolf for parity, the wolves' chat and the kill vote.
        seen_as_wolf: what the seer and the medium learn about it.
        night_action: the power used in the simultaneous night phase, if any.
        witch: wakes after the wolves have chosen, with one heal and one poison per game.
        shoots_on_death: may shoot a living player when he dies.
        learns_executed: learns at nightfall whether the last executed player was a wolf.
        summary: one line for docs and prompts.
    """

    role: Role
    team: Team
    is_wolf: bool = False
    seen_as_wolf: bool = False
    night_action: ActionKind | None = None
    witch: bool = False
    shoots_on_death: bool = False
    learns_executed: bool = False
    summary: str


ROLE_SPECS: dict[Role, RoleSpec] = {
    spec.role: spec
    for spec in (
        RoleSpec(role=Role.VILLAGER, team=Team.VILLAGE, summary="No power; finds the wolves by talking."),
        RoleSpec(
            role=Role.WEREWOLF,
            team=Team.WOLVES,
            is_wolf=True,
            seen_as_wolf=True,
            night_action=ActionKind.KILL,
            summary="Knows the other wolves; each night the wolves vote on a victim.",
        ),
        RoleSpec(
            role=Role.SEER,
            team=Team.VILLAGE,
            night_action=ActionKind.INSPECT,
            summary="Each night inspects one player and learns whether they are a werewolf.",
        ),
        RoleSpec(
            role=Role.DOCTOR,
            team=Team.VILLAGE,
            night_action=ActionKind.PROTECT,
            summary="Each night protects one player from the wolves.",
        ),
        RoleSpec(
            role=Role.BODYGUARD,
            team=Team.VILLAGE,
            night_action=ActionKind.PROTECT,
            summary="AIWolf's doctor: each night guards one player from the wolves.",
        ),
        RoleSpec(
            role=Role.WITCH,
            team=Team.VILLAGE,
            witch=True,
            summary="Told the wolves' victim; one healing potion and one poison for the whole game.",
        ),
        RoleSpec(
            role=Role.HUNTER,
            team=Team.VILLAGE,
            shoots_on_death=True,
            summary="When he dies, by any cause, shoots one living player.",
        ),
        RoleSpec(
            role=Role.POSSESSED,
            team=Team.WOLVES,
            summary="A human who wins with the wolves; seen as human; does not know the wolves.",
        ),
        RoleSpec(
            role=Role.MEDIUM,
            team=Team.VILLAGE,
            learns_executed=True,
            summary="Learns each night whether the last executed player was a werewolf.",
        ),
    )
}

#: Names accepted for roles in configs and on the command line, besides the enum values.
ROLE_ALIASES: dict[str, Role] = {"wolf": Role.WEREWOLF, "werewolves": Role.WEREWOLF, "guard": Role.BODYGUARD}


def parse_role(name: str) -> Role:
    """Return the role called `name` (case-insensitive; aliases allowed) or raise ValueError."""
    key = name.strip().lower()
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    try:
        return Role(key)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {name!r} (known roles: {known})") from None
