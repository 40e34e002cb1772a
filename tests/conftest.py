"""Shared test configuration: per-test trio deadlines and pykka actor teardown.

Theory of operation (pytest-trio 0.8 under pytest 9):

- A deadline cannot be imposed from a fixture, because pytest-trio runs each fixture in its own task. So
  every ``async def`` test is wrapped in ``trio.fail_after`` at collection time, before pytest-trio's own
  hook replaces ``item.obj``. The default is ``DEFAULT_DEADLINE_S``; ``@pytest.mark.deadline(seconds)``
  overrides it. Hypothesis-wrapped tests are left alone: pytest-trio unwraps them itself.
- Async autouse fixtures break sync tests under pytest-trio, so the actor teardown here is sync.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pykka
import pytest
import trio

DEFAULT_DEADLINE_S = 10.0  # seconds; per async test, unless @pytest.mark.deadline(seconds) says otherwise
ACTOR_STOP_TIMEOUT_S = 5.0  # seconds; how long teardown waits for each actor to stop

AsyncTest = Callable[..., Awaitable[Any]]


def _deadline_seconds(item: pytest.Item) -> float:
    """Return the deadline for one test: its ``deadline`` marker, or the default."""
    marker = item.get_closest_marker("deadline")
    if marker is None:
        return DEFAULT_DEADLINE_S
    seconds = marker.args[0] if marker.args else marker.kwargs["seconds"]
    return float(seconds)


def _with_deadline(fn: AsyncTest, seconds: float) -> AsyncTest:
    """Wrap an async test so it fails with ``trio.TooSlowError`` after ``seconds``."""

    @functools.wraps(fn)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        with trio.fail_after(seconds):
            return await fn(*args, **kwargs)

    return wrapped


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every coroutine test function under a trio deadline."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fn = item.obj
        if not inspect.iscoroutinefunction(fn) or hasattr(fn, "hypothesis"):
            continue
        item.obj = _with_deadline(fn, _deadline_seconds(item))


@pytest.fixture(autouse=True)
def _stop_all_actors() -> Iterator[None]:
    """Stop every pykka actor after each test, so no actor thread leaks into the next one."""
    yield
    pykka.ActorRegistry.stop_all(timeout=ACTOR_STOP_TIMEOUT_S)


@pytest.fixture(autouse=True, scope="session")
def _no_automatic_cover() -> Iterator[None]:
    """Games started in this process get no automatic cover (`actors.cover`) unless the test is marked
    `cover`: with seats that are not instant agents, the cover holds every night for whole deadlines
    (30 s by default), which a test on the real clock would wait out. Session-wide, so that games that
    module fixtures start are covered by it too; a test that passes `hidden_turn_s` gets what it asks."""
    import actors.runner  # noqa: PLC0415 - keeps this module free of app imports at collection
    from actors.cover import budget  # noqa: PLC0415

    def no_automatic_cover(hidden_turn_s: float | None, *args: Any, **kwargs: Any) -> float:
        return budget(0.0 if hidden_turn_s is None else hidden_turn_s, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(actors.runner, "budget", no_automatic_cover)
        yield


@pytest.fixture(autouse=True)
def _automatic_cover_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked `cover` gets the automatic cover, as run.py and the hosting API give it."""
    if request.node.get_closest_marker("cover") is not None:
        import actors.runner  # noqa: PLC0415
        from actors.cover import budget  # noqa: PLC0415

        monkeypatch.setattr(actors.runner, "budget", budget)


@pytest.fixture(autouse=True, scope="session")
def _host_secret_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every `run.py` the tests start (they inherit the environment) keeps its host secret in a
    temporary folder, never in the home of whoever runs the tests; one file for the whole session, so
    the same seed still gives the same game from one run to the next."""
    from actors.host_secret import HOST_SECRET_ENV  # noqa: PLC0415 - keeps this module free of app imports

    previous = os.environ.get(HOST_SECRET_ENV)
    os.environ[HOST_SECRET_ENV] = str(tmp_path_factory.mktemp("host") / "host-secret")
    yield
    if previous is None:
        del os.environ[HOST_SECRET_ENV]
    else:
        os.environ[HOST_SECRET_ENV] = previous
