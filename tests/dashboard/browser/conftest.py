"""Browser fixtures: Debian's Chromium through Playwright (no browser download), one live
``aisle serve`` per test session, a fresh browser context per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from .harness import CHROMIUM, CHROMIUM_ARGS, LiveServer, PageWatch, live_server

VIEWER_EMAIL = "viewer@demo.example"
VIEWER_PASSWORD = "a viewer's long password"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    # CI installs Chromium (.ci/run) and must run these; elsewhere they wait for it.
    missing = not Path(CHROMIUM).exists() and not os.environ.get("CI")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            if missing:
                item.add_marker(
                    pytest.mark.skip(reason=f"no {CHROMIUM} (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium (the name shadows the dashboard tests' form-posting ``browser``)."""
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("aisle-data")) as served:
        served.add_user(VIEWER_EMAIL, "viewer", VIEWER_PASSWORD)
        yield served


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    made = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def watch(page: Page, server: LiveServer) -> PageWatch:
    return PageWatch(page, server.url)
