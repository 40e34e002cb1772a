"""Information hiding as a property: 200 seeded games, every frame to every connection checked.

Fifty games of each preset (classic-8, aiwolf-5, aiwolf-13, agentscope-9), all on one server, each with
every seat played by a remote SDK agent (`AgentClient` in a thread, a seeded random policy), except, in
one game of three, one seat played by a local agent that reports private reasoning with each answer
(the game master records it as a game-master-only `reasoned` event); in one game of five, one agent drops
its connection mid-game and resumes. A public and a full-view spectator watch every game.

For every connection, every text frame as it came off the wire is checked against what its audience
may see:

- the events: an agent gets exactly the recorded events whose audience is public, its own, or the
  wolves' if it is a werewolf, in order, each once, numbered from 0 without a gap; the public spectator
  exactly the public ones; the full view all of them;
- structurally, whatever the `audience` fields say: no `role_assigned` of another player, no role or team
  in `player_died` (no preset reveals them), no wolves' chat, `wolves_met` or `wolves_chose` to a
  non-wolf, no seer, medium or witch result but one's own, no `night_resolved` or `reasoned`, no hidden
  phase (wolves' chat, witch, another's hunter shot) announced; and, as text, neither the markers of
  wolves'-chat speeches and of private reasoning nor the type names of those events anywhere in the raw
  frames of a connection not entitled to them;
- a `request` only ever describes the requesting seat (`you`: player, role, team, fellow wolves, potions)
  and `seen` counts exactly the events received before it;
- nothing else: an agent gets only `welcome`, `event`, `request` and `game_over`; a spectator only
  `welcome`, `event` and `game_over`.

Agents answer at once (deadlines stay at their generous default, 30 s), the agents of a game run in a
process of their own (so that the server and the agents do not share one GIL), and three games run at a
time: the 200 games take about 30 s on two cores (about 60 s with everything in one process).
"""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from actors.messages import AgentReport, GameFinished
from actors.runner import start_game
from engine import (
    ROLE_SPECS,
    Action,
    Choice,
    Observation,
    Phase,
    PlayerId,
    Reveal,
    Role,
    preset,
    random_action,
)
from net.game_network import GameNetwork
from net.protocol import RequestFrame
from net.server import NetworkServer, ServerConfig
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.netutil import HOST, WAIT_S, start_server
from tests.proof.wire import (
    Watcher,
    audience_events,
    audiences_of,
    cleanup,
    is_wolf,
    public_events,
    roles_of,
)

PRESETS = ("classic-8", "aiwolf-5", "aiwolf-13", "agentscope-9")
GAMES_PER_PRESET = 50
CONCURRENT = 3
GAME_WAIT_S = 60.0
WOLF_CHAT_MARK = "WOLFCHAT-SECRET"
REASONING_MARK = "REASONING-SECRET"
#: Event types that only some connections may ever receive (checked as text in the raw frames too).
SECRET_TYPES = (
    "role_assigned",
    "wolves_met",
    "wolves_chose",
    "seer_learned",
    "medium_learned",
    "witch_woke",
    "night_resolved",
    "reasoned",
    "action_recorded",
    "player_faulted",
)
#: Spectators watch "the game hosted last": registering a game and greeting its spectators must not
#: interleave with another game's.
HOSTING = threading.Lock()


@dataclass(frozen=True)
class Plan:
    preset: str
    index: int
    seed: int
    local: str | None  # the seat played by a local reasoning agent
    reconnect: str | None  # the agent that drops its connection at its second request

    @property
    def game_id(self) -> str:
        return f"hide-{self.preset}-{self.index}"


def plans(name: str) -> list[Plan]:
    players = preset(name).players
    out = []
    for index in range(GAMES_PER_PRESET):
        rng = random.Random(f"{name}/{index}")
        local = rng.choice(players) if index % 3 == 0 else None
        reconnect = rng.choice([p for p in players if p != local]) if index % 5 == 2 else None
        out.append(Plan(name, index, 1000 * PRESETS.index(name) + index, local, reconnect))
    return out


# ---------------------------------------------------------------------------------------- the players


