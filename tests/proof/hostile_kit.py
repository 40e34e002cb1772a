"""Shared kit of the hostile-input proofs (`tests/proof/test_hostile_*.py`): the case model, playing a case
against a live hosted game on loopback, and the checks every game must pass.

Every case plays its own game: preset `aiwolf-5` with a fixed deal (Alice the seer, Bruno the werewolf,
Chloe possessed, Damien and Elise villagers). Alice is Mallory, the attacker (`tests.proof.mallory`): her
seat is driven by hand on a raw socket, and she plays legally when she is not attacking. The other four
seats are SDK agents in threads; a public and a full-view spectator watch. When the case's trigger fires,
Mallory attacks, on her own connection or from another one, and the case checks the exact reaction (error
code and message, `rejected` reason, close code and reason, HTTP status). Then the game must still be
correct: it ends with a valid outcome, Mallory's faults are those the case expects and everyone else's are
zero, and every connection got its full, gap-free stream (Mallory's across her reconnections: after an
attack that gets her connection closed she comes back with her token and resumes, as a real agent would),
and nothing but the reaction came back to her.

While an attack runs, the other agents hold their answers in one phase (`Case.hold`: the night-1
inspection for the attacks at Mallory's first request, the day-1 discussion for those aimed at another
speaker's turn), so the game is live but frozen: the reactions that depend on its state ("already
answered", "phase N is over", the request sent again after a reconnection) are deterministic. One server
per test module is shared by the cases that need no special limits; the flood, the half-open connection
and the client that never reads each get one with limits that make them exact and fast (`SERVERS`; the
`servers` and `baseline` fixtures are in `tests/proof/conftest.py`).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import random
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from actors.messages import GameFinished
from engine import GameConfig, PlayerId, Role, Team, Termination, preset
from engine.config import MAX_SPEECH_CHARS
from net.connection import ConnectionConfig
from net.game_network import GameNetwork
from net.hosting import Host
from net.server import NetworkServer, ServerConfig
from tests.net.agents import AgentThread, RecordingAgent
from tests.net.netutil import HOST, WAIT_S
from tests.proof.mallory import MALLORY, Mallory
from tests.proof.wire import Watcher, audience_events, cleanup, event_stream, public_events

CONFIG = preset("aiwolf-5")
LONG_SPEECHES = dataclasses.replace(
    CONFIG, rules=dataclasses.replace(CONFIG.rules, max_speech_chars=MAX_SPEECH_CHARS)
)
ROLES = {
    PlayerId("Alice"): Role.SEER,
    PlayerId("Bruno"): Role.WEREWOLF,
    PlayerId("Chloe"): Role.POSSESSED,
    PlayerId("Damien"): Role.VILLAGER,
    PlayerId("Elise"): Role.VILLAGER,
}
GAME_WAIT_S = 60.0
SECRET = bytes(range(32))  # fixed host secret: each case is the same game on every run
GATE_S = 20.0  # the longest the other agents hold their answers while an attack runs
_TIMERS: dict[str, Any] = {"port": 0, "handshake_timeout": 1.0, "hello_timeout": 1.5, "stats_cache_s": 0}
SERVERS = {
    "default": ServerConfig(**_TIMERS),
    # No refill to speak of: the burst, then every message dropped, so a flood's reaction is exact.
    "no_refill": ServerConfig(**_TIMERS, connection=ConnectionConfig(rate=1e-3)),
    "fast_ping": ServerConfig(**_TIMERS, connection=ConnectionConfig(ping_interval=0.4, ping_timeout=1.0)),
    "short_message_timeout": ServerConfig(**_TIMERS, connection=ConnectionConfig(message_timeout=0.5)),
    "small_outbox": ServerConfig(
        **_TIMERS, connection=ConnectionConfig(outbox_bytes=64 * 1024, send_timeout=1.0)
    ),
}
_GAME_NUMBERS = itertools.count()


# ---------------------------------------------------------------------------------------- cases

Observed = list[str]
Later = Callable[[GameFinished], Observed]  # a reaction that can only be read once the game is over
Attack = Callable[["Mallory", "Ctx", dict[str, Any]], "Observed | Later | None"]
Trigger = Callable[[Mallory, dict[str, Any]], bool]


@dataclass
class Ctx:
    """What an attack may use besides Mallory."""

    server: NetworkServer
    net: GameNetwork
    baseline: Played | None
    logs: list[logging.LogRecord] = field(default_factory=list)


def at_first_request(m: Mallory, frame: dict[str, Any]) -> bool:
    return bool(frame["type"] == "request")


@dataclass(frozen=True)
class Case:
    """One hostile input: what Mallory sends (`send`), and the reaction (`expect`).

    `send` returns None when the reaction comes on Mallory's own connection (it is then read until
    `expect` has as many lines, or the connection ends), else the reaction it observed itself (or a
    function that observes it after the game). `expect` lines are patterns (`tests.proof.wire.matches`)
    formatted with the phase ids known when the trigger fired: `{request}` (Mallory's latest request),
    `{first}` (her first one), `{phase}` (the phase of the triggering event).
    """

    name: str
    send: Attack
    expect: tuple[str, ...]
    when: Trigger = at_first_request
    #: The phase in which the other agents hold their answers until the attack is over (None: never),
    #: so that the game waits, frozen, while Mallory attacks.
    hold: str | None = "night"
    faults: int = 0
    server: str = "default"
    hunt: bool = False  # the others target Mallory (else they spare her, so she lives to vote)
    long_speeches: bool = False
    bug: str | None = None  # a known server bug: the case is expected to fail (strict xfail)


def text(payload: str) -> Attack:
    return lambda m, ctx, frame: m.conn.send_text(payload)


def act(action: Any = None, **fields: Any) -> Attack:
    """An `act` for the open request; `fields` replace or add top-level fields (`phase_id` too)."""

    def send(m: Mallory, ctx: Ctx, frame: dict[str, Any]) -> None:
        body = {"type": "act", "phase_id": m.request["phase_id"], "action": action or {"kind": "abstain"}}
        m.conn.send_json(body | fields)

    return send


def each_case(cases: Sequence[Case]) -> pytest.MarkDecorator:
    """Parametrize a test over `cases`, each with its name as id; a case with a known server `bug` is a
    strict xfail."""
    return pytest.mark.parametrize(
        "case",
        [
            pytest.param(
                case, id=case.name, marks=[pytest.mark.xfail(strict=True, reason=f"server bug: {case.bug}")]
            )
            if case.bug
            else pytest.param(case, id=case.name)
            for case in cases
        ],
    )


# ---------------------------------------------------------------------------------------- playing a case


@dataclass
class Played:
    case: Case
    finished: GameFinished
    mallory: Mallory
    mallory_token: str
    cast: dict[str, AgentThread]
    public: Watcher
    full: Watcher
    observed: Observed
    window: tuple[int, int]  # Mallory's reactions during the attack: reactions[start:end]
    ids: dict[str, Any]
    held_too_long: list[str]


def cast_policy(player: str, rng: random.Random, gate: threading.Event, case: Case, held: list[str]) -> Any:
    """Legal random answers, once the gate is open; targets Mallory (hunt) or spares her."""

    def policy(request: Any, events: Any) -> dict[str, Any]:
        if request.phase == case.hold and not gate.is_set() and not gate.wait(GATE_S):
            held.append(player)
        choice = rng.choice([c for c in request.choices if c.kind != "abstain"] or request.choices)
        match choice.kind:
            case "speak":
                return {
                    "kind": "speak",
                    "text": "y" * choice.max_chars if case.long_speeches else f"{player}: hm.",
                }
            case "bid":
                return {"kind": "bid", "amount": rng.randint(0, choice.max_bid)}
            case "abstain":
                return {"kind": "abstain"}
            case kind:
                targets = list(choice.targets)
                if case.hunt and MALLORY in targets:
                    targets = [MALLORY]
                elif not case.hunt:
                    targets = [t for t in targets if t != MALLORY] or targets
                return {"kind": kind, "target": rng.choice(targets)}

    return policy


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def play_case(server: NetworkServer, case: Case, baseline: Played | None = None) -> Played:
    """Host one game for `case` on `server`, play it to the end; stops everything it started."""
    config: GameConfig = LONG_SPEECHES if case.long_speeches else CONFIG
    seed = zlib.crc32(case.name.encode())
    game_id = f"{case.name}-{next(_GAME_NUMBERS)}"
    host = Host(SECRET, server=server)
    game = host.open_game(config, dict.fromkeys(config.players), seed=seed, game_id=game_id)
    assert game.network is not None
    net = game.network
    ctx = Ctx(server, net, baseline)
    gate = threading.Event()
    if case.hold is None:
        gate.set()
    held: list[str] = []
    with cleanup() as later:
        later.append(host.close)
        net_logger = logging.getLogger("net.connection")
        handler, level = _ListHandler(ctx.logs), net_logger.level
        net_logger.addHandler(handler)
        net_logger.setLevel(logging.INFO)
        later.append(lambda: net_logger.removeHandler(handler))
        later.append(lambda: net_logger.setLevel(level))
        cast: dict[str, AgentThread] = {}
        for i, player in enumerate(config.players):
            if player == MALLORY:
                continue
            client = RecordingAgent(
                net.url(HOST, f"agent-{player}", "agent"),
                token=net.seats[player].token,
                reconnect_delay=0.05,
                receive_timeout=0.2,
            )
            policy = cast_policy(player, random.Random(seed + i), gate, case, held)
            cast[player] = AgentThread(player, client, answer=policy).start()
            later.append(cast[player].stop)
        public = Watcher(net.url(HOST, "public-watcher", "ui"))
        later.append(public.close)
        full = Watcher(net.url(HOST, "full-watcher", "observer"), token=server.lobby.admin_token)
        later.append(full.close)
        assert public.welcome()["game_id"] == full.welcome()["game_id"] == game_id
        mallory = Mallory(
            server.port, net.seats[MALLORY].token, random.Random(seed), long_speeches=case.long_speeches
        )
        mallory.connect()
        later.append(mallory.close)
        assert net.wait_for_agents(WAIT_S) == []
        game.start(roles=ROLES)
        later.append(game.stop)
        result, window, ids = _play_mallory(mallory, case, ctx, gate)
        finished = game.wait(GAME_WAIT_S)
        for agent in cast.values():
            agent.join()
        public.join()
        full.join()
        observed = result(finished) if callable(result) else result
    token = net.seats[MALLORY].token
    return Played(case, finished, mallory, token, cast, public, full, observed, window, ids, held)


def _play_mallory(
    m: Mallory, case: Case, ctx: Ctx, gate: threading.Event
) -> tuple[Observed | Later, tuple[int, int], dict[str, Any]]:
    """Mallory's game: legal answers, the attack when its trigger fires, a comeback after a close."""
    result: Observed | Later = []
    window = (0, 0)
    ids: dict[str, Any] = {}
    fired = False
    while True:
        if m.conn.ended is not None:
            if m.over is not None:
                assert fired, "the attack's trigger never fired"
                return result, window, ids
            assert fired, f"Mallory's connection ended before any attack: {m.reactions}"
            m.connect()  # back with her token, resuming where she was
        frame = m.pump()
        if frame is None:
            continue
        if not fired and case.when(m, frame):
            fired = True
            ids = {
                "request": m.requests[-1]["phase_id"] if m.requests else None,
                "first": m.requests[0]["phase_id"] if m.requests else None,
                "phase": frame.get("event", {}).get("phase_id"),
            }
            start = len(m.reactions)
            sent = case.send(m, ctx, frame)
            if sent is None:  # the reaction comes on Mallory's connection
                m.collect(start + len(case.expect))
                result = m.reactions[start:]
            else:
                result = sent
            window = (start, len(m.reactions))
            gate.set()
        m.answer_open_request()


# ---------------------------------------------------------------------------------------- checks


def assert_game_correct(played: Played, mallory_faults: int) -> None:
    """A valid outcome, the faults expected, and every connection's full, gap-free stream."""
    finished = played.finished
    record = finished.record["events"]
    outcome = finished.outcome
    assert outcome is not None, "the game was aborted"
    assert outcome.termination in set(Termination)
    assert (outcome.winner is None) == (outcome.termination is Termination.MAX_DAYS)
    assert outcome.winner in (None, Team.VILLAGE, Team.WOLVES)
    assert record[-1]["type"] == "game_ended"
    assert dict(record[-1]["roles"]) == {p: r.value for p, r in ROLES.items()}
    assert dict(finished.faults) == {p: (mallory_faults if p == MALLORY else 0) for p in CONFIG.players}
    assert played.held_too_long == [], "the attack held the game for too long"

    over = next(iter(played.cast.values())).over
    assert over is not None
    assert (over.winner, over.faults) == (outcome.winner, dict(finished.faults))
    for player, agent in played.cast.items():
        expected = audience_events(record, player, ROLES[PlayerId(player)])
        payloads: list[dict[str, Any]] = []
        seqs: list[int] = []
        for texts in agent.client.raw:  # every connection, in order: each event exactly once
            got, got_seqs = event_stream(texts)
            payloads += got
            seqs += got_seqs
        assert seqs == list(range(len(expected))), player
        assert payloads == expected, player
        assert agent.client.errors == [], player
        assert agent.client.rejections == [], player
        assert agent.over == over, player

    for watcher, view, expected in (
        (played.public, "public", public_events(record)),
        (played.full, "full", record),
    ):
        frames = [json.loads(t) for t in watcher.texts]
        assert (frames[0]["type"], frames[0]["view"]) == ("welcome", view)
        assert frames[-1] == over.model_dump(mode="json"), view
        assert [f["type"] for f in frames[1:-1]] == ["event"] * len(expected), view
        assert [f["event"] for f in frames[1:-1]] == expected, view
        assert [f["seq"] for f in frames[1:-1]] == list(range(len(expected))), view

    m = played.mallory
    assert m.events == audience_events(record, MALLORY, ROLES[MALLORY])
    assert len(m.welcomes) == len(m.connections)
    for welcome, seqs in zip(m.welcomes, m.connections, strict=True):
        start = welcome["resume_from"]
        assert (welcome["seat"], welcome["view"]) == (MALLORY, f"player:{MALLORY}")
        assert seqs == list(range(start, start + len(seqs))), (
            "a gap or a repeat on one of Mallory's connections"
        )
    assert m.over == over.model_dump(mode="json")
    assert m.final == "close 4000: game over"
    # Nothing came back to Mallory, over the whole game, but the reaction to her attack.
    start, end = played.window
    assert m.reactions[:start] == [], m.reactions
    assert m.reactions[end:] == [], m.reactions
