"""The abuse benchmark's tool (bench/abuse): it hosts the game, its attacks reach the server and send
what they claim, and the report's verdicts follow the figures.

No figure is asserted (machines are noisy, and the server may or may not resist yet): only what holds
whether the attacks succeed or the server refuses them. The end-to-end run is tiny (a few attackers,
half-second windows).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

from bench.abuse.attacks import EMOJI, Plan, ping_text
from bench.abuse.measure import percentile
from bench.abuse.report import summarise, summarise_kind, table, verdicts
from bench.abuse.runner import Settings, measure
from bench.abuse.wire import OP_TEXT, client_frame

pytestmark = pytest.mark.timeout(120)

TINY = Plan(
    spectators=3,
    message_bytes=200_000,
    hold_s=0.2,
    max_rounds=2,
    pingers=2,
    ping_keys=20_000,
    raw_idle=3,
    ws_idle=3,
)


def server_ended(ends: dict[str, int]) -> int:
    """Connections the server ended or refused (anything but those still open when the attack stopped)."""
    return sum(n for end, n in ends.items() if end != "held")


def test_a_tiny_run_hosts_the_game_and_every_attack_reaches_the_server(tmp_path: Path) -> None:
    # Three source addresses: a server's cap per address (if it has one) never meets more than two of
    # each kind of idle connection.
    sources = "127.0.0.2,127.0.0.3,127.0.0.4"
    settings = Settings(plan=TINY, window_s=0.5, pin=False, settle_s=10.0, source=sources)
    pairs = {p["kind"]: p for p in measure(["memory", "cpu", "connections"], 1, settings, tmp_path)}
    assert set(pairs) == {"memory", "cpu", "connections"}

    for pair in pairs.values():  # the game is hosted and played to its end in every window
        for window in ("control", "attack", "after"):
            games = pair[window]["games"]
            assert games, window
            assert all(g["error"] is None and g["seconds"] > 0 and g["events"] > 0 for g in games), window
        assert pair["control"]["health"]["probes"] > 0
        assert pair["control"]["rss_kib"] > 0
        assert pair["attack"]["peak"]["rss_kib"] > 0

    # Memory: each round opens every spectator, each writes its whole unfinished message unless the
    # server ends the connection first; every attempt is accounted for.
    memory = pairs["memory"]["attack"]["attacker"]["tallies"]["spectators"]
    assert 1 <= memory["rounds"] <= TINY.max_rounds
    assert TINY.spectators <= memory["attempts"] <= TINY.spectators * memory["rounds"]
    assert sum(memory["ends"].values()) == memory["attempts"]
    assert memory["messages"] + server_ended(memory["ends"]) >= memory["attempts"]
    assert memory["bytes_sent"] >= memory["messages"] * TINY.message_bytes
    first_round = pairs["memory"]["attack"]["at_ready"]["tallies"]["spectators"]
    assert first_round["attempts"] == TINY.spectators
    assert first_round["accepted"] + server_ended(first_round["ends"]) >= TINY.spectators

    # CPU: every pinger connects and sends (or is closed, and comes back).
    pingers = pairs["cpu"]["attack"]["attacker"]["tallies"]["pingers"]
    assert pingers["message_bytes"] == len(ping_text(TINY.ping_keys))
    assert pingers["attempts"] >= TINY.pingers
    assert sum(pingers["ends"].values()) == pingers["attempts"]
    assert pingers["bytes_sent"] > 0
    assert pingers["messages"] + server_ended(pingers["ends"]) >= TINY.pingers

    # Connections: the server holds them all (its open files, from /proc, sampled through the attack:
    # at the very moment the attacker says it is in place, a busy server may not have accepted the last
    # ones yet), and still answers /stats.
    connections = pairs["connections"]["attack"]
    ready, control_fds = connections["at_ready"], pairs["connections"]["control"]["fds"]
    assert ready["ready"]
    assert connections["peak"]["fds"] >= control_fds + TINY.raw_idle + TINY.ws_idle
    assert ready["clients"] is not None
    tallies = connections["attacker"]["tallies"]
    assert tallies["raw"]["connected"] >= TINY.raw_idle
    assert tallies["ws"]["accepted"] >= TINY.ws_idle
    for tally in tallies.values():
        assert sum(tally["ends"].values()) == tally["attempts"]

    # And the run's report renders from these figures.
    summary = summarise(list(pairs.values()))
    assert len(table(summary)) == 2 + 3


# ---------------------------------------------------------------------------------------- frames


@pytest.mark.parametrize("payload", [b"A" * 70_000, EMOJI * 20_000], ids=["ascii", "emoji"])
def test_the_unfinished_message_is_one_masked_text_frame_without_fin(payload: bytes) -> None:
    frame = client_frame(OP_TEXT, payload, fin=False)
    assert frame[1] & 0x80  # masked, as a client's frames must be
    server = FrameProtocol(client=False, extensions=[])
    server.receive_bytes(frame)
    frames = list(server.received_frames())
    assert [f.opcode for f in frames] == [Opcode.TEXT]
    assert frames[0].payload == payload.decode()
    assert frames[0].frame_finished
    assert not frames[0].message_finished


def test_the_ping_has_the_extra_keys_it_claims() -> None:
    text = ping_text(100_000)
    ping = json.loads(text)
    assert ping["type"] == "ping"
    assert len(ping) == 2 + 100_000
    assert 790_000 < len(text) < 810_000  # about 800 KB: under today's 1 MiB message limit


# ---------------------------------------------------------------------------------------- verdicts


def test_verdicts_follow_the_goals() -> None:
    good = verdicts(wall_ratio=1.5, failed=0, p99_ms=99.9, rss_ratio=1.10)
    assert good == {"wall": True, "healthz": True, "rss": True}
    bad = verdicts(wall_ratio=1.51, failed=0, p99_ms=100.0, rss_ratio=1.11)
    assert bad == {"wall": False, "healthz": False, "rss": False}
    assert not verdicts(wall_ratio=1.0, failed=1, p99_ms=1.0, rss_ratio=1.0)["wall"]
    assert not verdicts(wall_ratio=math.inf, failed=0, p99_ms=1.0, rss_ratio=1.0)["wall"]
    assert not any(verdicts(wall_ratio=math.nan, failed=0, p99_ms=math.nan, rss_ratio=math.nan).values())
    assert verdicts(wall_ratio=0.5, failed=0, p99_ms=1.0, rss_ratio=0.5)["rss"]  # lower RSS is fine


def fake_pair(
    control_s: float, attack_s: float | None, p99: float, rss: tuple[int, int, int]
) -> dict[str, Any]:
    """A pair's figures as `run_pair` returns them, with what the summary reads."""

    def health(p99_ms: float) -> dict[str, Any]:
        return {"probes": 10, "p50_ms": 1.0, "p99_ms": p99_ms, "max_ms": p99_ms, "timeouts": 0, "errors": 0}

    games = [{"seconds": attack_s, "error": None if attack_s else "did not finish", "events": 1}]
    tally: dict[str, Any] = {"attempts": 4, "accepted": 4, "messages": 4, "bytes_sent": 40, "peak_open": 4}
    tally["ends"] = {"held": 4}
    return {
        "kind": "memory",
        "repeat": 1,
        "plan": Plan().__dict__,
        "control": {
            "games": [{"seconds": control_s, "error": None}],
            "game_s": control_s,
            "failed": 0,
            "server_busy": 0.5,
            "rss_kib": rss[0],
            "fds": 10,
            "health": health(2.0),
        },
        "attack": {
            "games": games,
            "game_s": attack_s if attack_s else math.inf,
            "failed": 0 if attack_s else 1,
            "server_busy": 0.9,
            "health": health(p99),
            "peak": {"rss_kib": rss[1], "fds": 100},
            "at_ready": {"ready": True, "after_s": 0.1, "fds": 50, "clients": 3, "tallies": {}},
            "attacker": {"tallies": {"spectators": tally}},
        },
        "after": {
            "games": [{"seconds": control_s, "error": None}],
            "game_s": control_s,
            "failed": 0,
            "server_busy": 0.5,
            "rss_kib": rss[2],
            "fds": 10,
            "settle_s": 0.0,
            "health": health(2.0),
        },
    }


