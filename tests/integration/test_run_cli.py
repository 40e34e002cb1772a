"""run.py end to end, as a user runs it: a subprocess, fixed seeds, exit codes and output."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from aiwolf_nlp_common.packet import Request

from tests.llm.fake_ollama import running_fake
from tests.llm.fake_openai import MODEL as OPENAI_MODEL
from tests.llm.fake_openai import running_openai
from tests.net.aiwolf_agent import AIWolfAgent

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def test_plays_a_game_and_replays_its_log(tmp_path):
    log = tmp_path / "game.jsonl"
    played = run("--seed", "42", "--log", str(log), "--color", "never")
    assert played.returncode == 0, played.stderr
    out = played.stdout
    for essential in (
        "seed 42",
        "Night 1 falls",
        "Day 1 breaks",
        "Votes:",
        "Tally:",
        "Game over:",
        "Result:",
    ):
        assert essential in out
    assert "Traceback" not in played.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    outcome = next(line for line in lines if line["kind"] == "record")["record"]["outcome"]

    replayed = run("replay", str(log), "--quiet")
    assert replayed.returncode == 0, replayed.stderr
    assert "Replay identical" in replayed.stdout
    assert outcome["reason"] in replayed.stdout

    again = run("--seed", "42", "--log", str(tmp_path / "again.jsonl"), "--color", "never")

    def transcript(text: str) -> str:  # the game itself: no game id, tokens or ports
        return text.split("\nAgents: ", 1)[1].split("Result:", maxsplit=1)[0]

    assert transcript(again.stdout) == transcript(out)  # one seed, one game


def test_public_transcript_hides_secrets_and_full_shows_them(tmp_path):
    public = run(
        "--seed", "5", "--preset", "agentscope-9", "--log", str(tmp_path / "a.jsonl"), "--color", "never"
    )
    full = run("--seed", "5", "--preset", "agentscope-9", "--log", str(tmp_path / "b.jsonl"), "--full")
    assert public.returncode == full.returncode == 0
    assert "[wolves]" not in public.stdout
    assert "[player:" not in public.stdout
    assert "[wolves]" in full.stdout
    assert "[game_master]" in full.stdout


def test_scripted_seat_from_a_toml_file(tmp_path):
    script = tmp_path / "seat.toml"
    script.write_text('steps = ["discussion: say I am only here to watch."]\n')
    done = run(
        "--seed",
        "1",
        "--agent",
        "random",
        "--seat",
        f"2=scripted:{script}",
        "--log",
        str(tmp_path / "g.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert "Result:" in done.stdout


def test_remote_seat_nobody_came_so_the_builtin_agent_plays(tmp_path):
    done = run("--seed", "2", "--remote", "1", "--port", "0", "--join-timeout", "0.2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Seat 1 (Alice): ws://127.0.0.1:" in done.stdout
    assert "Seat 1 (Alice): nobody came; the built-in agent takes it." in done.stdout
    assert "Result:" in done.stdout


def test_wildcard_host_prints_reachable_urls_and_warns_without_tls(tmp_path):
    done = run(
        "--seed",
        "2",
        "--remote",
        "1",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--join-timeout",
        "0.2",
        "--quiet",
        "--log",
        str(tmp_path / "g.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert "0.0.0.0/" not in done.stdout
    assert "ws://0.0.0.0" not in done.stdout
    assert "reachable at" in done.stdout
    assert "127.0.0.1" in done.stdout
    assert "without TLS" in done.stderr


def test_tls_flags_serve_wss(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "chain.pem"))
    done = run(
        "--seed",
        "2",
        "--remote",
        "1",
        "--port",
        "0",
        "--join-timeout",
        "0.2",
        "--quiet",
        "--certfile",
        str(tmp_path / "chain.pem"),
        "--log",
        str(tmp_path / "g.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert "Seat 1 (Alice): wss://127.0.0.1:" in done.stdout
    assert "without TLS" not in done.stderr
    bad = run("--certfile", str(tmp_path / "missing.pem"), "--quiet")
    assert bad.returncode == 2
    assert "--certfile" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_remote_seat_played_by_the_example_agent(tmp_path):
    host = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "--seed",
            "8",
            "--remote",
            "1",
            "--port",
            "0",
            "--quiet",
            "--hidden-turn",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert host.stdout is not None
        url = None
        for _ in range(20):  # the seat's URL is printed among the first lines
            line = host.stdout.readline()
            if line.startswith("Seat 1 (Alice): ws://"):
                url = line.split(": ", 1)[1].strip()
                break
        assert url is not None
        agent = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "random_agent.py"), url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
        assert agent.returncode == 0, agent.stderr
        assert "Game over:" in agent.stdout
        rest = host.communicate(timeout=120)[0]
        assert host.returncode == 0
        assert "Agents: HeuristicAgent x7, remote x1." in rest
        assert "Result:" in rest
    finally:
        host.kill()
        host.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "invalid choice"),
        (["--seat", "12=random"], "seat 12 does not exist"),
        (["--seat", "3=banana"], "unknown agent"),
        (["--seat", "Zoe=random"], "no seat named 'Zoe'"),
        (["--seat", "3random"], "--seat takes SEAT=AGENT"),
        (["--roles", "werewolf=0,seer=1"], "no werewolf"),
        (["--roles", "wizard=1"], "unknown role 'wizard'"),
        (["--players", "30"], "between 1 and 20"),
        (["--deadline", "-1"], "--deadline must be positive"),
        (["--rule", "max_days=abc"], "takes an integer"),
        (["--rule", "nonsense=1"], "unknown rule"),
        (["--seat", "1=scripted:/no/such/file.toml"], "cannot read script"),
        (["--bogus"], "unrecognized arguments"),
        (["--allow-origin", "http://a.example:xyz"], "is not an origin"),
        (["--model", "x", "--llm-option", "temprature=1"], "temprature: Extra inputs are not permitted"),
        (["--seat", "2=ollama"], "ollama needs a model"),
        (["--model", "x", "--llm-parallel", "0"], "parallel: Input should be greater than or equal to 1"),
        (["--remote", "9"], "--remote must be between 0 and 8"),
        (["--join-timeout", "-1"], "must not be negative"),
        (["--pace", "-1"], "--pace must be between 0 and 600 seconds"),
        (["--hidden-turn", "-1"], "--hidden-turn must be between 0 and 3600 seconds"),
        (["--hidden-turn", "nan"], "--hidden-turn must be between 0 and 3600 seconds"),
        (["--seat", "3=human:0"], "human:SECONDS takes a number of seconds > 0"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--port", str(port), "--quiet")
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_replay_of_a_missing_or_broken_log_exits_1(tmp_path):
    missing = run("replay", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 1
    assert "replay failed" in missing.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{oops\n")
    result = run("replay", str(broken))
    assert result.returncode == 1
    assert "not JSON" in result.stderr


def test_viewer_opens_on_the_hosted_game_and_sees_it_end(tmp_path):
    snapshot = tmp_path / "end.png"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--seed", "4", "--quiet", "--port", "0", "--viewer",
         "--viewer-snapshot", str(snapshot), "--log", str(tmp_path / "g.jsonl")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert snapshot.stat().st_size > 10_000  # a real frame of the finished game, not an empty file


# ---------------------------------------------------------------------------------------- LLM seats


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_llm_game_on_a_fake_ollama(tmp_path):
    with running_fake() as fake:
        done = run(
            "--seed", "6", "--quiet", "--port", "0", "--model", "llama3.2", "--ollama-host", fake.url,
            "--llm-parallel", "8", "--llm-option", "temperature=0", "--log", str(tmp_path / "g.jsonl"),
            "--hidden-turn", "0",
        )  # fmt: skip
        chats = fake.chats
    assert done.returncode == 0, done.stderr
    assert "Agents: ollama:llama3.2 x8." in done.stdout
    assert "LLM calls" in done.stdout
    assert chats
    # The option as given, and the length bound of each decision (a speech, or not)
    assert all(c.json["options"] in ({"temperature": 0, "num_predict": n} for n in (256, 512)) for c in chats)
    lines = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    usage = next(line for line in lines if line["kind"] == "finished")["usage"]
    assert sum(u["calls"] for u in usage.values()) == len(chats)
    assert any(line["kind"] == "event" and line["event"]["type"] == "reasoned" for line in lines)


def test_models_lists_the_server_models_or_says_it_is_not_there():
    with running_fake() as fake:
        listed = run("models", "--ollama-host", fake.url)
    assert listed.returncode == 0
    assert "llama3.2:latest" in listed.stdout
    missing = run("models", "--ollama-host", f"http://127.0.0.1:{_closed_port()}")
    assert missing.returncode == 1
    assert "no Ollama server answers" in missing.stderr


def test_no_ollama_server_falls_back_and_says_so_or_exits_2_when_required():
    host = f"http://127.0.0.1:{_closed_port()}"
    fallback = run(
        "--seed", "2", "--quiet", "--port", "0", "--model", "llama3.2", "--ollama-host", host,
        "--hidden-turn", "0",
    )  # fmt: skip
    assert fallback.returncode == 0
    assert f"Ollama: no Ollama server answers at {host}:" in fallback.stdout
    assert "play the built-in agent instead" in fallback.stdout
    required = run("--quiet", "--port", "0", "--model", "llama3.2", "--ollama-host", host, "--require-llm")
    assert required.returncode == 2
    assert "error: no Ollama server answers" in required.stderr
    plain = run("--seed", "2", "--quiet", "--port", "0", "--ollama-host", host)
    assert plain.returncode == 0
    assert plain.stdout.startswith("Ollama: no Ollama server answers")  # the one-line status


def test_a_missing_model_is_named_with_what_the_server_has():
    with running_fake() as fake:
        done = run(
            "--seed", "2", "--quiet", "--port", "0", "--seat", "3=ollama:mistral", "--ollama-host", fake.url,
            "--hidden-turn", "0",
        )  # fmt: skip
    assert done.returncode == 0
    assert "model 'mistral' is not on" in done.stdout
    assert "it has: llama3.2:latest" in done.stdout


def test_the_default_log_is_private_and_its_name_does_not_carry_the_seed(tmp_path):
    """The log holds every secret while the game runs; its name must not hand out the seed either."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--seed", "424242", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (log,) = (tmp_path / "runs").glob("*.jsonl")
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{12}\.jsonl", log.name)
    assert "424242" not in log.name
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    header = json.loads(log.read_text().splitlines()[0])
    assert header["seed"] == 424242
    assert len(bytes.fromhex(header["key"])) == 32


