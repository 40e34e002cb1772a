"""The cover's policy (`actors.cover`), event by event on a pretend clock: its budget, its counts of the
hidden turns that could happen, and its holds."""

from __future__ import annotations

import math

import pytest

from actors.agents import RandomAgent
from actors.cover import Cover, budget, longest_deadline
from actors.heuristic import HeuristicAgent
from engine import GameConfig, Phase, PlayerId, Role, Rules, preset
from engine.actions import Abstain
from engine.config import Reveal
from engine.events import (
    GAME_MASTER,
    PUBLIC,
    WOLVES,
    ActionRecorded,
    DayBroke,
    DeathCause,
    GameEnded,
    HunterShot,
    NightFell,
    PhaseStarted,
    PlayerDied,
    Spoke,
    WitchWoke,
    to_player,
)
from tests.fakes import InstantSeat, ShownAgent

B = 10.0
P = PlayerId


def _phase(phase: Phase, audience=PUBLIC, speaker: str | None = None) -> PhaseStarted:
    return PhaseStarted(
        audience=audience, day=1, phase=phase, phase_id=1, speaker=P(speaker) if speaker else None
    )


def _died(player: str, cause=DeathCause.NIGHT, role: Role | None = None) -> PlayerDied:
    return PlayerDied(audience=PUBLIC, day=1, player=P(player), cause=cause, role=role)


def _ended() -> GameEnded:
    return GameEnded(audience=PUBLIC, day=1, winner=None, termination="max_days", reason="", roles=())


def test_budget_is_zero_for_instant_seats_and_the_longest_deadline_otherwise():
    instant = [RandomAgent(1), HeuristicAgent(2)]
    assert budget(None, instant, timeout_s=30) == 0.0
    assert budget(None, [*instant, ShownAgent(RandomAgent(3))], timeout_s=30) == 30.0
    assert (
        budget(None, [*instant, InstantSeat(RandomAgent(3))], timeout_s=30, seat_timeouts={P("A"): 120})
        == 120
    )
    assert budget(5.0, [InstantSeat(RandomAgent(3))], timeout_s=30) == 5.0  # the host's choice
    assert budget(0, [InstantSeat(RandomAgent(3))], timeout_s=30) == 0.0
    assert longest_deadline(30, {P("A"): 10}) == 30
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError, match="0 or more seconds"):
            budget(bad, instant, timeout_s=30)


def test_chat_turns_count_the_wolves_who_may_be_alive():
    assert Cover(preset("agentscope-9"), B).chat_turns() == 2 * 3  # 2 rounds, 3 wolves
    assert Cover(preset("classic-8"), B).chat_turns() == 0  # no chat in this preset
    assert Cover(preset("aiwolf-5"), B).chat_turns() == 0  # one wolf: nobody to chat with
    cover = Cover(preset("aiwolf-13"), B)
    assert cover.chat_turns() == 3
    for i, name in enumerate(["A", "B", "C", "D", "E", "F", "G"]):
        cover.admit(DayBroke(audience=PUBLIC, day=i + 1, deaths=(P(name),)), 0.0)
        cover.admit(_died(name), 0.0)
    # 6 alive: the wolves are fewer than the others, so at most 2 of them live.
    assert cover.chat_turns() == 2


def test_a_revealed_role_narrows_the_counts():
    config = preset("agentscope-9").with_rules(reveal_on_death=Reveal.ROLE)
    cover = Cover(config, B)
    cover.admit(DayBroke(audience=PUBLIC, day=1, deaths=(P("A"), P("B"))), 0.0)
    cover.admit(_died("A", role=Role.WEREWOLF), 0.0)
    cover.admit(_died("B", role=Role.WITCH), 0.0)
    assert cover.chat_turns() == 2 * 2
    assert cover.witch_turns() == 0
    assert cover.admit(_phase(Phase.DISCUSSION, speaker="C"), 0.0) is None  # neither could be the hunter


def test_nightfall_holds_the_night_phase_for_every_chat_turn_but_not_the_chat():
    cover = Cover(preset("agentscope-9"), B)
    assert cover.admit(NightFell(audience=PUBLIC, day=1), 100.0) is None
    assert cover.admit(_phase(Phase.WOLF_CHAT, WOLVES, "A"), 100.0) is None  # hidden: not held
    assert (
        cover.admit(Spoke(audience=WOLVES, day=1, player=P("A"), phase=Phase.WOLF_CHAT, text="x"), 103)
        is None
    )
    night = _phase(Phase.NIGHT)
    assert cover.admit(night, 106.0) == 100.0 + 6 * B
    assert cover.admit(_ended(), 106.0) is None  # the end is never held
    assert cover.admit(night, 160.0) is None


