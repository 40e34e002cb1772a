"""One AIWolf agent's view of our game, as AIWolf NLP packets (pure: no I/O, no clock).

`AIWolfView` reads exactly what our game master gives the seat it plays (the events of that player's
view, in order, and the seat's own requests) and turns them into the packets an AIWolf NLP agent expects
(https://github.com/aiwolfdial/aiwolf-nlp-server, doc/en/protocol.md): INITIALIZE, DAILY_INITIALIZE,
TALK, WHISPER, VOTE, DIVINE, GUARD, ATTACK, DAILY_FINISH, FINISH. It reads nothing else, so an AIWolf agent
can never learn more than our own protocol would tell the same seat. `reply` turns the agent's plain-text
answer into one of our actions.

Days: our night N comes before our day N. AIWolf counts from a day 0, and its night d follows its day d.
So our day N is AIWolf day N, and our night N is AIWolf night N-1 (the night after AIWolf day N-1). With
the `day_zero` rule the game opens with a day 0 as AIWolf's does; without it, the first night is
announced as an AIWolf day 0 on which nobody talks (docs/aiwolf.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import (
    Abstain,
    Action,
    ActionKind,
    Choice,
    GameConfig,
    Inspect,
    Kill,
    Phase,
    PlayerId,
    Protect,
    Role,
    Speak,
    Vote,
)
from engine.config import Discussion, TiePolicy
from engine.events import (
    DayBroke,
    DeathCause,
    Event,
    GameEnded,
    MediumLearned,
    NightFell,
    PhaseStarted,
    PlayerDied,
    RoleAssigned,
    SeerLearned,
    Spoke,
    VotesRevealed,
    WolvesChose,
    WolvesMet,
)

Packet = dict[str, Any]

#: Our roles as AIWolf names them; a game with any other role cannot seat an AIWolf agent.
AIWOLF_ROLES: dict[Role, str] = {
    Role.VILLAGER: "VILLAGER",
    Role.WEREWOLF: "WEREWOLF",
    Role.SEER: "SEER",
    Role.BODYGUARD: "BODYGUARD",
    Role.DOCTOR: "BODYGUARD",
    Role.POSSESSED: "POSSESSED",
    Role.MEDIUM: "MEDIUM",
}
#: Our night powers and the AIWolf request that asks for each.
NIGHT_REQUESTS = {ActionKind.KILL: "ATTACK", ActionKind.INSPECT: "DIVINE", ActionKind.PROTECT: "GUARD"}
OVER = "Over"
SKIP = "Skip"
#: Longest unknown target kept in the action the game master refuses (it is quoted in its reason).
MAX_BAD_TARGET = 64


def aiwolf_problem(config: GameConfig) -> str | None:
    """Why an AIWolf agent cannot take a seat in a game of `config`, or None if it can."""
    foreign = sorted(r.value for r, _ in config.roles if r not in AIWOLF_ROLES)
    if foreign:
        return f"AIWolf agents know no {', '.join(foreign)}: use roles AIWolf has (e.g. --preset aiwolf-5)"
    if config.rules.discussion is not Discussion.ROUND_ROBIN:
        return "AIWolf agents talk in turns: AIWolf seats need discussion=round_robin"
    return None


def agent_name(index: int) -> str:
    """AIWolf's in-game name of the seat at `index` (0-based): `Agent[01]`..."""
    return f"Agent[{index + 1:02d}]"


