"""Beliefs of the heuristic agent: what one player makes of the events it was allowed to see.

`Beliefs(observation)` rereads the observation's events (claims, accusations, votes, deaths, bids and
the player's own secrets) and `Beliefs.suspicion` turns them into a score per living player, with the
main reason for it (used to pick the words of an accusation). Nothing here reads anything but the
observation, so nothing hidden can leak into the agent's choices.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from actors.heuristic.speech import Kind, Statement, parse
from engine import Observation, Phase, PlayerId, Role, Team
from engine.events import (
    BidsRevealed,
    DeathCause,
    Event,
    GameStarted,
    MediumLearned,
    PlayerDied,
    Scope,
    SeerLearned,
    Spoke,
    VotesRevealed,
    WitchWoke,
    WolvesChose,
)
from engine.roles import ROLE_SPECS

KNOWN = 50.0  # suspicion added (or removed) for a player whose side is certain
SEER_RESULTS = (Role.SEER, Role.MEDIUM)
ACCUSING = (Kind.SUSPECT, Kind.WOLF)

#: player -> (suspicion, main reason)
Scores = dict[PlayerId, tuple[float, str]]
_Add = Callable[[PlayerId, float, str], None]


class Beliefs:
    """What one player knows and has heard, rebuilt from its observation at every decision."""

    def __init__(self, obs: Observation) -> None:
        """Read every event of `obs`, in order."""
        self.obs = obs
        self.me = obs.player
        self.wolf = bool(obs.wolves)
        self.alive = frozenset(obs.alive_players)
        self.role_counts: dict[Role, int] = {}
        self.said: list[tuple[int, PlayerId, Statement]] = []  # (day, speaker, accusation or defence)
        self.claims: dict[PlayerId, Role] = {}  # latest role claimed by each speaker
        self.claim_day: dict[PlayerId, int] = {}
        self.seer_claimers: list[PlayerId] = []
        self.medium_claimers: list[PlayerId] = []
        self.results: defaultdict[PlayerId, dict[PlayerId, bool]] = defaultdict(dict)  # claimed results
        self.ballots: list[tuple[tuple[PlayerId, PlayerId | None], ...]] = []
        self.revealed: dict[PlayerId, bool] = {}  # is_wolf, from what deaths revealed
        self.revealed_role: dict[PlayerId, Role] = {}
        self.night_dead: set[PlayerId] = set()
        self.seen: dict[PlayerId, bool] = {}  # the player's own seer or medium results
        self.witch_victim: PlayerId | None = None
        self.attacked: dict[int, PlayerId] = {}  # night -> the wolves' victim (wolves only)
        self.chat: list[tuple[PlayerId, str]] = []  # tonight's wolves' chat
        self.last_speech: tuple[PlayerId, str] | None = None  # today's latest discussion speech
        self.spoke_today = 0
        self.speakers: set[PlayerId] = set()
        self.contributors: set[PlayerId] = set()  # said something: a claim, an accusation, a defence
        self.top_bid: dict[PlayerId, int] = {}
        self.public_events = 0
        for event in obs.events:
            if event.audience.scope is Scope.PUBLIC:
                self.public_events += 1
            self._read(event)

    def _read(self, e: Event) -> None:  # noqa: PLR0912 - one branch per kind of event
        match e:
            case GameStarted():
                self.role_counts = dict(e.roles)
            case Spoke(phase=Phase.WOLF_CHAT):
                if e.day == self.obs.day:
                    self.chat.append((e.player, e.text))
            case Spoke():
                self._heard(e)
            case VotesRevealed():
                self.ballots.append(e.votes)
            case BidsRevealed():
                for p, amount in e.bids:
                    self.top_bid[p] = max(amount, self.top_bid.get(p, 0))
            case PlayerDied():
                if e.cause is DeathCause.NIGHT:
                    self.night_dead.add(e.player)
                if e.role is not None:
                    self.revealed_role[e.player] = e.role
                    self.revealed[e.player] = ROLE_SPECS[e.role].is_wolf
                elif e.team is Team.VILLAGE:
                    self.revealed[e.player] = False
                elif e.team is Team.WOLVES and Role.POSSESSED not in self.role_counts:
                    self.revealed[e.player] = True
            case SeerLearned() | MediumLearned():
                self.seen[e.target] = e.is_wolf
            case WolvesChose():
                if e.victim is not None:
                    self.attacked[e.day] = e.victim
            case WitchWoke():
                if e.day == self.obs.day:
                    self.witch_victim = e.victim

    def _heard(self, e: Spoke) -> None:
        for st in parse(e.text, e.player, self.obs.players):
            self.contributors.add(e.player)
            if st.kind is Kind.CLAIM and st.role is not None:
                self.claims[e.player] = st.role
                self.claim_day.setdefault(e.player, e.day)
                claimers = {Role.SEER: self.seer_claimers, Role.MEDIUM: self.medium_claimers}.get(st.role)
                if claimers is not None and e.player not in claimers:
                    claimers.append(e.player)
            elif st.target is not None:
                if st.kind in (Kind.WOLF, Kind.CLEAR) and self.claims.get(e.player) in SEER_RESULTS:
                    self.results[e.player][st.target] = st.kind is Kind.WOLF
                else:
                    self.said.append((e.day, e.player, st))
        self.speakers.add(e.player)
        if e.phase is Phase.DISCUSSION and e.day == self.obs.day:
            self.last_speech = (e.player, e.text)
            if e.player == self.me:
                self.spoke_today += 1

    # ------------------------------------------------------------------ derived beliefs

    def innocent_me(self, private: bool) -> bool:
        """Whether the player may use the fact that it is not a werewolf."""
        return private and not ROLE_SPECS[self.obs.role].is_wolf

    def known(self, private: bool) -> dict[PlayerId, bool]:
        """Whose werewolf-ness is certain: revealed by death, and (private) the player's own results."""
        known = dict(self.revealed)
        if private:
            known.update(self.seen)
        return known

    def trust(self, private: bool) -> dict[PlayerId, float]:
        """How much each seer or medium claimant is believed: 0 for a proven liar, up to 3."""
        known = self.known(private)
        out: dict[PlayerId, float] = {}
        for role, claimers in ((Role.SEER, self.seer_claimers), (Role.MEDIUM, self.medium_claimers)):
            for i, c in enumerate(claimers):
                res = self.results.get(c, {})
                checked = [known[t] == w for t, w in res.items() if t in known]
                belief = (1.0 if i == 0 else 0.5) * (1.5 if c in self.night_dead else 1.0)
                if checked and all(checked):
                    belief = max(belief, 2.0)
                if self.revealed_role.get(c) is role:
                    belief = 3.0
                lies = (
                    not all(checked)
                    or known.get(c) is True
                    or (c in self.revealed_role and self.revealed_role[c] is not role)
                    or (private and c != self.me and self.obs.role is role)
                    or (self.innocent_me(private) and res.get(self.me) is True)
                )
                out[c] = 0.0 if lies else belief
        return out

    def claimed_seers(self, private: bool) -> list[PlayerId]:
        """Living seer claimants that are believed at all, most believed first."""
        trust = self.trust(private)
        alive = [c for c in self.seer_claimers if c in self.alive and trust[c] > 0]
        return sorted(alive, key=lambda c: -trust[c])

    def accuser(self) -> PlayerId | None:
        """Who accused the player in today's latest speech, if someone else did."""
        if self.last_speech is None or self.last_speech[0] == self.me:
            return None
        speaker, text = self.last_speech
        hits = (st.target == self.me and st.kind in ACCUSING for st in parse(text, speaker, self.obs.players))
        return speaker if any(hits) else None

    def pending(self) -> dict[PlayerId, bool]:
        """The player's own seer or medium results it has not announced yet."""
        announced = self.results.get(self.me, {})
        return {t: w for t, w in self.seen.items() if announced.get(t) != w}

    def accused_today(self) -> list[PlayerId]:
        """Whom the player itself accused today, in order."""
        return [
            st.target
            for day, s, st in self.said
            if day == self.obs.day and s == self.me and st.kind in ACCUSING and st.target is not None
        ]

    # ------------------------------------------------------------------ suspicion

    def suspicion(self, private: bool) -> Scores:
        """Each other living player's suspicion and its main reason; `private` adds the player's secrets.

        Wolves call it with `private=False`: the village's view, which they use to blend in.
        """
        pts: defaultdict[PlayerId, float] = defaultdict(float)
        why: defaultdict[PlayerId, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))

        def add(p: PlayerId, x: float, reason: str = "") -> None:
            pts[p] += x
            if x > 0 and reason:
                why[p][reason] += x

        known = self.known(private)
        trust = self.trust(private)
        mediums = [c for c in self.medium_claimers if trust[c] > 0]
        if len(mediums) == 1:  # a lone believed medium tells the side of the executed
            for target, w in self.results[mediums[0]].items():
                known.setdefault(target, w)
        for p, w in known.items():
            add(p, KNOWN if w else -KNOWN, "known")
        self._claims(add, trust, private)
        trusted = {c for c, belief in trust.items() if belief >= 1}
        self._speeches(add, known, trusted, private)
        self._votes(add, known, trusted)
        if self.obs.day >= 2:  # noqa: PLR2004 - nobody is quiet before a full day has passed
            for p in self.alive - self.contributors:  # talks (or bids) without ever saying anything
                add(p, 0.5 if self.top_bid.get(p, 0) else 0.75, "quiet")
        return {
            p: (pts[p], max(why[p], key=why[p].__getitem__) if why[p] else "")
            for p in self.obs.alive_players
            if p != self.me
        }

    def _claims(self, add: _Add, trust: dict[PlayerId, float], private: bool) -> None:
        for c, belief in trust.items():
            if belief == 0:
                add(c, 5.0, "false_claim")
            for target, w in self.results[c].items():
                add(target, 4 * belief if w else -3 * belief, "named_by_seer")
        seers = [c for c in self.seer_claimers if trust[c] > 0]
        if len(seers) == 1:
            add(seers[0], -2 * trust[seers[0]], "")
        for c in seers[1:]:
            add(c, 1.0, "counterclaim")
        if private:  # somebody claims the player's own unique role: a liar
            for c, role in self.claims.items():
                if c != self.me and role is self.obs.role and self.role_counts.get(role) == 1:
                    add(c, 6.0, "false_claim")

    def _speeches(
        self, add: _Add, known: dict[PlayerId, bool], trusted: set[PlayerId], private: bool
    ) -> None:
        heard: set[tuple[int, PlayerId, PlayerId, bool]] = set()
        herd: Counter[tuple[int, PlayerId]] = Counter()  # accusers of a player so far that day
        for day, s, st in self.said:
            target, accusing = st.target, st.kind in ACCUSING
            if s == self.me or target is None or (day, s, target, accusing) in heard:
                continue
            heard.add((day, s, target, accusing))
            weight = -0.5 if known.get(s) else 1.5 if s in self.night_dead else 1.0
            if not accusing:
                add(target, -0.5 * weight, "")
                if known.get(target):
                    add(s, 2.0, "votes")
                continue
            follow = 1 + 0.5 * herd[day, target]  # each later accuser adds less: he may just follow
            herd[day, target] += 1
            add(target, weight * (1.5 if st.kind is Kind.WOLF else 1.0) / follow, "accused")
            if known.get(target) is not None:
                add(s, -1.0 if known[target] else 0.5, "accused_innocent")
            if target in trusted:
                add(s, 1.0, "attacks_seer")
            if target in self.night_dead:
                add(s, 0.5, "accused_victim")
            if target == self.me and self.innocent_me(private):
                add(s, 1.5, "accused_me")

    def _votes(self, add: _Add, known: dict[PlayerId, bool], trusted: set[PlayerId]) -> None:
        named = {t for c in trusted for t, w in self.results[c].items() if w}
        for ballot in self.ballots:
            wolf_picks = {t for v, t in ballot if known.get(v) and t is not None}
            for v, t in ballot:
                if t is None and v != self.me:
                    add(v, 0.25, "votes")  # sat on the fence
                if t is None or v == self.me:
                    continue
                if known.get(t) is not None:
                    add(v, -1.0 if known[t] else 0.75, "votes")
                if t in trusted:
                    add(v, 1.5, "votes")
                if t in named:
                    add(v, -0.5, "")
                if t in wolf_picks and not known.get(v):
                    add(v, 0.5, "votes")
