"""HeuristicAgent: the built-in rule-based player, the default seat without an LLM and the baseline opponent.

Theory of operation
-------------------
The agent is stateless apart from its own random generator: at every decision it rereads the
events of its observation into an `actors.heuristic.beliefs.Beliefs` (claims, accusations, votes,
deaths, its own secrets) and derives a suspicion score for every other player. Speech is read with
`actors.heuristic.speech.parse`, which understands the agent's own phrasings and common free-form
ones, so it reacts to LLM and remote players too. It only ever uses what the observation gives: its role,
the wolves if it is one, its potions and the events it was allowed to see.

Policy in short: the seer inspects the most suspicious unknown player and comes out when it found a
wolf (or from day 2); villagers accuse and vote the top suspect; the doctor protects a claimed seer;
the witch heals the first victim and poisons a player named by a trusted seer; wolves follow the
first kill proposal of their chat (else each wolf's own draw), blend in with the
village's top non-wolf suspect and may counter-claim the seer when a seer names one of them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from typing import ClassVar

from actors.heuristic.beliefs import ACCUSING, KNOWN, SEER_RESULTS, Beliefs, Scores
from actors.heuristic.speech import mentions, role_phrase, say
from engine import (
    Abstain,
    Action,
    ActionKind,
    Bid,
    Choice,
    Heal,
    Inspect,
    Kill,
    Observation,
    Phase,
    PlayerId,
    Poison,
    Protect,
    Role,
    Shoot,
    Speak,
    Team,
    Vote,
)

ACCUSE_AT = 1.5  # suspicion from which a player is accused aloud (more than one plain accusation)
NO_LEAD = 0.5  # below this top suspicion the agent has nothing to go on
HEAL_UNLESS_AT = 3.0  # the witch lets the victim die if it is her top suspect at least this suspicious
POISON_AT = 4.0  # the witch poisons her top suspect from this suspicion on
_REASON_LINES = {
    "named_by_seer": "accuse_named_by_seer",
    "accused": "accuse_accused",
    "accused_victim": "accuse_accused",
    "votes": "accuse_votes",
    "accused_innocent": "accuse_votes",
    "false_claim": "accuse_false_claim",
    "counterclaim": "accuse_false_claim",
    "attacks_seer": "accuse_attacks_seer",
    "accused_me": "accuse_accused_me",
    "quiet": "accuse_quiet",
    "known": "vote_known",
}


class HeuristicAgent:
    """A rule-based player; deterministic given its seed and the observations it is shown."""

    #: Pure computation on what it is shown, well under a millisecond: played inline (`actors.inline`).
    instant: ClassVar[bool] = True

    def __init__(self, seed: int) -> None:
        """`seed` fixes this agent's random choices (phrasings, tie-breaks, bluffs)."""
        self._rng = random.Random(seed)

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        """Choose a legal action from `choices` using only what `observation` shows."""
        menu = {c.kind: c for c in choices}
        beliefs = Beliefs(observation)
        if ActionKind.SPEAK in menu:
            return self._speak(beliefs, menu[ActionKind.SPEAK].max_chars)
        if ActionKind.BID in menu:
            return Bid(max(0, min(self._bid(beliefs), menu[ActionKind.BID].max_bid)))
        if ActionKind.HEAL in menu or ActionKind.POISON in menu:
            return self._witch(beliefs, menu)
        scores = beliefs.suspicion(private=not beliefs.wolf)
        for kind, choice in menu.items():
            action = self._targeted(beliefs, kind, choice.targets, scores)
            if action is not None:
                return action
        return Abstain()

    # ------------------------------------------------------------------ targeted actions

    def _rank(self, candidates: Iterable[PlayerId], scores: Scores) -> list[PlayerId]:
        keyed = [(scores.get(p, (0.0, ""))[0], self._rng.random(), p) for p in candidates]
        return [p for _, _, p in sorted(keyed, reverse=True)]

    def _targeted(
        self, beliefs: Beliefs, kind: ActionKind, targets: tuple[PlayerId, ...], scores: Scores
    ) -> Action | None:
        obs = beliefs.obs
        others = [t for t in targets if t != beliefs.me and t not in obs.wolves]
        if kind is ActionKind.KILL and targets:
            return Kill(self._kill_target(beliefs, targets))
        if kind is ActionKind.INSPECT and targets:
            unknown = [t for t in targets if t not in beliefs.seen] or list(targets)
            return Inspect(self._rank(unknown, scores)[0])
        if kind is ActionKind.PROTECT and targets:
            seers = [c for c in beliefs.claimed_seers(private=True) if c in targets]
            return Protect(
                seers[0] if seers else beliefs.me if beliefs.me in targets else self._rng.choice(targets)
            )
        if kind in (ActionKind.VOTE, ActionKind.SHOOT):
            if obs.role is Role.SEER:
                others = [t for t in others if beliefs.seen.get(t) is not False]
            ranked = self._rank(others, scores)
            hunch = [p for p in beliefs.accused_today() if p in others]
            if ranked and hunch and scores[ranked[0]][0] < NO_LEAD:
                ranked.insert(0, hunch[-1])  # no lead at all: stand by the hunch it voiced today
            if ranked and (beliefs.wolf or scores.get(ranked[0], (0.0, ""))[0] > -KNOWN / 2):
                return Vote(ranked[0]) if kind is ActionKind.VOTE else Shoot(ranked[0])
        return None

    def _kill_target(self, beliefs: Beliefs, targets: Iterable[PlayerId]) -> PlayerId:
        """Tonight's victim: the first proposal in the wolves' chat, else one from its own stream."""
        targets = tuple(targets)
        for _, text in beliefs.chat:
            for p in mentions(text, beliefs.obs.players):
                if p in targets:
                    return p
        # survived: protected
        guarded = {v for night, v in beliefs.attacked.items() if night < beliefs.obs.day}
        targets = tuple(t for t in targets if t not in guarded) or targets
        wolves = beliefs.obs.wolves
        claimed = [
            c  # a claimant whose results are false is a friend (the possessed): spare him
            for c in beliefs.seer_claimers + beliefs.medium_claimers
            if c in targets and all((t in wolves) == w for t, w in beliefs.results[c].items())
        ]
        if claimed:
            return claimed[0]
        loud: Counter[PlayerId] = Counter()
        for _, s, st in beliefs.said:
            if st.kind in ACCUSING and st.target in wolves and s in targets:
                loud[s] += 1
        for ballot in beliefs.ballots:
            loud.update(v for v, t in ballot if t in wolves and v in targets)
        pool = [p for p in targets if loud[p] == max(loud.values())] if loud else list(targets)
        # Drawn from this agent's own (secret) stream, not from something every wolf could compute
        # alike: a draw computable from public events would let anyone who has read this code test each
        # guess of who the wolves are against the night's victim. The first proposal in the wolves'
        # chat settles the pack's choice; without a chat, the engine resolves their votes.
        return self._rng.choice(pool)

    def _witch(self, beliefs: Beliefs, menu: dict[ActionKind, Choice]) -> Action:
        scores = beliefs.suspicion(private=True)
        heal, poison = menu.get(ActionKind.HEAL), menu.get(ActionKind.POISON)
        if heal is not None and heal.targets:
            victim = heal.targets[0]
            ranked = self._rank(scores, scores)
            if not (ranked and ranked[0] == victim and scores[victim][0] >= HEAL_UNLESS_AT):
                return Heal(victim)
        if poison is not None and poison.targets:
            trust = beliefs.trust(private=True)
            named = {t for c, r in beliefs.results.items() if trust.get(c, 0) >= 1 for t, w in r.items() if w}
            ranked = self._rank([t for t in poison.targets if t in named], scores)
            if ranked:
                return Poison(ranked[0])
            ranked = self._rank(poison.targets, scores)
            if scores.get(ranked[0], (0.0, ""))[0] >= POISON_AT:
                return Poison(ranked[0])
        return Abstain()

    # ------------------------------------------------------------------ bidding

    def _bid(self, beliefs: Beliefs) -> int:
        last = beliefs.last_speech
        me = beliefs.me
        if last is not None and last[0] != me and me in mentions(last[1], beliefs.obs.players):
            return 4 if beliefs.spoke_today < 2 else 3  # noqa: PLR2004 - answer, but do not monopolise
        if self._news(beliefs):
            return 4
        if beliefs.spoke_today >= 2:  # noqa: PLR2004 - let others talk
            return self._rng.randint(0, 1)
        scores = beliefs.suspicion(private=not beliefs.wolf)
        eager = any(s >= (ACCUSE_AT / 2 if beliefs.wolf else ACCUSE_AT) for s, _ in scores.values())
        if eager:
            return 3 if beliefs.spoke_today == 0 else self._rng.randint(1, 2)
        return self._rng.randint(0, 2)

    def _news(self, beliefs: Beliefs) -> bool:
        role = beliefs.obs.role
        if role is Role.SEER:
            return bool(self._seer_reveal(beliefs))
        if role is Role.MEDIUM:
            return bool(beliefs.pending())
        return self._counter_target(beliefs) is not None

    def _seer_reveal(self, beliefs: Beliefs) -> dict[PlayerId, bool]:
        """The results the seer announces now (empty: keep hiding)."""
        pending = beliefs.pending()
        if not pending:
            return {}
        wolf_found = any(w and t in beliefs.alive for t, w in pending.items())
        rivals = any(c != beliefs.me for c in beliefs.seer_claimers)
        public = beliefs.suspicion(private=False)
        framed = any(not w and public.get(t, (0.0, ""))[0] >= ACCUSE_AT for t, w in pending.items())
        urgent = (
            wolf_found
            or framed
            or rivals
            or beliefs.accuser() is not None
            or beliefs.me in beliefs.seer_claimers
        )
        return pending if urgent or beliefs.obs.day >= 2 else {}  # noqa: PLR2004 - day 2: reveal all

    def _counter_target(self, beliefs: Beliefs) -> PlayerId | None:
        """A seer claimant who named a living wolf, if no wolf has claimed the seer yet (wolves only)."""
        wolves = beliefs.obs.wolves
        if not wolves or any(beliefs.claims.get(w) is Role.SEER for w in wolves):
            return None
        for c in beliefs.seer_claimers:
            hits = [t for t, w in beliefs.results[c].items() if w and t in wolves and t in beliefs.alive]
            if c not in wolves and c in beliefs.alive and hits:
                return c
        return None

    # ------------------------------------------------------------------ speech

    def _speak(self, beliefs: Beliefs, max_chars: int) -> Action:
        phase = beliefs.obs.phase
        if phase is Phase.WOLF_CHAT:
            parts = self._chat(beliefs)
        elif phase is Phase.LAST_WORDS:
            parts = self._last_words(beliefs)
        elif beliefs.wolf:
            parts = self._wolf_day(beliefs)
        else:
            parts = self._village_day(beliefs)
        if not parts:
            return Abstain()
        text = ""
        for part in parts:
            longer = f"{text} {part}".strip()
            if len(longer) > max_chars:
                break
            text = longer
        text = text or parts[0][:max_chars]
        return Speak(text) if text.strip() else Abstain()

    def _say(self, intent: str, **fields: str) -> str:
        return say(self._rng, intent, **fields)

    def _results(self, results: dict[PlayerId, bool], medium: bool) -> list[str]:
        order = sorted(results, key=lambda t: not results[t])
        lines = ("medium_wolf", "medium_clear") if medium else ("result_wolf", "result_clear")
        return [self._say(lines[0] if results[t] else lines[1], t=t) for t in order]

    def _accuse(self, beliefs: Beliefs, target: PlayerId, reason: str) -> str:
        if target in beliefs.accused_today():
            return self._say("repeat", t=target)  # already said why today
        intent = _REASON_LINES.get(reason, "accuse_generic")
        if intent == "accuse_named_by_seer":
            named_by = [
                c for c in beliefs.seer_claimers if c != beliefs.me and beliefs.results[c].get(target)
            ]
            if named_by:
                return self._say(intent, t=target, s=named_by[0])
            intent = "accuse_generic"
        return self._say(intent, t=target)

    def _village_day(self, beliefs: Beliefs) -> list[str]:
        obs, rng = beliefs.obs, self._rng
        parts: list[str] = []
        accuser = beliefs.accuser()
        if accuser is not None:
            parts.append(self._say("deny", a=accuser))
        reveal = self._seer_reveal(beliefs) if obs.role is Role.SEER else {}
        if reveal:
            parts.append(self._say("seer_again" if beliefs.me in beliefs.seer_claimers else "claim_seer"))
            parts += self._results(reveal, medium=False)
        news = beliefs.pending() if obs.role is Role.MEDIUM else {}
        if news:
            parts += [self._say("claim_medium"), *self._results(news, medium=True)]
        others = [p for p in obs.alive_players if p != beliefs.me]
        bluff = (
            obs.role is Role.POSSESSED
            and obs.day == 1
            and beliefs.spoke_today == 0
            and beliefs.me not in beliefs.claims
        )
        if bluff and others and rng.random() < 0.35:  # noqa: PLR2004 - the possessed's fake seer claim
            return [*parts, self._say("claim_seer"), self._say("result_wolf", t=rng.choice(others))]
        scores = beliefs.suspicion(private=True)
        if obs.role is Role.SEER:
            others = [p for p in others if beliefs.seen.get(p) is not False]
        ranked = self._rank(others, scores)
        earlier = [p for p in beliefs.accused_today() if p in ranked]
        loud_from = ACCUSE_AT if obs.day == 1 else NO_LEAD  # from day 2 a weak lead is worth voicing
        if ranked and scores[ranked[0]][0] >= loud_from:
            parts.append(self._accuse(beliefs, ranked[0], scores[ranked[0]][1]))
        elif earlier:
            parts.append(self._say("repeat", t=earlier[-1]))
        elif ranked and scores[ranked[0]][0] < NO_LEAD and (obs.day >= 2 or rng.random() < 0.25):  # noqa: PLR2004
            # nothing to go on and the village must not stall: push a hunch for others to weigh
            parts.append(self._say("hunch", t=ranked[0]))
        elif not parts:
            parts.append(self._say("vague"))
            if ranked and rng.random() < 0.4:  # noqa: PLR2004
                parts.append(self._say("ask", t=rng.choice(ranked)))
        return parts

    def _wolf_day(self, beliefs: Beliefs) -> list[str]:
        obs, rng = beliefs.obs, self._rng
        scores = beliefs.suspicion(private=False)
        others = [p for p in obs.alive_players if p != beliefs.me and p not in obs.wolves]
        parts: list[str] = []
        accuser = beliefs.accuser()
        if accuser is not None:
            parts.append(self._say("deny", a=accuser))
        counter = self._counter_target(beliefs)
        if counter is not None:
            if rng.random() < 0.6:  # noqa: PLR2004 - counter-claim more often than not
                return [*parts, self._say("counter_claim", c=counter)]
            parts.append(self._say("doubt_claim", c=counter))
        me = beliefs.me
        fake_seer = beliefs.claim_day.get(me, obs.day) < obs.day and beliefs.claims.get(me) is Role.SEER
        if fake_seer and beliefs.spoke_today == 0 and others:
            fresh = [p for p in others if p not in beliefs.results[beliefs.me]] or others
            wolf = rng.random() < 0.5  # noqa: PLR2004 - half the time a fake wolf, else a fake clear
            fake = {self._rank(fresh, scores)[0]: True} if wolf else {rng.choice(fresh): False}
            parts += [self._say("seer_again"), *self._results(fake, medium=False)]
        mates = [w for w in obs.wolves if w != beliefs.me and w in beliefs.alive]
        suspected = [m for m in mates if scores.get(m, (0.0, ""))[0] >= ACCUSE_AT]
        if suspected and rng.random() < 0.3:  # noqa: PLR2004 - defend a teammate only now and then
            parts.append(self._say("defend_mate", m=suspected[0]))
        ranked = self._rank(others, scores)
        if accuser is not None and accuser in others and rng.random() < 0.5:  # noqa: PLR2004
            ranked.insert(0, accuser)  # deflect back onto the accuser
        earlier = beliefs.accused_today()
        if earlier and earlier[-1] in others:
            ranked.insert(0, earlier[-1])  # keep to today's line
        opening = rng.random() < 0.25  # noqa: PLR2004 - now and then a wolf starts the accusations
        if ranked and (scores[ranked[0]][0] >= ACCUSE_AT / 2 or obs.day >= 2 or opening):  # noqa: PLR2004
            parts.append(self._accuse(beliefs, ranked[0], scores[ranked[0]][1]))
        elif not parts:
            parts.append(self._say("vague"))
        return parts

    def _chat(self, beliefs: Beliefs) -> list[str]:
        targets = [p for p in beliefs.obs.alive_players if p not in beliefs.obs.wolves]
        if not targets:
            return [self._say("vague")]
        proposed = any(p in targets for _, text in beliefs.chat for p in mentions(text, beliefs.obs.players))
        if proposed and any(speaker == beliefs.me for speaker, _ in beliefs.chat):
            return []  # the pack agreed and so did I: nothing to add
        target = self._kill_target(beliefs, targets)
        return [self._say("chat_agree" if proposed else "chat_propose", t=target)]

    def _last_words(self, beliefs: Beliefs) -> list[str]:
        obs = beliefs.obs
        others = [p for p in obs.alive_players if p != beliefs.me and p not in obs.wolves]
        if obs.team is Team.WOLVES:
            scores = beliefs.suspicion(private=obs.role is Role.POSSESSED)
            ranked = self._rank(others, scores)
            return [self._say("lw_wolf", t=ranked[0]) if ranked else self._say("lw_none")]
        parts = [self._say("lw_role", role=role_phrase(obs.role))]
        if obs.role in SEER_RESULTS:
            parts += self._results(dict(beliefs.seen), medium=obs.role is Role.MEDIUM)
        scores = beliefs.suspicion(private=True)
        if obs.role is Role.SEER:
            others = [p for p in others if beliefs.seen.get(p) is not False]
        ranked = self._rank(others, scores)
        if ranked and scores[ranked[0]][0] >= ACCUSE_AT:
            parts.append(self._say("lw_hint", t=ranked[0]))
        else:
            parts.append(self._say("lw_none"))
        return parts
