"""The dashboard shell over HTTP: sign-in, session cookie, CSRF, the overview, sign-out."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from aisle.clock import TestClock
from aisle.demo import DEMO_JOURNEY_NAME, demo_journey
from aisle.domain import Contact, EnrollmentState
from aisle.storage.store import OrgScope, Store

from .forms import csrf_from, sign_in

pytestmark = pytest.mark.asyncio


async def _studio(store: Store, slug: str) -> tuple[OrgScope, str]:
    org = await store.organizations.create(slug=slug, name=f"{slug.title()} Studio")
    scope = store.for_org(org)
    _, token = await scope.tokens.create(name="dashboard", role="viewer")
    return scope, token


async def _enroll(scope: OrgScope, journey_id: str, status: str, n: int = 0) -> str:
    contact = await scope.contacts.create(Contact(email=f"{status}{n}@example.com"))
    state = EnrollmentState(
        enrollment_id=scope.enrollments.new_id(), status=status, step_id="send_brochure"
    )
    await scope.enrollments.create(
        contact_id=contact.id, journey_id=journey_id, version=1, state=state
    )
    return state.enrollment_id


async def test_signed_out_pages_redirect_to_the_login_form(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/dashboard/")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"


async def test_the_login_form_is_accessible_and_carries_a_csrf_token(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.get("/dashboard/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    assert '<label for="token">API token</label>' in html
    assert 'id="token" name="token" type="password"' in html
    assert '<main id="main"' in html
    assert csrf_from(html)
    csrf_cookie = response.headers["set-cookie"]
    assert csrf_cookie.startswith("aisle_csrf=")
    assert "HttpOnly" in csrf_cookie
    assert "Path=/dashboard" in csrf_cookie


async def test_a_form_post_without_the_csrf_token_is_refused(
    store: Store, browser: httpx.AsyncClient
) -> None:
    _, token = await _studio(store, "nocsrf")
    await browser.get("/dashboard/login")  # the CSRF cookie alone is not enough
    response = await browser.post("/dashboard/login", data={"token": token})
    assert response.status_code == 403
    assert "aisle_session" not in response.headers.get("set-cookie", "")


async def test_a_wrong_token_shows_an_error_and_sets_no_session(
    browser: httpx.AsyncClient,
) -> None:
    response = await sign_in(browser, "aisle_not-a-real-token")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "unknown, revoked or expired" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "aisle_session" not in response.headers.get("set-cookie", "")


async def test_signing_in_sets_a_signed_httponly_session_and_shows_the_overview(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, token = await _studio(store, "golden")
    journey = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
    await scope.journeys.publish(journey.id, demo_journey())
    for status in ("active", "active", "completed", "exited"):
        await _enroll(scope, journey.id, status)
    await scope.journeys.create(name="Album upsell")  # a draft, nobody in it

    response = await sign_in(browser, token)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("aisle_session=")
    assert "HttpOnly" in cookie
    assert "Path=/dashboard" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert token not in cookie

    page = await browser.get("/dashboard/")
    assert page.status_code == 200
    html = page.text
    assert "Golden Studio" in html
    assert '<th scope="col">Journey</th>' in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 2
    album, demo = rows  # sorted by name
    assert "Album upsell" in album and "status-draft" in album
    assert DEMO_JOURNEY_NAME in demo and "status-live" in demo
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in demo.split("<td")[1:]]
    assert cells[1:] == ["1", "2", "1", "4", "0"]  # version, active, completed, all, failed


async def test_the_overview_tells_completed_from_completed_with_failed_actions(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, token = await _studio(store, "failing")
    journey = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
    await scope.journeys.publish(journey.id, demo_journey())
    await _enroll(scope, journey.id, "completed", 1)
    failed = await _enroll(scope, journey.id, "completed", 2)
    run, _ = await scope.action_runs.create(
        executor="webhook",
        config={},
        idempotency_key="dead-run",
        enrollment_id=failed,
        journey_id=journey.id,
        journey_version=1,
        step_id="send_brochure",
    )
    claimed = await store.outbox.claim(
        run.id, worker="w", lease_until=store.clock.now() + timedelta(minutes=1)
    )
    assert claimed is not None
    assert await store.outbox.finish(claimed, status="dead", error="the receiver answered 401")

    await sign_in(browser, token)
    html = (await browser.get("/dashboard/")).text
    row = html.split("<tbody>")[1].split("</tbody>")[0]
    cells = [" ".join(c.split(">", 1)[1].split("</td>")[0].split()) for c in row.split("<td")[1:]]
    # version, active, completed (and how many of those with failed actions), all, failed
    assert cells[1:3] == ["1", "0"]
    assert cells[3].startswith("2") and "(1 with failed actions)" in cells[3]
    assert cells[4:] == ["2", "1"]


async def test_the_overview_shows_only_the_signed_in_organization(
    store: Store, browser: httpx.AsyncClient
) -> None:
    mine, token = await _studio(store, "mine")
    theirs, _ = await _studio(store, "theirs")
    await mine.journeys.create(name="Our journey")
    await theirs.journeys.create(name="Their secret journey")
    await sign_in(browser, token)
    html = (await browser.get("/dashboard/")).text
    assert "Our journey" in html
    assert "Their secret journey" not in html


async def test_a_tampered_session_cookie_signs_out(
    store: Store, browser: httpx.AsyncClient
) -> None:
    _, token = await _studio(store, "tamper")
    await sign_in(browser, token)
    value = browser.cookies.get("aisle_session", path="/dashboard")
    assert value
    forged = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    browser.cookies.set("aisle_session", forged, path="/dashboard")
    response = await browser.get("/dashboard/")
    assert response.status_code == 303


async def test_revoking_the_token_ends_the_session(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, token = await _studio(store, "revoked")
    await sign_in(browser, token)
    assert (await browser.get("/dashboard/")).status_code == 200
    for listed in await scope.tokens.list():
        await scope.tokens.revoke(listed.id)
    assert (await browser.get("/dashboard/")).status_code == 303


async def test_the_session_expires(
    store: Store, clock: TestClock, browser: httpx.AsyncClient
) -> None:
    _, token = await _studio(store, "expiry")
    await sign_in(browser, token)
    clock.advance(timedelta(hours=11))
    assert (await browser.get("/dashboard/")).status_code == 200
    clock.advance(timedelta(hours=2))
    assert (await browser.get("/dashboard/")).status_code == 303


async def test_signing_out_clears_the_session(store: Store, browser: httpx.AsyncClient) -> None:
    _, token = await _studio(store, "bye")
    await sign_in(browser, token)
    page = await browser.get("/dashboard/")
    response = await browser.post("/dashboard/logout", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    assert (await browser.get("/dashboard/")).status_code == 303


async def test_the_stylesheet_is_served_from_the_package(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/dashboard/static/aisle.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in response.text