def setting_dict(config: GameConfig, action_timeout_s: float) -> Packet:
    """The `setting` object: our rules in AIWolf's terms (talk limits, votes, timeouts)."""
    rules = config.rules
    counts = dict.fromkeys(dict.fromkeys(AIWOLF_ROLES.values()), 0)
    for role, n in config.roles:
        counts[AIWOLF_ROLES[role]] += n
    players = len(config.players)
    wolves = counts["WEREWOLF"]
    length = {"count_in_word": False, "count_spaces": True, "per_talk": rules.max_speech_chars}
    whisper_rounds = rules.wolf_chat_rounds if rules.wolf_chat and wolves >= 2 else 0  # noqa: PLR2004
    revote = rules.tie_policy in (TiePolicy.REVOTE_THEN_NONE, TiePolicy.REVOTE_THEN_RANDOM)
    timeout_ms = round(action_timeout_s * 1000)
    return {
        "agent_count": players,
        "max_day": rules.max_days,
        "role_num_map": counts,
        "vote_visibility": True,
        "talk": {
            "max_count": {"per_agent": rules.discussion_rounds, "per_day": rules.discussion_rounds * players},
            "max_length": length,
            "max_skip": rules.discussion_rounds,
        },
        "whisper": {
            "max_count": {"per_agent": whisper_rounds, "per_day": whisper_rounds * wolves},
            "max_length": length,
            "max_skip": whisper_rounds,
        },
        "vote": {"max_count": 1 if revote else 0, "allow_self_vote": rules.allow_self_vote},
        "attack_vote": {"max_count": 0, "allow_self_vote": False, "allow_no_target": True},
        "timeout": {"action": timeout_ms, "response": timeout_ms},
    }


@dataclass(slots=True)
class Pending:
    """A request sent to the agent and not yet answered: what it asked for, with which menu."""

    phase_id: int
    request: str
    choices: tuple[Choice, ...]


@dataclass(slots=True)
class _Chat:
    """One day's talk (or one night's whisper) and how much of it the agent has been sent."""

    entries: list[Packet] = field(default_factory=list)
    sent: int = 0
    turns: dict[str, int] = field(default_factory=dict)
    over: bool = False

    def diff(self) -> list[Packet]:
        new, self.sent = self.entries[self.sent :], len(self.entries)
        return new


