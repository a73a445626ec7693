"""In Chromium against a live ``aisle serve`` that may reach 127.0.0.1 (``AISLE_HTTP_ALLOW``):
the owner connects the fake Tave Workspace on a real socket through the generated
credential form, tests it, syncs it and watches the progress bar reach the end; the
mapping editor and the held-changes page are shown. Every page: no console errors, no
serious or critical axe violation, a screenshot."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from aisle_crm_tave.fake import FakeTave

from .harness import LiveServer, PageWatch, live_server
from .test_sign_in import sign_in

API_KEY = "tave-key-the-browser-types-7d3e"
RECORDS = 1500


@pytest.fixture(scope="module")
def crm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("aisle-crm"), AISLE_HTTP_ALLOW="127.0.0.1/32") as s:
        yield s


@pytest.fixture(scope="module")
def tave() -> Iterator[FakeTave]:
    with FakeTave(api_key=API_KEY, page_size=50) as fake:
        fake.seed(
            "contacts",
            [
                {"email": f"couple{i}@example.com", "firstName": f"Couple{i}"}
                for i in range(RECORDS)
            ],
        )
        yield fake


@pytest.fixture
def crm_page(browser: Browser, crm_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=crm_server.url, viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_a_tave_connection_is_made_tested_and_synced_to_the_end(
    crm_page: Page, crm_server: LiveServer, tave: FakeTave
) -> None:
    page = crm_page
    watch = PageWatch(page, crm_server.url)
    sign_in(page, crm_server.owner_email, crm_server.owner_password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="CRM").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CRM connections")
    watch.check("crm-connections-empty")

    page.get_by_role("link", name="Connect a CRM").click()
    page.get_by_label("Provider", exact=True).select_option("tave")
    page.get_by_role("button", name="Choose").click()
    key = page.get_by_label("Api key (required)")
    expect(key).to_have_attribute("type", "password")
    watch.check("crm-new-tave")
    page.get_by_label("Name (required)").fill("Workspace")
    key.fill(API_KEY)
    page.get_by_label("Base url").fill(tave.url)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    expect(page.locator(".facts")).to_contain_text("api_key, base_url set")
    assert API_KEY not in page.content()

    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"The connection works: listed contacts: {RECORDS} record(s)"
    )
    watch.check("crm-connection-tested")

    page.get_by_role("button", name="Sync now").click()
    expect(page).to_have_url(re.compile(r"/dashboard/crm/runs/[^/]+$"))
    bar = page.locator("#sync-bar")
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while "succeeded" not in (page.locator("#sync-status").text_content() or ""):
        assert time.monotonic() < deadline, "the sync did not finish in time"
        value = bar.get_attribute("value")
        if value is not None:
            seen.append(int(value))
        page.wait_for_timeout(200)
    # The bar moved as the run went (polled, not reloaded) and ended full.
    assert seen == sorted(seen), seen
    expect(bar).to_have_attribute("max", str(RECORDS))
    expect(bar).to_have_attribute("value", str(RECORDS))
    expect(page.locator("#sync-seen")).to_contain_text(f"{RECORDS} records seen of {RECORDS}")
    expect(page.locator(".counts")).to_contain_text(re.compile(rf"Created\s*{RECORDS}"))
    watch.check("crm-sync-finished")

    page.get_by_role("link", name="Workspace").click()
    expect(page.get_by_role("table", name="Sync runs, newest first")).to_contain_text("succeeded")
    page.get_by_role("link", name="Field mapping").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Field mapping of Workspace")
    watch.check("crm-mapping")
    page.goto("/dashboard/crm/held")
    expect(page.get_by_role("heading", level=1)).to_have_text("CRM changes to review")
    watch.check("crm-held")
    page.goto("/dashboard/crm")
    expect(page.get_by_role("table", name="The studio's CRM connections")).to_contain_text(
        "succeeded"
    )
    watch.check("crm-connections")
    assert API_KEY not in page.content()
