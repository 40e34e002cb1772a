"""A real browser for the page's tests: Debian's `chromium`, driven by Python playwright.

Playwright's own driver comes with its pip package; the browser is the system's (`executable_path`),
never one playwright downloads. Outside CI, a machine without them skips these tests and says why; in
CI (the `CI` environment variable set) their absence is a failure: `.ci/run` installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from net.server import NetworkServer, ServerConfig
from tests.net.netutil import start_server

CHROMIUM_ENV = "LOUPGAROU_CHROMIUM"  # another browser binary than `chromium` on PATH


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs what they need)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The system's Chromium, if any."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (each test opens its own context): closed, with
    playwright's driver, before the rest of the suite runs."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - an optional test dependency
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[browser]'")
    executable = chromium_path()
    if executable is None:
        _unavailable("no chromium on PATH: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (its own sessionStorage), with console errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    new_page = context.new_page()
    new_page.set_default_timeout(10_000)
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    new_page.errors = errors
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture
def server() -> Iterator[NetworkServer]:
    """A game server on a free loopback port."""
    started = start_server(ServerConfig(port=0, stats_cache_s=0))
    try:
        yield started
    finally:
        started.stop()
