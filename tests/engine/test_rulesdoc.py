"""docs/rules.md is generated from the config the engine runs; a stale copy fails here."""

from __future__ import annotations

from pathlib import Path

from engine import PRESETS, Rules
from engine.rulesdoc import describe_rules, rules_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_committed_rules_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `python -m engine.rulesdoc > docs/rules.md`"
    )


def test_described_rules_follow_the_switches():
    config = PRESETS["classic-8"]
    text = describe_rules(config)
    assert "more than half of the living" in text
    assert "bids 0-4" in text
    assert "chat privately" not in text  # classic-8 has no wolves' chat: it must not be announced
    changed = describe_rules(config.with_rules(wolf_chat=True, vote_rule=Rules().vote_rule))
    assert "chat privately" in changed
    assert "one revote among the tied" in changed
    witchless = describe_rules(PRESETS["aiwolf-5"])
    assert "witch" not in witchless
    assert "witch" in describe_rules(PRESETS["agentscope-9"])