class ReasoningAgent:
    """A local agent that reports private reasoning with each answer (as LLM seats do)."""

    def __init__(self, player: str, seed: int) -> None:
        self.player = player
        self._rng = random.Random(seed)
        self._answers = 0
        self.last_report: AgentReport | None = None

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        self._answers += 1
        mark = f"{WOLF_CHAT_MARK} " if observation.phase is Phase.WOLF_CHAT else ""
        self.last_report = AgentReport(
            reasoning=f"{REASONING_MARK} {self.player} #{self._answers}: I suspect everyone."
        )
        legal = tuple(c for c in choices if c.kind.value != "abstain") or choices
        return random_action(legal, self._rng, text=f"{mark}{self.player} (local) #{self._answers}")


class Agent:
    """A remote seat: a recording SDK agent with a seeded random policy; wolves' chat carries a mark."""

    def __init__(self, seat: Seat) -> None:
        self.player = seat.player
        self.rng = random.Random(seat.seed)
        self.drop = seat.drop
        self.asked = 0
        client = RecordingAgent(seat.url, token=seat.token, reconnect_delay=0.05, receive_timeout=0.2)
        self.thread = AgentThread(seat.player, client, answer=self.policy).start()

    def policy(self, request: RequestFrame, events: Any) -> dict[str, Any]:
        self.asked += 1
        if self.drop and self.asked == 2:
            self.drop = False
            self.thread.client.disconnect()  # this answer is lost; the SDK reconnects and resumes
        choice = self.rng.choice([c for c in request.choices if c.kind != "abstain"] or request.choices)
        match choice.kind:
            case "speak":
                mark = f"{WOLF_CHAT_MARK} " if request.phase is Phase.WOLF_CHAT else ""
                return {"kind": "speak", "text": f"{mark}{self.player} #{self.asked}"[: choice.max_chars]}
            case "bid":
                return {"kind": "bid", "amount": self.rng.randint(0, choice.max_bid)}
            case "abstain":
                return {"kind": "abstain"}
            case kind:
                return {"kind": kind, "target": self.rng.choice(choice.targets)}


@dataclass(frozen=True)
class Seat:
    """What an agent process needs to play a seat (picklable)."""

    player: str
    url: str
    token: str
    seed: int
    drop: bool  # drop the connection at the second request, then resume


def play_seats(seats: list[Seat]) -> dict[str, list[list[str]]]:
    """Play these seats with SDK agents in threads until `game_over` (in an agent process); returns
    each agent's raw text frames, one list per connection."""
    agents = [Agent(seat) for seat in seats]
    try:
        for agent in agents:
            agent.thread.join(GAME_WAIT_S)
    finally:
        for agent in agents:
            agent.thread.stop()
    return {agent.player: agent.thread.client.raw for agent in agents}


@dataclass
class Played:
    plan: Plan
    finished: GameFinished
    raw: dict[str, list[list[str]]]  # each remote agent's text frames, one list per connection
    public: Watcher
    full: Watcher


def play(server: NetworkServer, agent_processes: Executor, plan: Plan) -> Played:
    """Host and play one game, its agents in another process; stops everything it started."""
    config = preset(plan.preset)
    remote = [p for p in config.players if p != plan.local]
    with cleanup() as later:
        with HOSTING:
            net = GameNetwork(server, plan.game_id, remote)
            public = Watcher(net.url(HOST, f"{plan.game_id}-public", "ui"))
            later.append(public.close)
            full = Watcher(net.url(HOST, f"{plan.game_id}-full", "observer"), token=server.lobby.admin_token)
            later.append(full.close)
            assert public.welcome()["game_id"] == full.welcome()["game_id"] == plan.game_id
        seats = [
            Seat(
                p,
                net.url(HOST, f"{plan.game_id}-{p}", "agent"),
                net.seats[p].token,
                plan.seed * 100 + i,
                p == plan.reconnect,
            )
            for i, p in enumerate(config.players)
            if p in remote
        ]
        agents = agent_processes.submit(play_seats, seats)
        assert net.wait_for_agents(WAIT_S * 4) == []  # an agent process may still be starting
        players: dict[PlayerId, Any] = dict(net.seats)
        if plan.local is not None:
            players[PlayerId(plan.local)] = ReasoningAgent(plan.local, plan.seed)
        running = start_game(config, players, seed=plan.seed, observers=net.observers, game_id=plan.game_id)
        later.append(running.stop)
        net.bind(running.master)
        finished = running.wait(GAME_WAIT_S)
        raw = agents.result(GAME_WAIT_S)
        public.join()
        full.join()
    return Played(plan, finished, raw, public, full)


# ---------------------------------------------------------------------------------------- the checks


