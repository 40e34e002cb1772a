"""The day: discussion (round robin or bidding), the vote, ties, executions, last words; and speech,
which the wolves' chat shares.

Votes are revealed together once all are in; a tie follows `Rules.tie_policy`; under a strict-majority
rule a player needs more than half of the living players' votes (docs/rules.md). Written against
`GameState` and `Effects` (engine.effects).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from engine import hunter
from engine.actions import (
    ABSTAIN_CHOICE,
    MAX_BID,
    Action,
    ActionKind,
    Bid,
    Choice,
    Speak,
    Vote,
    targeted_menu,
)
from engine.agenda import Step
from engine.config import Discussion, TiePolicy, VoteRule
from engine.events import (
    PUBLIC,
    WOLVES,
    BidsRevealed,
    DayBroke,
    DeathCause,
    NoExecution,
    Spoke,
    VotesRevealed,
)
from engine.state import AgendaEntry, GameState, Opening, draw, shuffled
from engine.vocabulary import Phase, PlayerId
from engine.voting import leaders, tally

if TYPE_CHECKING:
    from engine.effects import Effects

BID_MENU = (Choice(ActionKind.BID, max_bid=MAX_BID), ABSTAIN_CHOICE)
# Read as plain globals on the hot paths (every speech, every voter's menu): `Phase.X` costs
# ~0.07 µs a read in CPython 3.11.
_DISCUSSION, _WOLF_CHAT, _VOTE = Phase.DISCUSSION, Phase.WOLF_CHAT, ActionKind.VOTE


def daybreak(s: GameState, fx: Effects, _: object) -> None:
    """Queue the day: the discussion, the vote (not on day 0), then nightfall."""
    s.last_speaker = None
    s.last_speech = ""
    entries: list[AgendaEntry] = []
    if s.rules.discussion is Discussion.ROUND_ROBIN:
        order = shuffled(s, s.alive_players)
        if s.rules.discussion_rounds:
            entries.append((Phase.DISCUSSION, tuple(order) * s.rules.discussion_rounds))
    else:
        entries += [(Phase.BIDDING, i) for i in range(s.rules.bidding_max_turns)]
    if s.day == 0:  # `day_zero`: the game opens with a day of talk, without a vote
        fx.emit(DayBroke(audience=PUBLIC, day=0, deaths=()))
    else:
        entries.append((Phase.VOTE, ()))
    entries.append((Step.NIGHTFALL, None))
    fx.schedule(*entries)


# ---------------------------------------------------------------------- speech (also the wolves' chat)


# Speaking turns are one agenda entry for a whole discussion (or a night's chat): the speakers in order,
# every round. The first living one speaks; the others wait in `state.speakers`, and each speech opens
# the next living speaker's turn itself (`resolve_speech`): a turn is one phase, and no trip through
# the agenda.


def open_turns(s: GameState, fx: Effects, speakers: tuple[PlayerId, ...]) -> Opening | None:
    """The first living player of `speakers` speaks; the others wait their turn (the dead lose theirs)."""
    s.speakers = deque(speakers)
    speaker = _next_speaker(s)
    return None if speaker is None else Opening([speaker], speaker)


def _next_speaker(s: GameState) -> PlayerId | None:
    queue, alive = s.speakers, s.alive
    while queue:
        speaker = queue.popleft()
        if alive[speaker]:
            return speaker
    return None


def open_last_words(s: GameState, fx: Effects, speakers: tuple[PlayerId, ...]) -> Opening:
    """The executed player's last words (he is dead, and speaks anyway)."""
    return Opening([speakers[0]], speakers[0])


def speak_menu(s: GameState, player: PlayerId) -> tuple[Choice, ...]:
    """Speak (up to the rules' length) or pass: the same menu for every turn of the game."""
    return s.speak_menu