class AIWolfView:
    """What one seat's AIWolf agent is told, built from that seat's events and requests only."""

    def __init__(self, config: GameConfig, player: PlayerId, game_id: str, action_timeout_s: float) -> None:
        """`config` is public (the table and the rules); `player` is the seat this view belongs to."""
        self.config = config
        self.player = player
        self.game_id = game_id
        self.action_timeout_s = action_timeout_s
        self.names: dict[PlayerId, str] = {p: agent_name(i) for i, p in enumerate(config.players)}
        self.by_name: dict[str, PlayerId] = {n: p for p, n in self.names.items()}
        self.role: Role | None = None
        self.wolves: tuple[PlayerId, ...] = ()
        self.alive: dict[PlayerId, bool] = dict.fromkeys(config.players, True)
        self.day = 0
        self.started = False
        self.finished = False
        self._day_finished = False
        self._daily_pending = False
        self._talk = _Chat()
        self._whisper = _Chat()
        self._executed_today: PlayerId | None = None
        self._executed: PlayerId | None = None
        self._attacked: PlayerId | None = None
        self._votes: list[Packet] = []
        self._attack_votes: list[Packet] = []
        self._divine: Packet | None = None
        self._medium: Packet | None = None
        self._final_roles: Mapping[PlayerId, Role] = {}

    # ------------------------------------------------------------------ game master -> agent

    def on_events(self, events: tuple[Event, ...]) -> list[Packet]:
        """Take the next events of this seat's view; returns the packets they lead to, in order."""
        out: list[Packet] = []
        for event in events:
            if self._daily_pending and not isinstance(event, PlayerDied):
                out.append(self._daily_initialize())
            self._on_event(event, out)
        if self._daily_pending:
            out.append(self._daily_initialize())
        return out

    def _on_event(self, event: Event, out: list[Packet]) -> None:  # noqa: PLR0912 - one case per event
        match event:
            case RoleAssigned(player=player, role=role) if player == self.player:
                self.role = role
            case WolvesMet(wolves=wolves):
                self.wolves = wolves
            case NightFell(day=day):
                self._on_night(day, out)
            case DayBroke(day=day, deaths=deaths):
                self._on_day(day, deaths, out)
            case PhaseStarted(phase=Phase.DISCUSSION | Phase.LAST_WORDS, speaker=speaker) if speaker:
                self._talk.turns[speaker] = self._talk.turns.get(speaker, -1) + 1
            case PhaseStarted(phase=Phase.WOLF_CHAT, speaker=speaker) if speaker:
                self._whisper.turns[speaker] = self._whisper.turns.get(speaker, -1) + 1
            case PhaseStarted(phase=Phase.VOTE, candidates=()):
                if not self._day_finished:
                    out.append(self._daily_finish())
            case Spoke(player=player, phase=phase, text=text):
                chat = self._whisper if phase is Phase.WOLF_CHAT else self._talk
                chat.entries.append(
                    {
                        "idx": len(chat.entries),
                        "day": self.day,
                        "turn": max(0, chat.turns.get(player, 0)),
                        "agent": self.names[player],
                        "text": text,
                        "skip": False,
                        "over": False,
                    }
                )
            case PlayerDied(player=player, cause=cause):
                self.alive[player] = False
                if cause is DeathCause.EXECUTION:
                    self._executed_today = player
            case VotesRevealed(votes=votes):
                self._votes = self._vote_list(votes)
            case WolvesChose(votes=votes):
                self._attack_votes = self._vote_list(votes)
            case SeerLearned(seer=seer, target=target, is_wolf=is_wolf) if seer == self.player:
                self._divine = self._judge(target, is_wolf)
            case MediumLearned(medium=medium, target=target, is_wolf=is_wolf) if medium == self.player:
                self._medium = self._judge(target, is_wolf, day=self.day)
            case GameEnded(roles=roles):
                self.finished = True
                self._final_roles = dict(roles)
                out.append(self._packet("FINISH"))
            case _:
                pass

    def _on_night(self, day: int, out: list[Packet]) -> None:
        if not self.started:
            self.started = True
            out += [self._packet("INITIALIZE", setting=True), self._packet("DAILY_INITIALIZE", setting=True)]
        if not self._day_finished:
            out.append(self._daily_finish())
        self.day = day - 1
        self._executed, self._executed_today = self._executed_today, None
        self._whisper = _Chat()

    def _on_day(self, day: int, deaths: tuple[PlayerId, ...], out: list[Packet]) -> None:
        if not self.started:  # `day_zero`: the game opens with AIWolf's day 0
            self.started = True
            out.append(self._packet("INITIALIZE", setting=True))
        self.day = day
        self._attacked = deaths[0] if deaths else None
        self._talk = _Chat()
        self._day_finished = False
        self._daily_pending = True

    def _daily_initialize(self) -> Packet:
        self._daily_pending = False
        return self._packet("DAILY_INITIALIZE", setting=True)

    def _daily_finish(self) -> Packet:
        self._day_finished = True
        packet = self._packet("DAILY_FINISH")
        packet["talk_history"] = self._talk.diff()
        if self._is_wolf:
            packet["whisper_history"] = self._whisper.diff()
        return packet

    def request(self, phase: Phase, phase_id: int, choices: tuple[Choice, ...]) -> Pending | Action:
        """A request of the game master to this seat: what to ask the agent, or the action to give at
        once when there is nothing to ask (no AIWolf equivalent, or the agent said `Over` already)."""
        kinds = {c.kind for c in choices}
        if phase in (Phase.DISCUSSION, Phase.LAST_WORDS) and ActionKind.SPEAK in kinds:
            return Abstain() if self._talk.over else Pending(phase_id, "TALK", choices)
        if phase is Phase.WOLF_CHAT and ActionKind.SPEAK in kinds:
            return Abstain() if self._whisper.over else Pending(phase_id, "WHISPER", choices)
        if phase is Phase.VOTE and ActionKind.VOTE in kinds:
            return Pending(phase_id, "VOTE", choices)
        if phase is Phase.NIGHT:
            for kind, name in NIGHT_REQUESTS.items():
                if kind in kinds:
                    return Pending(phase_id, name, choices)
        return Abstain()

    def request_packet(self, pending: Pending) -> Packet:
        """The packet asking the agent for `pending` (with the talk or whisper it has not seen yet)."""
        packet = self._packet(pending.request)
        info = packet["info"]
        if pending.request == "TALK":
            packet["talk_history"] = self._talk.diff()
            left = self.config.rules.discussion_rounds - self._talk.turns.get(self.player, 0)
            info["remain_count"] = info["remain_skip"] = max(0, left)
        elif pending.request == "WHISPER":
            packet["whisper_history"] = self._whisper.diff()
            left = self.config.rules.wolf_chat_rounds - self._whisper.turns.get(self.player, 0)
            info["remain_count"] = info["remain_skip"] = max(0, left)
        elif pending.request == "ATTACK":
            packet["whisper_history"] = self._whisper.diff()
        return packet

    def resync(self) -> list[Packet]:
        """A new connection for this seat: INITIALIZE it with today's state; the talk and whisper of the
        current day or night are sent again with the next request."""
        self._talk.sent = self._whisper.sent = 0
        if self.finished:
            return [self._packet("FINISH")]
        return [self._packet("INITIALIZE", setting=True)] if self.started else []

    # ------------------------------------------------------------------ agent -> game master

    def reply(self, pending: Pending, text: str) -> Action:
        """The agent's answer to `pending` as our action. The name of an agent our rules do not allow as
        a target now (dead, a fellow wolf, not a revote candidate...) is an abstention, as AIWolf drops
        such votes; anything that names no agent at all is sent on as it is, so the game master refuses
        it and counts the fault, as for a bad action in our own protocol."""
        text = " ".join(text.split("\n")).strip()
        if pending.request in ("TALK", "WHISPER"):
            chat = self._talk if pending.request == "TALK" else self._whisper
            if text in ("", OVER):
                chat.over = True
                return Abstain()
            if text == SKIP:
                return Abstain()
            limit = next((c.max_chars for c in pending.choices if c.kind is ActionKind.SPEAK), 0)
            return Speak(text[:limit])  # AIWolf truncates an over-long talk, it never refuses it
        target = self.by_name.get(text)
        if target is None:  # not an agent of this game: the game master refuses it, a fault
            target = PlayerId(text[:MAX_BAD_TARGET])
        elif not any(target in c.targets for c in pending.choices):
            return Abstain()  # an agent our rules do not allow now: AIWolf drops such a vote, no fault
        match pending.request:
            case "VOTE":
                return Vote(target)
            case "ATTACK":
                return Kill(target)
            case "DIVINE":
                return Inspect(target)
            case _:
                return Protect(target)

    # ------------------------------------------------------------------ packets

    @property
    def _is_wolf(self) -> bool:
        return self.player in self.wolves

    def _vote_list(self, votes: tuple[tuple[PlayerId, PlayerId | None], ...]) -> list[Packet]:
        return [
            {"day": self.day, "agent": self.names[p], "target": self.names[t]}
            for p, t in votes
            if t is not None
        ]

    def _judge(self, target: PlayerId, is_wolf: bool, *, day: int | None = None) -> Packet:
        return {
            "day": self.day if day is None else day,
            "agent": self.names[self.player],
            "target": self.names[target],
            "result": "WEREWOLF" if is_wolf else "HUMAN",
        }

    def _role_map(self) -> dict[str, str]:
        if self.finished:
            return {self.names[p]: AIWOLF_ROLES[r] for p, r in self._final_roles.items()}
        known = {self.player: self.role} if self.role is not None else {}
        if self._is_wolf:
            known |= dict.fromkeys(self.wolves, Role.WEREWOLF)
        return {self.names[p]: AIWOLF_ROLES[r] for p, r in known.items() if r is not None}

    def _packet(self, request: str, *, setting: bool = False) -> Packet:
        info: Packet = {"game_id": self.game_id, "day": self.day, "agent": self.names[self.player]}
        if self._medium is not None:
            info["medium_result"] = self._medium
        if self._divine is not None:
            info["divine_result"] = self._divine
        if self._executed is not None:
            info["executed_agent"] = self.names[self._executed]
        if self._attacked is not None:
            info["attacked_agent"] = self.names[self._attacked]
        if self._votes:
            info["vote_list"] = self._votes
        if self._attack_votes and self._is_wolf:
            info["attack_vote_list"] = self._attack_votes
        info["status_map"] = {self.names[p]: "ALIVE" if a else "DEAD" for p, a in self.alive.items()}
        info["role_map"] = self._role_map()
        packet: Packet = {"request": request, "info": info}
        if setting:
            packet["setting"] = setting_dict(self.config, self.action_timeout_s)
        return packet
