"""In Chromium against a live ``aisle serve``: the overview's numbers link to their pages
and its chart is drawn; the owner creates an API token (shown once) and revokes it; a
viewer sees the settings without a control; the plugins page lists the built-ins; the
collaboration page. Every page: no console errors, no serious or critical axe
violation, a screenshot."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from .conftest import VIEWER_EMAIL, VIEWER_PASSWORD
from .harness import LiveServer, PageWatch
from .test_sign_in import sign_in


def test_the_overview_shows_the_chart_and_links_to_each_number(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_contain_text("last 14 days")
    for key, path in [
        ("journeys", "/dashboard/journeys"),
        ("couples", "/dashboard/couples"),
        ("due", "/dashboard/runs?status=pending"),
        ("failures", "/dashboard/runs?status=dead"),
    ]:
        expect(page.locator(f"#figure-{key} a")).to_have_attribute("href", path)
    watch.check("overview-admin")
    page.locator("#figure-couples a").click()
    expect(page).to_have_url(re.compile(r"/dashboard/couples$"))


def test_the_owner_creates_a_token_shown_once_and_revokes_it(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    page.goto("/dashboard/settings")
    watch.check("settings-owner")
    page.get_by_label("Token name").fill("Browser test token")
    page.get_by_label("Token role").select_option("viewer")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("#new-token code")
    expect(shown).to_be_visible()
    token = shown.inner_text()
    me = httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert me.status_code == 200, me.text
    watch.check("settings-token-created")

    page.goto("/dashboard/settings")
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()
    page.get_by_role("button", name="Revoke Browser test token").click()
    expect(page.get_by_role("button", name="Revoke Browser test token")).to_have_count(0)
    gone = httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert gone.status_code == 401


def test_a_viewer_sees_settings_without_change_controls(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, VIEWER_EMAIL, VIEWER_PASSWORD)
    expect(page.locator(".who")).to_contain_text("viewer")
    page.goto("/dashboard/settings")
    expect(page.get_by_text("Timezone")).to_be_visible()
    assert page.locator("main form").count() == 0
    assert page.locator("main button, main select, main input").count() == 0
    watch.check("settings-viewer")
    page.goto("/dashboard/collaboration")
    assert page.get_by_role("button", name=re.compile("Release")).count() == 0
    watch.check("collaboration-viewer")


def test_the_plugins_page_lists_the_built_ins(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    page.get_by_role("link", name="Plugins").click()
    expect(page).to_have_url(re.compile(r"/dashboard/plugins$"))
    builtins = page.locator("#plugin-builtins")
    expect(builtins).to_contain_text("aisle-journeys")
    expect(builtins).to_contain_text("wait")
    expect(page.locator("#plugin-actions")).to_contain_text("webhook")
    watch.check("plugins")
    page.goto("/dashboard/collaboration")
    expect(page.get_by_role("heading", name="Collaboration")).to_be_visible()
    watch.check("collaboration")
