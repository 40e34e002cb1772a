"""LLMAgent on a real HTTP fake of Ollama: what goes on the wire, settings, every failure path, budget."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from typing import Any

import ollama
import pytest
from pydantic import ValidationError

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, LLMAgent, LLMSettings, OllamaOptions
from actors.llm.config import DEFAULT_HOST
from actors.llm.reply import ReplyError, kinds_in, parse_reply, reply_schema
from actors.messages import AgentReport
from engine import (
    PUBLIC,
    Abstain,
    Action,
    ActionKind,
    Choice,
    DeathCause,
    Game,
    Observation,
    Phase,
    PlayerId,
    Role,
    Speak,
    preset,
)
from engine.events import DayBroke, PlayerDied, Spoke, VotesRevealed
from engine.narration import narrate
from engine.rulesdoc import describe_rules
from tests.llm.fake_ollama import KNOWN_MODEL, Reply, Responder, valid_content

CONFIG = preset("classic-8")
WOLVES = (PlayerId("Alice"), PlayerId("Bruno"))
ROLES = dict.fromkeys(CONFIG.players, Role.VILLAGER) | {
    WOLVES[0]: Role.WEREWOLF,
    WOLVES[1]: Role.WEREWOLF,
    PlayerId("Chloe"): Role.SEER,
    PlayerId("Damien"): Role.DOCTOR,
}


class SpyAgent:
    """The fallback: a HeuristicAgent that records what it decided."""

    def __init__(self, seed: int = 0) -> None:
        self.inner = HeuristicAgent(seed)
        self.decided: list[Action] = []

    def decide(self, observation: Observation, choices: tuple[Choice, ...]) -> Action:
        action = self.inner.decide(observation, choices)
        self.decided.append(action)
        return action


@dataclasses.dataclass
class Situation:
    game: Game
    player: PlayerId
    obs: Observation
    choices: tuple[Choice, ...]


def situation(kind: ActionKind, player: PlayerId | None = None) -> Situation:
    """The first moment (everyone abstaining until then) a seat, or `player`, has `kind` on its menu."""
    game = Game.with_roles(CONFIG, ROLES, seed=1)
    for _ in range(100):
        for p in sorted(game.awaiting()):
            choices = game.legal_actions(p)
            if (player is None or p == player) and any(c.kind is kind for c in choices):
                return Situation(game, p, game.observe(p), choices)
        for p in sorted(game.awaiting()):
            game.apply(p, Abstain())
    raise AssertionError(f"no {kind} for {player}")


def make_agent(
    url: str, *, client: ollama.Client | None = None, **settings: Any
) -> tuple[LLMAgent, SpyAgent]:
    """An agent on `url` with its own limiter (never the module-level one), and its spied fallback."""
    spy = SpyAgent()
    settings.setdefault("model", KNOWN_MODEL)
    settings.setdefault("timeout_s", 5.0)
    agent = LLMAgent(
        LLMSettings(host=url, **settings),
        CONFIG,
        persona=PERSONAS[0],
        fallback=spy,
        client=client,
        limiter=threading.BoundedSemaphore(4),
    )
    return agent, spy


def bad_first(bad: str) -> Responder:
    """A responder: `bad` on the first request, then valid replies."""

    def respond(request: dict[str, Any], n: int) -> Reply:
        return Reply(content=bad) if n == 0 else Reply(content=valid_content(request, n))

    return respond


# ---------------------------------------------------------------------------------------- the wire


def test_request_carries_model_reply_schema_options_and_no_stream(fake):
    s = situation(ActionKind.KILL, WOLVES[0])
    options: dict[str, Any] = {"temperature": 0.0, "seed": 42, "num_predict": 64, "stop": ["\n\n"]}
    agent, spy = make_agent(fake.url, options=OllamaOptions(**options))
    action = agent.decide(s.obs, s.choices)
    [chat] = fake.chats
    sent = chat.json
    assert sent["model"] == KNOWN_MODEL
    assert sent["stream"] is False
    assert sent["format"] == reply_schema(s.choices)
    kill = next(c for c in s.choices if c.kind is ActionKind.KILL)
    assert kinds_in(sent["format"]) == ["kill", "abstain"]
    kill_schema = sent["format"]["anyOf"][0]
    assert kill_schema["properties"]["target"]["enum"] == list(kill.targets)
    assert kill_schema["required"] == ["reasoning", "action", "target"]
    assert sent["options"] == options
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert action == parse_reply(chat.content or "", s.choices)[0]
    assert action.kind is ActionKind.KILL
    assert spy.decided == []
    assert agent.last_report is not None
    assert agent.last_report.faults == ()
    assert agent.last_report.reasoning == "thinking #0"


def test_only_the_length_bound_is_sent_when_no_option_is_set(fake):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    assert fake.chats[0].json.get("options") == {"num_predict": 256}


def test_system_prompt_has_the_configured_rules_the_role_and_the_wolf_teammates(fake):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    system = fake.chats[0].system
    assert describe_rules(CONFIG) in system
    assert "Your secret role: werewolf" in system
    assert f"Your fellow werewolves: {WOLVES[1]}." in system
    assert PERSONAS[0].style in system


@pytest.mark.parametrize("player", CONFIG.players)
def test_only_wolves_are_told_who_the_wolves_are(fake, player):
    s = situation(ActionKind.BID, player)  # day 1: every seat has a menu
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    system = fake.chats[0].system
    everything = "\n".join(m["content"] for m in fake.chats[0].messages)
    assert f"Your secret role: {ROLES[player].value}" in system
    if player in WOLVES:
        [mate] = [w for w in WOLVES if w != player]
        assert f"Your fellow werewolves: {mate}." in system
    else:
        assert "fellow werewolves" not in everything
        assert "The werewolves are" not in everything  # the wolves' own meeting is not narrated to him


def test_a_reply_slower_than_the_timeout_is_a_fault_and_the_fallback_decides(fake):
    fake.responder = lambda request, n: Reply(content=valid_content(request, n), delay=5.0 if n == 0 else 0.0)
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url, timeout_s=0.3)
    action = agent.decide(s.obs, s.choices)
    detail = agent.last_report
    assert detail is not None
    assert spy.decided == [action]
    assert detail.fallback is True
    [fault] = detail.faults
    assert "timeout" in fault.lower()
    # A timeout fails one call only: the next decision asks the server again.
    action = agent.decide(s.obs, s.choices)
    assert len(fake.chats) == 2
    assert spy.decided == [spy.decided[0]]
    assert action == parse_reply(fake.chats[1].content or "", s.choices)[0]


# ---------------------------------------------------------------------------------------- settings


def test_options_reject_typos_and_unknown_names():
    with pytest.raises(ValidationError, match="temprature"):
        OllamaOptions(temprature=0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="temprature"):
        LLMSettings(model="m", options={"temprature": 0})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="modle"):
        LLMSettings(model="m", modle="x")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "bad",
    [
        {"model": ""},
        {"model": "m", "timeout_s": 0},
        {"model": "m", "max_retries": -1},
        {"model": "m", "parallel": 0},
        {"model": "m", "context_chars": 10},
        {"model": "m", "options": {"temperature": -1}},
        {"model": "m", "options": {"top_p": 0}},
    ],
)
def test_settings_reject_out_of_range_values(bad):
    with pytest.raises(ValidationError):
        LLMSettings(**bad)


def test_settings_defaults(monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    settings = LLMSettings(model="m")
    assert settings.host == DEFAULT_HOST == "http://127.0.0.1:11434"
    assert settings.timeout_s == 60.0
    assert settings.max_retries == 2
    assert settings.parallel == 1
    assert settings.context_chars == 12_000
    assert settings.options.as_dict() == {}
    assert OllamaOptions(temperature=0.2, seed=3).as_dict() == {"temperature": 0.2, "seed": 3}


def test_host_comes_from_ollama_host(monkeypatch, fake):
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    settings = LLMSettings(model=KNOWN_MODEL)
    assert settings.host == fake.url
    s = situation(ActionKind.KILL, WOLVES[0])
    agent = LLMAgent(
        settings, CONFIG, persona=PERSONAS[1], fallback=SpyAgent(), limiter=threading.BoundedSemaphore(1)
    )
    agent.decide(s.obs, s.choices)
    assert len(fake.chats) == 1


# ---------------------------------------------------------------------------------------- bad replies


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        pytest.param(ActionKind.KILL, '{"reasoning": "hm", "action": "kill", "tar', id="malformed-json"),
        pytest.param(ActionKind.KILL, "[1, 2]", id="not-an-object"),
        pytest.param(ActionKind.KILL, '{"action": ["kill"], "target": "Chloe"}', id="action-not-a-string"),
        pytest.param(ActionKind.KILL, '{"action": {"kill": "Chloe"}}', id="action-an-object"),
        pytest.param(
            ActionKind.KILL, '{"reasoning": "hm", "action": "vote", "target": "Chloe"}', id="wrong-kind"
        ),
        pytest.param(
            ActionKind.KILL, '{"reasoning": "hm", "action": "kill", "target": "Nobody"}', id="bad-target"
        ),
        pytest.param(
            ActionKind.KILL, '{"reasoning": "hm", "action": "kill", "target": "Bruno"}', id="fellow-wolf"
        ),
        pytest.param(ActionKind.SPEAK, '{"reasoning": "hm", "action": "speak"}', id="missing-speech"),
        pytest.param(
            ActionKind.SPEAK, '{"reasoning": "hm", "action": "speak", "speech": "  "}', id="blank-speech"
        ),
        pytest.param(ActionKind.BID, '{"reasoning": "hm", "action": "bid", "bid": 9}', id="bid-too-high"),
        pytest.param(ActionKind.BID, '{"reasoning": "hm", "action": "bid", "bid": 2.5}', id="bid-not-int"),
    ],
)
def test_a_bad_reply_is_asked_again_with_the_error_explained(fake, kind, bad):
    s = situation(kind, WOLVES[0])
    with pytest.raises(ReplyError) as raised:
        parse_reply(bad, s.choices)
    error = str(raised.value)
    fake.responder = bad_first(bad)
    agent, spy = make_agent(fake.url)
    action = agent.decide(s.obs, s.choices)
    first, second = fake.chats
    assert second.messages[:2] == first.messages
    assert second.messages[2] == {"role": "assistant", "content": bad}
    assert second.messages[3]["role"] == "user"
    assert error in second.messages[3]["content"]
    assert second.json["format"] == first.json["format"]
    assert action == parse_reply(second.content or "", s.choices)[0]
    assert action.kind is kind
    detail = agent.last_report
    assert detail is not None
    [fault] = detail.faults
    assert error in fault
    assert repr(bad) in fault
    assert detail.usage.calls == 2
    assert detail.usage.retries == 1
    assert detail.reasoning == "thinking #1"
    assert spy.decided == []


@pytest.mark.parametrize("max_retries", [0, 2])
def test_always_bad_replies_abstain_after_max_retries(fake, max_retries):
    fake.responder = lambda request, n: Reply(content=f"garbage {n}")
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url, max_retries=max_retries)
    assert agent.decide(s.obs, s.choices) == Abstain()
    attempts = max_retries + 1
    assert len(fake.chats) == attempts
    detail = agent.last_report
    assert detail is not None
    faults = detail.faults
    assert len(faults) == attempts + 1
    for n, fault in enumerate(faults[:-1]):
        assert f"attempt {n + 1}" in fault
        assert repr(f"garbage {n}") in fault
    assert f"no valid reply after {attempts} attempts" in faults[-1]
    assert detail.usage.calls == attempts
    assert detail.usage.retries == max_retries
    assert detail.reasoning is None
    assert spy.decided == []  # the model answered: bad answers abstain, they do not fall back


def test_a_long_bad_reply_is_kept_shortened_in_its_fault(fake):
    bad = "x" * 5000
    fake.responder = bad_first(bad)
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert repr(bad[:400]) in fault
    assert len(fault) < 600


def test_an_over_long_speech_is_cut_to_the_limit_not_refused(fake):
    s = situation(ActionKind.SPEAK, WOLVES[0])
    limit = next(c.max_chars for c in s.choices if c.kind is ActionKind.SPEAK)
    speech = "I saw nothing. " * (limit // 10)
    fake.responder = lambda request, n: Reply(content=json.dumps({"action": "speak", "speech": speech}))
    agent, _ = make_agent(fake.url)
    action = agent.decide(s.obs, s.choices)
    assert isinstance(action, Speak)
    assert 0 < len(action.text) <= limit
    assert speech.startswith(action.text)
    assert next(c for c in s.choices if c.kind is ActionKind.SPEAK).refusal(action) is None
    assert len(fake.chats) == 1
    assert agent.last_report is not None
    assert agent.last_report.reasoning is None  # none given: none reported


# ---------------------------------------------------------------------------------------- server failures


def test_an_unknown_model_is_said_once_then_the_fallback_plays_the_seat(fake):
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url, model="nope")
    details: list[AgentReport] = []
    for _ in range(3):
        action = agent.decide(s.obs, s.choices)
        assert action == spy.decided[-1]
        assert agent.last_report is not None
        details.append(agent.last_report)
    assert len(spy.decided) == 3
    [chat] = fake.chats
    assert chat.status == 404
    [fault] = details[0].faults
    assert "'nope'" in fault
    assert 'model "nope" not found' in fault
    for detail in details:
        assert detail.fallback is True
    for detail in details[1:]:
        assert detail.faults == ()
        assert detail.usage.calls == 0


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        pytest.param(Reply(status=500, content="CUDA out of memory"), "CUDA out of memory", id="json-error"),
        pytest.param(Reply(status=500, body="plain oops"), "plain oops", id="text-error"),
        pytest.param(Reply(status=503, content="server busy"), "server busy", id="busy"),
    ],
)
def test_a_server_error_falls_back_for_that_action_only(fake, reply, said):
    fake.responder = lambda request, n: reply if n == 0 else Reply(content=valid_content(request, n))
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url)
    action = agent.decide(s.obs, s.choices)
    assert spy.decided == [action]
    detail = agent.last_report
    assert detail is not None
    assert detail.fallback is True
    [fault] = detail.faults
    assert f"Ollama error {reply.status}" in fault
    assert said in fault
    action = agent.decide(s.obs, s.choices)  # the server is asked again
    assert len(fake.chats) == 2
    assert len(spy.decided) == 1
    assert action == parse_reply(fake.chats[1].content or "", s.choices)[0]
    assert agent.last_report is None or not agent.last_report.fallback


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<html>502 Bad Gateway</html>", id="not-json"),
        pytest.param({"unexpected": True}, id="not-a-chat-response"),
    ],
)
def test_an_unreadable_ok_response_falls_back_for_that_action(fake, body):
    """A proxy in front of Ollama may answer 200 with anything; the seat must not be lost for it."""
    fake.responder = lambda request, n: (
        Reply(body=body) if n == 0 else Reply(content=valid_content(request, n))
    )
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, spy = make_agent(fake.url)
    action = agent.decide(s.obs, s.choices)
    assert spy.decided == [action]
    assert agent.last_report is not None
    [fault] = agent.last_report.faults
    assert "unreadable response" in fault
    agent.decide(s.obs, s.choices)
    assert len(fake.chats) == 2
    assert len(spy.decided) == 1


class CountingClient(ollama.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def chat(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return super().chat(*args, **kwargs)


def test_no_server_at_all_breaks_the_seat_once_and_the_fallback_plays_on():
    with socket.socket() as sock:  # a port nobody listens on (bound, never listening)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = CountingClient(host=url, timeout=2)
        agent, spy = make_agent(url, client=client)
        s = situation(ActionKind.KILL, WOLVES[0])
        first = agent.decide(s.obs, s.choices)
        detail = agent.last_report
        second = agent.decide(s.obs, s.choices)
    assert spy.decided == [first, second]
    assert client.calls == 1
    assert detail is not None
    [fault] = detail.faults
    assert f"no Ollama server at {url}" in fault
    assert agent.last_report is not None
    assert agent.last_report.faults == ()
    assert agent.last_report.fallback is True


def test_usage_counts_calls_retries_and_the_servers_token_counts(fake):
    def respond(request: dict[str, Any], n: int) -> Reply:
        if n == 0:
            return Reply(content="nope", prompt_eval_count=50, eval_count=3)
        return Reply(content=valid_content(request, n), prompt_eval_count=111, eval_count=7)

    fake.responder = respond
    s = situation(ActionKind.KILL, WOLVES[0])
    agent, _ = make_agent(fake.url)
    agent.decide(s.obs, s.choices)
    assert agent.last_report is not None
    assert agent.last_report.usage is not None
    usage = agent.last_report.usage.as_dict()
    assert {k: v for k, v in usage.items() if k != "latency_s"} == {
        "calls": 2,
        "retries": 1,
        "prompt_tokens": 161,
        "completion_tokens": 10,
    }
    assert 0 < usage["latency_s"] < 5
    agent.decide(s.obs, s.choices)  # usage is per decision
    assert agent.last_report.usage.calls == 1
    assert agent.last_report.usage.prompt_tokens == 111


# ---------------------------------------------------------------------------------------- context budget

OVERHEAD = 1_000  # characters of a decision prompt besides the history (alive list, task, menu)


def test_a_long_history_stays_within_the_budget_and_keeps_the_key_facts(fake):
    s = situation(ActionKind.VOTE, WOLVES[0])
    day = s.obs.day
    death = PlayerDied(audience=PUBLIC, day=day, player=PlayerId("Chloe"), cause=DeathCause.NIGHT)
    dawn = DayBroke(audience=PUBLIC, day=day, deaths=(PlayerId("Chloe"),))
    votes = VotesRevealed(
        audience=PUBLIC,
        day=day,
        round=1,
        votes=((PlayerId("Hugo"), PlayerId("Elise")), (PlayerId("Elise"), PlayerId("Hugo"))),
        tally=((PlayerId("Elise"), 1), (PlayerId("Hugo"), 1)),
    )
    speeches = [
        Spoke(
            audience=PUBLIC,
            day=day,
            player=CONFIG.players[i % 8],
            phase=Phase.DISCUSSION,
            text=f"speech {i:04d} " + "blah " * 180,
        )
        for i in range(300)
    ]
    events = (*s.obs.events, dawn, death, votes, *speeches)
    obs = dataclasses.replace(s.obs, events=events)
    budget = 4_000
    full = "\n".join(t for e in events if (t := narrate(e)) is not None)
    assert len(full) > 50 * budget
    agent, _ = make_agent(fake.url, context_chars=budget)
    assert agent.decide(obs, s.choices).kind is ActionKind.VOTE
    user = fake.chats[0].messages[1]["content"]
    assert len(user) <= budget + OVERHEAD
    for key_fact in (dawn, death, votes):
        line = narrate(key_fact)
        assert line is not None
        assert line in user
    assert "speech 0299" in user  # the most recent speech, in full
    assert "speech 0000" not in user
    assert len(fake.chats[0].system) < len(describe_rules(CONFIG)) + OVERHEAD