def test_a_random_seed_is_128_bits_and_a_bad_host_secret_is_a_clear_error(tmp_path):
    done = run("--quiet", "--log", str(tmp_path / "g.jsonl"))
    assert done.returncode == 0, done.stderr
    header = json.loads((tmp_path / "g.jsonl").read_text().splitlines()[0])
    assert header["seed"].bit_length() > 64  # 128 random bits: below 2^64 once in 2^64 games
    secret = tmp_path / "shared-secret"
    secret.write_text("00" * 32)
    secret.chmod(0o644)
    refused = run("--quiet", "--host-secret", str(secret))
    assert refused.returncode == 2
    assert "readable by others" in refused.stderr
    assert "Traceback" not in refused.stderr


OPENAI_SECRET = "sk-cli-test-9f8e7d6c5b4a3210"


def run_with_key(*args: str) -> subprocess.CompletedProcess[str]:
    """run.py with OPENAI_API_KEY set (and no OPENAI_BASE_URL from the caller's environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env={**env, "OPENAI_API_KEY": OPENAI_SECRET},
    )


def test_an_openai_compatible_game_finishes_and_never_writes_the_api_key(tmp_path):
    log = tmp_path / "g.jsonl"
    with running_openai(api_key=OPENAI_SECRET) as server:
        done = run_with_key(
            "--seed", "6", "--quiet", "--port", "0", "--agent", f"openai:{OPENAI_MODEL}",
            "--openai-base-url", server.url, "--llm-parallel", "8", "--llm-think", "on", "--log", str(log),
            "--hidden-turn", "0",
        )  # fmt: skip
        chats = server.chats
    assert done.returncode == 0, done.stderr
    assert f"Agents: openai:{OPENAI_MODEL} x8." in done.stdout
    assert chats
    assert all(c.status == 200 for c in chats)
    assert all(c.headers["authorization"] == f"Bearer {OPENAI_SECRET}" for c in chats)
    assert all(c.json["chat_template_kwargs"] == {"enable_thinking": True} for c in chats)
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    usage = next(line for line in lines if line["kind"] == "finished")["usage"]
    assert sum(u["calls"] for u in usage.values()) == len(chats)
    for where in (text, done.stdout, done.stderr):
        assert OPENAI_SECRET not in where


def test_a_refused_api_key_is_said_without_the_key():
    with running_openai(api_key="sk-the-right-one") as server:
        done = run_with_key(
            "--seed", "2", "--quiet", "--port", "0", "--seat", f"3=openai:{OPENAI_MODEL}",
            "--openai-base-url", server.url, "--require-llm",
        )  # fmt: skip
    assert done.returncode == 2
    assert "refused the key in OPENAI_API_KEY (401)" in done.stderr
    assert OPENAI_SECRET[:6] not in done.stderr + done.stdout
    assert OPENAI_SECRET[-4:] not in done.stderr + done.stdout


def test_models_lists_an_openai_compatible_server_and_suggests_a_close_name():
    with running_openai(models=(OPENAI_MODEL, "qwen3-0.6b")) as server:
        listed = run("models", "--openai-base-url", server.url)
        typo = run("--seed", "2", "--quiet", "--port", "0", "--seat", "3=openai:gemma-3-207m",
                   "--openai-base-url", server.url, "--hidden-turn", "0")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert f"2 model(s) at {server.url}:" in listed.stdout
    assert OPENAI_MODEL in listed.stdout
    assert typo.returncode == 0
    assert f"did you mean {OPENAI_MODEL}?" in typo.stdout
    assert "LLM: model 'gemma-3-207m' is not on" in typo.stdout


def test_a_human_seat_gets_a_page_link_with_its_token_in_the_fragment(tmp_path):
    done = run(
        "--seed", "2", "--seat", "3=human:75", "--port", "0", "--join-timeout", "0.2", "--quiet",
        "--log", str(tmp_path / "g.jsonl"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    seat = next(line for line in lines if line.startswith("Seat 3 (Chloe), for a person (75 s per answer): "))
    link = seat.rsplit(": ", 1)[1]
    assert link.startswith("http://127.0.0.1:")
    path, _, fragment = link.partition("#")
    assert path.endswith("/")
    assert "token" not in path
    assert fragment.startswith("seat=Chloe&token=")
    assert any(line.startswith("Watch in a browser: http://127.0.0.1:") for line in lines)
    assert any("Full view in a browser (secrets): http://" in line and "/#token=" in line for line in lines)
    assert "Seat 3 (Chloe): nobody came; the built-in agent takes it." in done.stdout


@pytest.mark.parametrize(
    ("extra", "opened"),
    [(["--seat", "3=human"], "/#seat=Chloe&token="), ([], "/")],
)
def test_open_opens_the_page_of_each_human_seat_else_the_spectators(tmp_path, extra, opened):
    """`--open` goes through the standard `webbrowser` module: `BROWSER` names the browser to run."""
    record = tmp_path / "opened.txt"
    opener = tmp_path / "browser.py"
    opener.write_text(f"import sys\nopen({str(record)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--seed", "2", "--port", "0", "--join-timeout", "0.2",
         "--quiet", "--open", "--log", str(tmp_path / "g.jsonl"), *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={**os.environ, "BROWSER": f"{sys.executable} {opener} %s"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    urls = record.read_text().split()
    assert len(urls) == 1
    assert urls[0].startswith("http://127.0.0.1:")
    page = urls[0].split("/", 3)[3]  # after http://host:port/
    assert page.startswith(opened[1:])
    if not extra:
        assert page == ""  # the spectators' page: no token


def test_hidden_turn_is_passed_to_the_game(tmp_path):
    # Instant agents: no cover unless asked. Asked for, each night waits its hidden turns (real time).
    log = tmp_path / "covered.jsonl"
    done = run(
        "--seed", "3", "--preset", "agentscope-9", "--hidden-turn", "0.05", "--quiet", "--log", str(log)
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = [line["event"]["type"] for line in lines if line["kind"] == "event"]
    assert events.count("night_fell") >= 1
    assert done.stdout.count("Loup-Garou:") == 1


def test_pace_spaces_the_requests_of_a_game(tmp_path):
    log = tmp_path / "paced.jsonl"
    done = run("--seed", "3", "--preset", "aiwolf-5", "--pace", "0.05", "--quiet", "--log", str(log))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    starts: dict[int, float] = {}
    for line in lines:
        if line["kind"] == "request":
            starts.setdefault(line["phase_id"], line["t"])
    moments = sorted(starts.values())
    assert len(moments) > 3
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert min(gaps) >= 0.05 * 0.99  # the log's clock rounds to microseconds


def test_aiwolf_seats_played_by_official_client_agents():
    host = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            *("--preset", "aiwolf-5", "--seed", "8", "--aiwolf", "2"),
            *("--port", "0", "--quiet", "--hidden-turn", "0"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    agents: list[AIWolfAgent] = []
    try:
        assert host.stdout is not None
        urls: list[str] = []
        for _ in range(20):  # the seats' URLs are printed among the first lines
            line = host.stdout.readline()
            found = re.match(
                r"Seat \d \((Alice|Bruno), in game Agent\[0\d\]\): (ws://\S+/ws\?token=\S+)$", line
            )
            if found:
                urls.append(found.group(2))
            if len(urls) == 2:
                break
        assert len(urls) == 2
        by_query = AIWolfAgent(urls[0], None, "kanolab1").start()  # the token in the URL
        base, token = urls[1].split("?token=")
        by_header = AIWolfAgent(base, token, "kanolab2").start()  # the token as Authorization: Bearer
        agents += [by_query, by_header]
        rest = host.communicate(timeout=120)[0]
        assert host.returncode == 0
        assert "Agents: HeuristicAgent x3, remote x2." in rest
        assert "Result:" in rest
        for agent in agents:
            agent.join(30)
            assert agent.error is None
            assert agent.requests[-1] is Request.FINISH
            # AIWolf seats in an AIWolf preset: AIWolf's opening, everyone talks on day 0.
            assert agent.requests[:4] == [
                Request.NAME,
                Request.INITIALIZE,
                Request.DAILY_INITIALIZE,
                Request.TALK,
            ]
    finally:
        host.kill()
        host.wait()
