"""In Chromium against a live ``aisle serve``: signing in with the demo owner's printed
password, wrong passwords refused, signing out ending the session for a copied cookie,
CSRF-less posts refused, an HTML page for unknown URLs, and the offline API reference."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import VIEWER_EMAIL, VIEWER_PASSWORD
from .harness import LiveServer, PageWatch


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/dashboard/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_the_root_leads_to_sign_in_and_the_owner_signs_in(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    watch.check("login")
    sign_in(page, server.owner_email, server.owner_password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Golden Hour Photography (demo)")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Overview")
    expect(page.get_by_text("owner", exact=False).first).to_be_visible()
    # htmx and its SSE extension are loaded from the vendor folder, with the CSRF header.
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.allowEval") is False
    headers = page.locator("body").get_attribute("hx-headers")
    assert headers is not None and "X-CSRFToken" in headers
    watch.check("overview")


def test_the_overview_is_usable_at_phone_width(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        watch = PageWatch(page, server.url)
        sign_in(page, server.owner_email, server.owner_password)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways at phone width ({width}px)"
        watch.check("overview-phone")
    finally:
        context.close()


def test_a_wrong_password_is_refused_and_says_so(page: Page, watch: PageWatch) -> None:
    sign_in(page, "owner@demo.example", "not the password at all")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("That email and password do not match an account.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_value("owner@demo.example")
    assert page.context.cookies() == [] or all(
        c["name"] != "aisle_session" for c in page.context.cookies()
    )
    # The 401 answer itself is the page shown: not a console error of the page's own.
    watch.errors = [e for e in watch.errors if "401" not in e]
    watch.check("login-refused")


def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    browser: Browser, context: BrowserContext, page: Page, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    copied = browser.new_context(base_url=server.url)
    try:
        copied.add_cookies(context.cookies())
        other = copied.new_page()
        other.goto("/dashboard/")
        expect(other).to_have_url(re.compile(r"/dashboard/$"))
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/dashboard/login$"))
        other.goto("/dashboard/")
        expect(other).to_have_url(re.compile(r"/dashboard/login$"))
    finally:
        copied.close()


def test_a_post_without_the_csrf_token_is_refused(page: Page, server: LiveServer) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    forged = page.request.post("/dashboard/logout", form={}, max_redirects=0)
    assert forged.status == 403
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))  # still signed in


def test_a_viewer_sees_the_pages_but_no_control_that_changes_anything(
    page: Page, watch: PageWatch
) -> None:
    sign_in(page, VIEWER_EMAIL, VIEWER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator(".who")).to_contain_text("viewer")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 2
    for href in hrefs:
        assert href is not None
        page.goto(href)
        changing = page.locator(
            "form[method=post]:not(.logout), [hx-post], [hx-put], [hx-patch], [hx-delete]"
        )
        assert changing.count() == 0, f"{href} offers a viewer a change"
    watch.check("overview-viewer")


def test_an_unknown_dashboard_url_gets_a_page(page: Page, watch: PageWatch) -> None:
    answer = page.goto("/dashboard/no/such/page")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the overview")).to_be_visible()
    watch.errors = [e for e in watch.errors if "404" not in e]
    watch.check("not-found")


def test_the_api_reference_loads_offline(page: Page, watch: PageWatch) -> None:
    page.goto("/schema/swagger")
    expect(page).to_have_url(re.compile(r"/dashboard/api$"))
    expect(page.get_by_role("heading", name="API reference", level=1)).to_be_visible()
    # Swagger UI, from static/vendor, drew the app's own OpenAPI document.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Aisle")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    watch.check("api-reference", axe_exclude=["#api-reference"])
