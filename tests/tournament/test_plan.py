"""Plan validation: every bad plan is refused before anything runs, with the line that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tournament.plan import PlanError, load_plan, parse_plan

GOOD = """\
name = "t"
seed = 1
blocks = 2

[[table]]
preset = "classic-8"

[[contestant]]
name = "heur"
agent = "heuristic"

[[contestant]]
name = "rand"
agent = "random"
"""


def test_a_good_plan_parses() -> None:
    plan = parse_plan(GOOD)
    assert [c.name for c in plan.contestant] == ["heur", "rand"]
    assert plan.group_size == 2
    assert len(plan.configs()[0].players) == 8


def refused(text: str) -> str:
    with pytest.raises(PlanError) as info:
        parse_plan(text, source="plan.toml")
    return str(info.value)


def test_unknown_agent_kind_names_its_line() -> None:
    message = refused(GOOD.replace('agent = "random"', 'agent = "gpt5"'))
    assert message.startswith("plan.toml:14:")
    assert "unknown agent 'gpt5'" in message


def test_typo_in_a_key_names_its_line() -> None:
    message = refused(GOOD.replace('name = "rand"', 'name = "rand"\nagnet = "random"'))
    assert message.startswith("plan.toml:14:")
    assert "contestant[2].agnet" in message
    assert "unknown key" in message


def test_typo_in_an_llm_option_names_its_line() -> None:
    text = GOOD + '\n[[contestant]]\nname = "llm"\nagent = "ollama:llama3.2"\noptions = {timeout_z = 3}\n'
    message = refused(text)
    assert message.startswith("plan.toml:19:")
    assert "contestant[3].options.timeout_z: unknown option" in message


def test_options_given_to_an_agent_that_takes_none() -> None:
    message = refused(GOOD.replace('agent = "random"', 'agent = "random"\noptions = {temperature = 1}'))
    assert message.startswith("plan.toml:15:")
    assert "random takes no options" in message


def test_unknown_preset_names_its_line() -> None:
    message = refused(GOOD.replace("classic-8", "classic-9"))
    assert message.startswith("plan.toml:6:")
    assert "unknown preset 'classic-9'" in message


def test_more_seats_than_the_contestants_can_fill() -> None:
    message = refused(GOOD.replace('agent = "random"', 'agent = "random"\nmax_seats = 3'))
    assert message.startswith("plan.toml:5:")
    assert "more than its 2 contestants can fill" in message
    assert "'rand' takes at most 3" in message


def test_more_contestants_per_table_than_named() -> None:
    assert "only 2" in refused(GOOD.replace("blocks = 2", "blocks = 2\nper_table = 3"))


def test_duplicate_names_and_bad_toml() -> None:
    assert "names must differ" in refused(GOOD.replace('name = "rand"', 'name = "heur"'))
    assert "not TOML" in refused("name = ")


def test_missing_script_is_refused(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(GOOD.replace('agent = "random"', 'agent = "scripted:nowhere.toml"'))
    with pytest.raises(PlanError, match=r"plan.toml:14: contestant 'rand'"):
        load_plan(plan)


def test_custom_table_with_a_bad_role() -> None:
    message = refused(GOOD.replace('preset = "classic-8"', "roles = {werewolf = 2, seeer = 1}"))
    assert "table 1" in message
    assert "seeer" in message


def test_remote_seats_are_refused() -> None:
    assert "a tournament has no remote seats" in refused(GOOD.replace('agent = "random"', 'agent = "remote"'))


def test_one_contestant_cannot_fill_a_mixed_table() -> None:
    one = GOOD[: GOOD.index('[[contestant]]\nname = "rand"')]
    assert "two contestants or more" in refused(one)
    alone = parse_plan("mixed = false\nself_play = true\n" + one)
    assert [c.name for c in alone.contestant] == ["heur"]


def test_the_example_plan_parses_with_and_without_its_llm_contestant() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "tournament.toml"
    plan = load_plan(path)
    assert [c.name for c in plan.contestant] == ["heuristic", "heuristic-b", "random"]
    uncommented = "\n".join(
        line[2:]
        if line.startswith(("# [[contestant]]", "# name", "# agent", "# hosts", "# max_games", "# options"))
        else line
        for line in path.read_text().splitlines()
    )
    llm = parse_plan(uncommented).contestant[-1]
    assert (llm.name, llm.max_games, len(llm.hosts)) == ("llama", 4, 2)


def test_every_llm_backend_actors_specs_knows_is_a_contestant() -> None:
    text = (
        GOOD
        + '\n[[contestant]]\nname = "qwen"\nagent = "openai:qwen3-8b"\nhosts = ["http://127.0.0.1:8000/v1"]\n'
    )
    plan = parse_plan(text)
    settings = plan.llm_settings(plan.contestant[2], "http://127.0.0.1:8000/v1")
    assert settings is not None
    assert (settings.backend, settings.model, settings.host) == (
        "openai",
        "qwen3-8b",
        "http://127.0.0.1:8000/v1",
    )
    assert plan.llm_settings(plan.contestant[0]) is None
    assert "unknown option" in refused(text + "options = {max_retires = 1}\n")


def test_two_limits_for_one_llm_host_are_refused() -> None:
    llm = (
        '\n[[contestant]]\nname = "{}"\nagent = "ollama:m"\nhosts = ["http://gpu:11434"]\n'
        "options = {{parallel = {}}}\n"
    )
    message = refused(GOOD + llm.format("a", 2) + llm.format("b", 4))
    assert message.startswith("plan.toml:26:")
    assert "'b' gives host http://gpu:11434 parallel = 4, 'a' gives it 2: one limit per host" in message
    assert parse_plan(GOOD + llm.format("a", 2) + llm.format("b", 2))
