"""The day: discussion (round robin or bidding), the vote, ties, executions, last words, hunter shots.

Steps open phases; resolvers close them (see the header of `engine.game`). Votes are revealed together
once all are in; a tie follows `Rules.tie_policy`; under a strict-majority rule a player needs more than
half of the living players' votes (docs/rules.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.actions import Action, Bid, Shoot, Speak, Vote
from engine.agenda import Step
from engine.config import Discussion, TiePolicy, VoteRule
from engine.events import (
    PUBLIC,
    WOLVES,
    BidsRevealed,
    DeathCause,
    HunterShot,
    NoExecution,
    Spoke,
    VotesRevealed,
)
from engine.night import hunter_steps
from engine.vocabulary import Phase, PlayerId
from engine.voting import leaders, tally

if TYPE_CHECKING:
    from engine.game import Game


def step_day(game: Game, _: object) -> None:
    game._last_speaker = None
    game._last_speech = ""
    steps: list[tuple[Step, Any]] = []
    if game.rules.discussion is Discussion.ROUND_ROBIN:
        order = game._shuffled(game._alive_players)
        steps += [(Step.TURN, p) for _ in range(game.rules.discussion_rounds) for p in order]
    else:
        steps += [(Step.BIDDING, i) for i in range(game.rules.bidding_max_turns)]
    steps += [(Step.VOTE, ()), (Step.NIGHT, None)]
    game._push_front(*steps)


def step_turn(game: Game, speaker: PlayerId) -> None:
    if game._alive[speaker]:
        game._open(Phase.DISCUSSION, [speaker], PUBLIC, speaker=speaker)


def step_bidding(game: Game, _: object) -> None:
    bidders = [p for p in game._alive_players if p != game._last_speaker]
    if bidders:
        game._open(Phase.BIDDING, bidders, PUBLIC)


def step_vote(game: Game, candidates: tuple[PlayerId, ...]) -> None:
    game._vote_round = 2 if candidates else 1
    game._open(Phase.VOTE, list(game._alive_players), PUBLIC, candidates=candidates)


def step_execute(game: Game, player: PlayerId) -> None:
    game._executed_today = player
    game._kill(player, DeathCause.EXECUTION)
    if game._check_win():
        return
    last_words = [(Step.LAST_WORDS, player)] if game.rules.last_words else []
    game._push_front(*last_words, *hunter_steps(game, (player,)))


def step_last_words(game: Game, player: PlayerId) -> None:
    game._open(Phase.LAST_WORDS, [player], PUBLIC, speaker=player)


def resolve_speech(game: Game, submitted: dict[PlayerId, Action]) -> None:
    for player, action in submitted.items():
        if isinstance(action, Speak):
            audience = WOLVES if game._phase is Phase.WOLF_CHAT else PUBLIC
            game._emit(
                Spoke(audience=audience, day=game._day, player=player, phase=game._phase, text=action.text)
            )
            if game._phase is Phase.DISCUSSION:
                game._last_speech = action.text
        if game._phase is Phase.DISCUSSION:
            game._last_speaker = player


def resolve_bidding(game: Game, submitted: dict[PlayerId, Action]) -> None:
    bids = tuple(
        (p, a.amount if isinstance(a, Bid) else 0) for p in game._alive_players if (a := submitted.get(p))
    )
    top = max(amount for _, amount in bids)
    tied = tuple(p for p, amount in bids if amount == top)
    mentioned = {m.lower() for m in game._mention.findall(game._last_speech)}
    preferred = tuple(p for p in tied if p.lower() in mentioned) or tied
    speaker = game._draw(preferred)
    game._emit(BidsRevealed(audience=PUBLIC, day=game._day, bids=bids, speaker=speaker))
    game._push_front((Step.TURN, speaker))


def resolve_vote(game: Game, submitted: dict[PlayerId, Action]) -> None:
    votes = tuple(
        (p, a.target if isinstance(a, Vote) else None) for p in game._alive_players if (a := submitted.get(p))
    )
    counted = tally(votes, game._seat)
    game._emit(
        VotesRevealed(audience=PUBLIC, day=game._day, round=game._vote_round, votes=votes, tally=counted)
    )
    top = leaders(counted)
    if not top:
        game._emit(NoExecution(audience=PUBLIC, day=game._day, reason="nobody voted"))
        return
    if game.rules.vote_rule is VoteRule.STRICT_MAJORITY:
        needed = len(game._alive_players) // 2 + 1
        if len(top) == 1 and counted[0][1] >= needed:
            game._push_front((Step.EXECUTE, top[0]))
        else:
            reason = f"no strict majority ({needed} of {len(game._alive_players)} votes needed)"
            game._emit(NoExecution(audience=PUBLIC, day=game._day, reason=reason))
        return
    if len(top) == 1:
        game._push_front((Step.EXECUTE, top[0]))
        return
    resolve_tie(game, top)


def resolve_tie(game: Game, tied: tuple[PlayerId, ...]) -> None:
    policy = game.rules.tie_policy
    revote = policy in (TiePolicy.REVOTE_THEN_NONE, TiePolicy.REVOTE_THEN_RANDOM)
    if revote and game._vote_round == 1:
        game._push_front((Step.VOTE, tied))
    elif policy in (TiePolicy.RANDOM, TiePolicy.REVOTE_THEN_RANDOM):
        game._push_front((Step.EXECUTE, game._draw(tied)))
    else:
        names = ", ".join(tied)
        game._emit(NoExecution(audience=PUBLIC, day=game._day, reason=f"tie between {names}"))


def resolve_hunter(game: Game, submitted: dict[PlayerId, Action]) -> None:
    for hunter, action in submitted.items():
        if isinstance(action, Shoot):
            game._emit(HunterShot(audience=PUBLIC, day=game._day, hunter=hunter, target=action.target))
            game._kill(action.target, DeathCause.HUNTER)
            if game._check_win():
                return
            game._push_front(*hunter_steps(game, (action.target,)))
