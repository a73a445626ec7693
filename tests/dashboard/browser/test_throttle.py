"""In Chromium: after the allowed failed sign-ins, even the right password waits (a
server of its own, so its spent budget holds back no other test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .harness import LiveServer, PageWatch, live_server
from .test_sign_in import sign_in


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("aisle-strict")
    with live_server(data, AISLE_AUTH_FAILURE_LIMIT="3/minute") as served:
        yield served


def test_sign_in_is_throttled_after_failures(browser: Browser, strict_server: LiveServer) -> None:
    context = browser.new_context(base_url=strict_server.url)
    try:
        page: Page = context.new_page()
        watch = PageWatch(page, strict_server.url)
        for _ in range(3):
            sign_in(page, strict_server.owner_email, "a wrong guess, again")
            expect(page.get_by_role("alert")).to_contain_text("do not match")
        sign_in(page, strict_server.owner_email, strict_server.owner_password)
        expect(page.get_by_role("alert")).to_have_text(
            re.compile(r"Too many failed sign-ins\. Try again in \d+ seconds\.")
        )
        expect(page).to_have_url(re.compile(r"/dashboard/login$"))
        watch.errors = [e for e in watch.errors if "401" not in e and "429" not in e]
        watch.check("login-throttled")
    finally:
        context.close()