class Viewer:
    """Who a connection is: a player (with his true role), the public, or the full view."""

    def __init__(self, player: str | None, role: str | None = None, *, full: bool = False) -> None:
        self.player = player
        self.role = role
        self.full = full
        self.wolf = role is not None and is_wolf(role)

    def __str__(self) -> str:
        return "full view" if self.full else f"{self.player} ({self.role})" if self.player else "public view"

    def may_receive(self, kind: str) -> bool:
        """Whether this viewer may ever get an event of this (secret) type at all."""
        if self.full:
            return True
        if self.player is None:
            return kind not in SECRET_TYPES
        return kind not in ("night_resolved", "reasoned") and (
            kind not in ("wolves_met", "wolves_chose") or self.wolf
        )


def leak(viewer: Viewer, event: dict[str, Any], reveal: Reveal) -> str | None:
    """Why this viewer must not get `event` (structurally, whatever its audience says), or None."""
    if viewer.full:
        return None
    me, kind = viewer.player, event["type"]
    allowed = audiences_of(me, viewer.role) if me is not None and viewer.role else {"public"}
    if event["audience"] not in allowed:
        return f"audience {event['audience']}"
    if kind in ("night_resolved", "reasoned"):
        return "a game-master event"
    if kind == "role_assigned" and event["player"] != me:
        return "another player's role"
    if kind == "player_died" and reveal is Reveal.NONE and (event["role"], event["team"]) != (None, None):
        return "a role revealed at death"
    if kind in ("wolves_met", "wolves_chose") and not viewer.wolf:
        return "the wolves' secrets"
    if kind == "spoke" and event["phase"] == "wolf_chat" and not viewer.wolf:
        return "the wolves' chat"
    if kind == "phase_started" and (
        (event["phase"] == "wolf_chat" and not viewer.wolf)
        or event["phase"] == "witch"
        or (event["phase"] == "hunter" and event["speaker"] != me)
    ):
        return "a hidden phase"
    owner = {"seer_learned": "seer", "medium_learned": "medium", "witch_woke": "witch"}.get(kind)
    if owner is not None and event[owner] != me:
        return "another player's night result"
    if kind in ("action_recorded", "player_faulted") and event["player"] != me:
        return "another player's private event"
    return None


def check_text(viewer: Viewer, texts: list[str]) -> None:
    """The raw frames, as text: no marker and no event type the viewer may not get."""
    blob = "\n".join(texts)
    if not viewer.full:
        assert REASONING_MARK not in blob, f"{viewer}: private reasoning leaked"
        if not viewer.wolf:
            assert WOLF_CHAT_MARK not in blob, f"{viewer}: the wolves' chat leaked"
    for kind in SECRET_TYPES:
        if not viewer.may_receive(kind):
            assert f'"type":"{kind}"' not in blob, f"{viewer}: a {kind} event leaked"


def check_events(
    viewer: Viewer, events: list[dict[str, Any]], expected: list[dict[str, Any]], reveal: Reveal
) -> None:
    for event in events:
        why = leak(viewer, event, reveal)
        assert why is None, f"{viewer} got {why}: {event}"
    assert events == expected, f"{viewer}: not exactly its audience's events"


def check_agent(played: Played, player: str, roles: dict[str, str]) -> None:
    record = played.finished.record["events"]
    config = preset(played.plan.preset)
    role = roles[player]
    viewer = Viewer(player, role)
    wolves = [p for p in config.players if is_wolf(roles[p])]
    texts = [t for connection in played.raw[player] for t in connection]
    check_text(viewer, texts)
    events: list[dict[str, Any]] = []
    for connection in played.raw[player]:
        frames = [json.loads(t) for t in connection]
        welcome = frames[0]
        assert welcome["type"] == "welcome", f"{viewer}: {welcome}"
        assert (welcome["view"], welcome["seat"], welcome["game_id"]) == (
            f"player:{player}",
            player,
            played.plan.game_id,
        )
        assert welcome["resume_from"] == len(events), f"{viewer}: resumed at the wrong place"
        for frame in frames[1:]:
            match frame["type"]:
                case "event":
                    assert frame["seq"] == len(events), f"{viewer}: a gap or a repeat"
                    events.append(frame["event"])
                case "request":
                    you = frame["you"]
                    assert you["player"] == player, f"{viewer} got a request about {you['player']}"
                    assert (you["role"], you["team"]) == (role, ROLE_SPECS[Role(role)].team.value)
                    assert you["wolves"] == (wolves if viewer.wolf else []), f"{viewer}: {you['wolves']}"
                    if role != "witch":
                        assert (you["heal_left"], you["poison_left"]) == (False, False)
                    assert you["alive"] == (player in frame["alive_players"])
                    assert frame["seen"] == len(events), f"{viewer}: request.seen"
                    assert frame["game_id"] == played.plan.game_id
                case "game_over":
                    assert frame is frames[-1]
                case other:
                    raise AssertionError(f"{viewer} got an unexpected {other} frame: {frame}")
    assert frames[-1]["type"] == "game_over"
    check_events(viewer, events, audience_events(record, player, role), config.rules.reveal_on_death)