def test_the_summary_takes_medians_over_repeats_and_judges_them() -> None:
    pairs = [
        fake_pair(0.10, 0.12, 50.0, (100, 400, 105)),
        fake_pair(0.10, 0.20, 150.0, (100, 500, 130)),
        fake_pair(0.10, 0.14, 80.0, (100, 450, 108)),
    ]
    summary = summarise_kind(pairs)
    assert summary["wall_ratio"] == pytest.approx(1.4)
    assert summary["p99_ms"] == 80.0
    assert summary["max_ms"] == 150.0
    assert summary["rss_ratio"] == pytest.approx(1.08)
    assert summary["rss_mib"] == pytest.approx((100 / 1024, 450 / 1024, 108 / 1024))
    assert summary["verdicts"] == {"wall": True, "healthz": True, "rss": True}
    assert summary["tallies"]["spectators"]["attempts"] == 12
    assert summary["ends"]["spectators"] == {"held": 12}


def test_a_game_that_did_not_finish_under_attack_misses_the_wall_goal() -> None:
    summary = summarise_kind([fake_pair(0.10, None, 50.0, (100, 400, 300))])
    assert summary["failed"] == 1
    assert math.isinf(summary["attack_ms"])
    assert summary["verdicts"] == {"wall": False, "healthz": True, "rss": False}
    row = table({"memory": summary})[-1]
    assert "not finished" in row
    assert row.count("**missed**") == 2


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 99))