def resolve_speech(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """The speech is told to the phase's audience; the discussion remembers its last turn (bidding);
    then the next living speaker's turn opens, if any is left."""
    phase = s.phase
    ((player, action),) = submitted.items()  # one speaker per turn
    if isinstance(action, Speak):
        audience = WOLVES if phase is _WOLF_CHAT else PUBLIC
        fx.emit(Spoke(audience, s.day, player, phase, action.text))  # positional: the hot path
        if phase is _DISCUSSION:
            s.last_speech = action.text
    if phase is _DISCUSSION:
        s.last_speaker = player
    # `_next_speaker`, inlined: this runs after every speech.
    queue, alive = s.speakers, s.alive
    while queue:
        speaker = queue.popleft()
        if alive[speaker]:
            fx.next_turn(speaker)
            return


# ---------------------------------------------------------------------- bidding


def open_bidding(s: GameState, fx: Effects, _: object) -> Opening | None:
    """Everyone alive but the last speaker bids for the next turn."""
    bidders = [p for p in s.alive_players if p != s.last_speaker]
    return Opening(bidders) if bidders else None


def bid_menu(s: GameState, player: PlayerId) -> tuple[Choice, ...]:
    """A bid from 0 to MAX_BID, or abstain."""
    return BID_MENU


def resolve_bidding(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """The highest bid speaks next; a tie prefers those named in the last speech, then is drawn."""
    bids = tuple(
        (p, a.amount if isinstance(a, Bid) else 0) for p in s.alive_players if (a := submitted.get(p))
    )
    top = max(amount for _, amount in bids)
    tied = tuple(p for p, amount in bids if amount == top)
    mentioned = {m.lower() for m in s.mention.findall(s.last_speech)}
    preferred = tuple(p for p in tied if p.lower() in mentioned) or tied
    speaker = draw(s, preferred)
    fx.emit(BidsRevealed(audience=PUBLIC, day=s.day, bids=bids, speaker=speaker))
    fx.schedule((Phase.DISCUSSION, (speaker,)))


# ---------------------------------------------------------------------- the vote


def open_vote(s: GameState, fx: Effects, candidates: tuple[PlayerId, ...]) -> Opening:
    """Every living player votes; a revote (round 2) is between `candidates` only."""
    s.vote_round = 2 if candidates else 1
    s.candidates = candidates
    return Opening(list(s.alive_players), None, candidates)


def vote_menu(s: GameState, player: PlayerId) -> tuple[Choice, ...]:
    """Vote for a candidate (himself only if the rules allow), or abstain."""
    pool = s.candidates or s.alive_players
    if not s.rules.allow_self_vote:
        pool = tuple(p for p in pool if p != player)
    return targeted_menu(_VOTE, pool)


def resolve_vote(s: GameState, fx: Effects, submitted: dict[PlayerId, Action]) -> None:
    """Reveal every vote, then execute, revote or execute nobody."""
    votes = tuple(
        (p, a.target if isinstance(a, Vote) else None) for p in s.alive_players if (a := submitted.get(p))
    )
    counted = tally(votes, s.seat)
    fx.emit(VotesRevealed(PUBLIC, s.day, s.vote_round, votes, counted))  # positional, in field order
    top = leaders(counted)
    if not top:
        fx.emit(NoExecution(audience=PUBLIC, day=s.day, reason="nobody voted"))
        return
    if s.rules.vote_rule is VoteRule.STRICT_MAJORITY:
        needed = len(s.alive_players) // 2 + 1
        if len(top) == 1 and counted[0][1] >= needed:
            fx.schedule((Step.EXECUTE, top[0]))
        else:
            reason = f"no strict majority ({needed} of {len(s.alive_players)} votes needed)"
            fx.emit(NoExecution(audience=PUBLIC, day=s.day, reason=reason))
        return
    if len(top) == 1:
        fx.schedule((Step.EXECUTE, top[0]))
        return
    _resolve_tie(s, fx, top)


def _resolve_tie(s: GameState, fx: Effects, tied: tuple[PlayerId, ...]) -> None:
    policy = s.rules.tie_policy
    revote = policy in (TiePolicy.REVOTE_THEN_NONE, TiePolicy.REVOTE_THEN_RANDOM)
    if revote and s.vote_round == 1:
        fx.schedule((Phase.VOTE, tied))
    elif policy in (TiePolicy.RANDOM, TiePolicy.REVOTE_THEN_RANDOM):
        fx.schedule((Step.EXECUTE, draw(s, tied)))
    else:
        names = ", ".join(tied)
        fx.emit(NoExecution(audience=PUBLIC, day=s.day, reason=f"tie between {names}"))


def execute(s: GameState, fx: Effects, player: PlayerId) -> None:
    """The vote's victim dies; then his last words (if the rules give them), then his shot if a hunter."""
    s.executed_today = player
    fx.kill(player, DeathCause.EXECUTION)
    if fx.check_win():
        return
    hunter.after_deaths(s, fx, (player,))
    if s.rules.last_words:
        fx.schedule((Phase.LAST_WORDS, (player,)))