def test_the_night_phase_is_padded_from_its_requests_then_dawn_waits_for_a_witch():
    cover = Cover(preset("agentscope-9"), B)
    cover.admit(_phase(Phase.NIGHT), 0.0)
    cover.requested(2.0)  # held by a pace: the padding counts from the requests
    ack = ActionRecorded(audience=to_player(P("A")), day=1, player=P("A"), action=Abstain())
    assert cover.admit(ack, 5.0) is None  # his own answer's acknowledgement goes at once
    woke = WitchWoke(
        audience=to_player(P("W")), day=1, witch=P("W"), victim=None, heal_left=True, poison_left=True
    )
    assert cover.admit(woke, 5.0) == 12.0  # what the night's end tells waits for its padded end
    assert cover.admit(woke, 12.0) is None
    assert cover.admit(_phase(Phase.WITCH, GAME_MASTER), 12.0) is None
    dawn = DayBroke(audience=PUBLIC, day=1, deaths=())
    assert cover.admit(dawn, 15.0) == 22.0
    assert cover.admit(dawn, 22.0) is None


def test_without_a_witch_dawn_follows_the_padded_night():
    cover = Cover(preset("classic-8"), B)
    cover.admit(_phase(Phase.NIGHT), 0.0)
    cover.requested(0.0)
    dawn = DayBroke(audience=PUBLIC, day=1, deaths=())
    assert cover.admit(dawn, 3.0) == 10.0
    assert cover.admit(dawn, 10.0) is None


def test_deaths_hold_the_next_public_event_for_the_hunters_who_may_be_among_them():
    cover = Cover(preset("agentscope-9"), B)  # one hunter
    cover.admit(DayBroke(audience=PUBLIC, day=1, deaths=(P("A"), P("B"))), 50.0)
    assert cover.admit(_died("A"), 50.0) is None  # part of the announcement
    assert cover.admit(_died("B"), 50.0) is None
    assert cover.admit(_phase(Phase.HUNTER, to_player(P("A")), "A"), 50.0) is None  # hidden: at once
    shot = HunterShot(audience=PUBLIC, day=1, hunter=P("A"), target=P("C"))
    assert cover.admit(shot, 52.0) == 60.0  # min(2 deaths, 1 hunter) turns
    assert cover.admit(shot, 60.0) is None
    assert cover.admit(_died("C", cause=DeathCause.HUNTER), 60.0) is None
    # The only hunter is known (he shot): his victim cannot shoot.
    assert cover.admit(_phase(Phase.DISCUSSION, speaker="D"), 60.0) is None


def test_after_an_execution_the_hunter_turn_counts_from_the_end_of_the_last_words():
    cover = Cover(preset("agentscope-9"), B)
    assert cover.admit(_died("A", cause=DeathCause.EXECUTION), 10.0) is None
    assert cover.admit(_phase(Phase.LAST_WORDS, speaker="A"), 10.0) is None
    words = Spoke(audience=PUBLIC, day=1, player=P("A"), phase=Phase.LAST_WORDS, text="bye")
    assert cover.admit(words, 14.0) is None  # his words go at once
    night = NightFell(audience=PUBLIC, day=2)
    assert cover.admit(night, 14.0) == 24.0
    assert cover.admit(night, 24.0) is None


def test_no_hunter_in_the_config_no_hold_after_deaths():
    cover = Cover(preset("classic-8"), B)
    cover.admit(DayBroke(audience=PUBLIC, day=1, deaths=(P("A"),)), 0.0)
    cover.admit(_died("A"), 0.0)
    assert cover.admit(_phase(Phase.BIDDING), 0.0) is None


def test_a_config_without_hidden_roles_still_pads_the_night_phase():
    config = GameConfig.build({Role.WEREWOLF: 1}, players=4, rules=Rules(wolf_chat=True))
    cover = Cover(config, B)
    assert cover.chat_turns() == 0
    assert cover.witch_turns() == 0
    assert cover.hunter_turns(3) == 0
