"""In Chromium against a live ``aisle serve``: a journey built in the page (created, two
steps added and connected through the side panel, published), a couple moved by an
event sent to the API and seen moving on the graph, two editors on one journey seeing
each other while the step lock refuses the second, a viewer offered no change, the
simulation's timeline, and the demo journey's graph captured for the README."""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import VIEWER_EMAIL, VIEWER_PASSWORD
from .harness import SCREENSHOTS, LiveServer, PageWatch
from .test_sign_in import sign_in

EDITOR_EMAIL = "editor@demo.example"
EDITOR_PASSWORD = "an editor's long password"


@pytest.fixture(scope="module")
def editor(server: LiveServer) -> str:
    server.add_user(EDITOR_EMAIL, "editor", EDITOR_PASSWORD)
    return EDITOR_EMAIL


def _api(server: LiveServer) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {server.owner_token}"},
        timeout=30,
    )


def _build(page: Page, name: str) -> str:
    """A journey made in the browser: Waiting → (form submitted) → Form in → (by hand)
    → Done, published (couples wait at Form in rather than ending there)."""
    page.goto("/dashboard/journeys")
    page.locator("#journey-name").fill(name)
    page.get_by_role("button", name="Create journey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    journey_id = page.url.split("/dashboard/journeys/")[1].split("?")[0].split("#")[0]
    for kind, label in (("wait", "Waiting"), ("wait", "Form in"), ("end", "Done")):
        page.locator("#new-step-type").select_option(kind)
        page.locator("#new-step-label").fill(label)
        page.get_by_role("button", name="Add step").click()
        # The new step's panel opens and takes its lock.
        expect(page.locator("#step-panel")).to_contain_text("You hold this step's edit lock")
    for source, target, trigger in (
        ("waiting", "form_in", "form_submission"),
        ("form_in", "done", "manual"),
    ):
        page.locator("#edge-source").select_option(source)
        page.locator("#edge-target").select_option(target)
        page.locator("#edge-trigger").select_option(trigger)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_role("status")).to_have_text("Steps connected.")
    expect(page.locator('#journey-graph g.edge[data-edge-id^="waiting__form_in"]')).to_have_count(1)
    page.get_by_role("button", name="Publish the draft").click()
    expect(page.get_by_role("status")).to_have_text("Version 1 published.")
    return journey_id


def _count(page: Page, step_id: str) -> object:
    return page.locator(f'#journey-graph g.step[data-step-id="{step_id}"] g.count')


def test_a_journey_is_built_published_and_a_couple_moves_on_its_graph(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    journey_id = _build(page, "Browser welcome")
    watch.check("journey-built")

    with _api(server) as api:
        contact = api.post("/contacts", json={"email": f"c{secrets.token_hex(3)}@example.com"})
        assert contact.status_code == 201, contact.text
        contact_id = contact.json()["id"]
        enrolled = api.post(
            "/enrollments", json={"contact_id": contact_id, "journey_id": journey_id}
        )
        assert enrolled.status_code == 201, enrolled.text
        # The graph refreshes itself (every 5 s and on live changes): no reload.
        expect(_count(page, "waiting")).to_have_attribute("data-count", "1", timeout=15_000)
        expect(_count(page, "form_in")).to_have_attribute("data-count", "0")
        sent = api.post(
            "/events",
            json={
                "type": "form.submitted",
                "contact_id": contact_id,
                "idempotency_key": f"browser-{secrets.token_hex(4)}",
            },
        )
        assert sent.status_code in (200, 201, 202), sent.text
    expect(_count(page, "form_in")).to_have_attribute("data-count", "1", timeout=20_000)
    expect(_count(page, "waiting")).to_have_attribute("data-count", "0")
    watch.check("journey-moved")


def test_two_editors_see_each_other_and_the_lock_refuses_the_second(
    browser: Browser, page: Page, watch: PageWatch, server: LiveServer, editor: str
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    journey_id = _build(page, "Browser together")
    page.goto(f"/dashboard/journeys/{journey_id}?step=waiting")
    expect(page.locator("#step-panel")).to_contain_text("You hold this step's edit lock")

    other: BrowserContext = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 800}
    )
    try:
        second = other.new_page()
        second_watch = PageWatch(second, server.url)
        sign_in(second, editor, EDITOR_PASSWORD)
        second.goto(f"/dashboard/journeys/{journey_id}?step=waiting")
        panel = second.locator("#step-panel")
        expect(panel).to_contain_text("locked for editing by", timeout=10_000)
        expect(panel).not_to_contain_text("You hold this step's edit lock")
        # Each sees itself and the other on the journey, live (a session per page load:
        # the owner's earlier loads may still be listed until they time out).
        for seen in (second, page):
            listed = seen.locator("#presence .presence")
            expect(listed.filter(has_text="(you)").first).to_be_visible(timeout=10_000)
            expect(listed.filter(has_not_text="(you)").first).to_be_visible(timeout=10_000)
        expect(second.locator("#presence .lock[data-step='waiting']")).to_have_count(1)
        second_watch.check("journey-lock-refused")

        # Once the first closes the panel, the second may take the step.
        page.locator("#step-panel").get_by_role("button", name="Close").click()
        second.reload()
        expect(second.locator("#step-panel")).to_contain_text(
            "You hold this step's edit lock", timeout=10_000
        )
    finally:
        other.close()
    watch.check("journey-together")


def test_a_viewer_cannot_change_a_journey(page: Page, watch: PageWatch, server: LiveServer) -> None:
    with _api(server) as api:
        journeys = api.get("/journeys").json()["items"]
    journey_id = journeys[0]["id"]
    sign_in(page, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.goto(f"/dashboard/journeys/{journey_id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for control in ("Add step", "Connect", "Publish the draft"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
    page.locator(".step-list a").first.click()
    expect(page.locator("#step-panel")).to_contain_text("You can look but not change")
    expect(page.get_by_role("button", name="Save step")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    watch.check("journey-viewer")
    page.goto(f"/dashboard/journeys/{journey_id}/impact?to=live")
    expect(page.get_by_role("button", name=re.compile("^Migrate"))).to_have_count(0)
    # What the page does not offer, the server refuses too.
    token = page.locator("body").get_attribute("hx-headers") or ""
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', token)
    assert csrf
    refused = page.request.post(
        f"/dashboard/journeys/{journey_id}/publish",
        form={"_csrf_token": csrf.group(1)},
        max_redirects=0,
    )
    assert refused.status == 422 and "admin" in refused.text()


def test_the_simulation_draws_a_timeline_and_the_demo_graph_is_captured(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    with _api(server) as api:
        demo = api.get("/journeys").json()["items"]
    demo_id = min(demo, key=lambda j: j["created_at"])["id"]
    sign_in(page, server.owner_email, server.owner_password)
    page.goto(f"/dashboard/journeys/{demo_id}")
    graph = page.locator("#journey-graph svg")
    expect(graph).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    graph.screenshot(path=SCREENSHOTS / "journey-graph.png")
    watch.check("journey-demo")

    page.get_by_role("link", name="Simulate").click()
    page.get_by_label("First partner's first name").fill("Ann")
    page.get_by_label("Wedding date").fill(time.strftime("%Y") + "-12-31")
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_role("heading", name="Predicted timeline")).to_be_visible()
    expect(page.locator(".timeline-figure svg")).to_be_visible()
    watch.check("journey-simulation")
