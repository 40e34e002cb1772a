"""The per-host pool of LLM requests: one explicit limit per host, conflicting limits refused."""

from __future__ import annotations

import itertools
import re

import pytest

from actors.heuristic import HeuristicAgent
from actors.llm import PERSONAS, HostPools, LLMAgent, LLMSettings, host_limiter
from engine import preset

_HOSTS = itertools.count()


def fresh_host() -> str:
    """A host no other test configured: the pools live as long as the process."""
    return f"http://pool-test-{next(_HOSTS)}.invalid:11434"


def test_the_same_limit_gives_the_same_pool():
    host = fresh_host()
    assert host_limiter(host, 3) is host_limiter(host, 3)


def test_a_conflicting_limit_for_a_host_is_refused_naming_both_values():
    host = fresh_host()
    host_limiter(host, 2)
    with pytest.raises(ValueError, match=rf"{re.escape(host)}.*\b2\b.*\b5\b"):
        host_limiter(host, 5)


def test_each_host_has_its_own_limit():
    first, second = fresh_host(), fresh_host()
    assert host_limiter(first, 1) is not host_limiter(second, 4)


def test_an_agent_whose_settings_conflict_with_its_hosts_pool_is_refused():
    host = fresh_host()
    config = preset("aiwolf-5")
    LLMAgent(
        LLMSettings(model="a", host=host, parallel=4), config, persona=PERSONAS[0], fallback=HeuristicAgent(0)
    )
    with pytest.raises(ValueError, match=rf"{re.escape(host)}.*\b4\b.*\b1\b"):
        LLMAgent(
            LLMSettings(model="b", host=host, parallel=1),
            config,
            persona=PERSONAS[1],
            fallback=HeuristicAgent(1),
        )


def test_a_pool_holds_its_limit_and_a_semaphore_of_that_size():
    pools = HostPools()
    pool = pools.configure("http://h:1", 2)
    assert (pool.host, pool.parallel) == ("http://h:1", 2)
    assert pool.limiter.acquire(blocking=False)
    assert pool.limiter.acquire(blocking=False)
    assert not pool.limiter.acquire(blocking=False)
    assert pools.get("http://h:1") is pool
    assert pools.get("http://other:1") is None


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match=r"http://h:1.*at least 1"):
        HostPools().configure("http://h:1", 0)