def check_spectator(played: Played, viewer: Viewer, texts: list[str], expected: list[dict[str, Any]]) -> None:
    check_text(viewer, texts)
    frames = [json.loads(t) for t in texts]
    view = "full" if viewer.full else "public"
    assert (frames[0]["type"], frames[0]["view"], frames[0]["seat"]) == ("welcome", view, None)
    assert frames[-1]["type"] == "game_over"
    body = frames[1:-1]
    assert all(f["type"] == "event" for f in body), f"{viewer}: a frame that is not an event"
    assert [f["seq"] for f in body] == list(range(len(body))), f"{viewer}: a gap or a repeat"
    reveal = preset(played.plan.preset).rules.reveal_on_death
    check_events(viewer, [f["event"] for f in body], expected, reveal)


def check_game(played: Played) -> Counter[str]:
    """Every check on every connection of one game; returns what the full view saw (for coverage)."""
    finished, plan = played.finished, played.plan
    assert finished.outcome is not None, f"{plan.game_id} was aborted"
    assert all(n == 0 for n in finished.faults.values()), f"{plan.game_id}: faults {finished.faults}"
    record = finished.record["events"]
    roles = roles_of(record)
    for player in played.raw:
        check_agent(played, player, roles)
    check_spectator(played, Viewer(None), played.public.texts, public_events(record))
    check_spectator(played, Viewer(None, full=True), played.full.texts, record)
    seen = Counter(e["type"] for e in record)
    seen["spoke/wolf_chat"] = sum(1 for e in record if e["type"] == "spoke" and e["phase"] == "wolf_chat")
    seen["phase_started/hunter"] = sum(
        1 for e in record if e["type"] == "phase_started" and e["phase"] == "hunter"
    )
    seen["games"] = 1
    seen["reconnected"] = sum(len(connections) - 1 for connections in played.raw.values())
    return seen


def play_and_check(server: NetworkServer, agent_processes: Executor, plan: Plan) -> Counter[str]:
    try:
        return check_game(play(server, agent_processes, plan))
    except AssertionError as exc:
        raise AssertionError(f"{plan}: {exc}") from exc


# ---------------------------------------------------------------------------------------- tests

#: What each preset must have shown at least once over its 50 games, so that the property is not vacuous.
COVERAGE = {
    "classic-8": (
        "seer_learned",
        "night_resolved",
        "reasoned",
        "action_recorded",
        "wolves_chose",
        "bids_revealed",
    ),
    "aiwolf-5": ("seer_learned", "night_resolved", "reasoned", "wolves_chose"),
    "aiwolf-13": ("seer_learned", "medium_learned", "spoke/wolf_chat", "night_resolved", "reasoned"),
    "agentscope-9": ("seer_learned", "witch_woke", "spoke/wolf_chat", "phase_started/hunter", "reasoned"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[NetworkServer]:
    started = start_server(ServerConfig(port=0))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def agent_processes() -> Iterator[Executor]:
    """Processes that run the agents, so that the server and the agents do not share one GIL."""
    with ProcessPoolExecutor(CONCURRENT, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("name", PRESETS)
def test_no_frame_ever_leaks_a_secret(server, agent_processes, name):
    with ThreadPoolExecutor(CONCURRENT) as games:
        results = list(games.map(lambda plan: play_and_check(server, agent_processes, plan), plans(name)))
    seen = sum(results, Counter())
    assert seen["games"] == GAMES_PER_PRESET
    assert seen["reconnected"] >= GAMES_PER_PRESET // 10  # agents asked twice at least
    missing = [kind for kind in COVERAGE[name] if seen[kind] == 0]
    assert missing == [], f"{name}: never seen in {GAMES_PER_PRESET} games: {missing}"
