"""The couples pages: search, a couple's journeys and timeline (names, not ids), enroll
and exit, a wedding-date move confirmed before it reschedules, viewers refused."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from aisle.demo import DEMO_JOURNEY_NAME, demo_journey
from aisle.storage.store import OrgScope, Store

from .forms import csrf_from
from .studio import couple, post_form, studio

pytestmark = pytest.mark.asyncio


async def _live_journey(scope: OrgScope) -> str:
    journey = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
    await scope.journeys.publish(journey.id, demo_journey())
    return journey.id


async def test_couples_are_searched_and_paged(store: Store, browser: httpx.AsyncClient) -> None:
    scope = await studio(store, browser, "search", role="viewer")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    cleo = await couple(scope, "Cleo", "Dan", "cleo@example.com")
    found = await browser.get("/dashboard/couples", params={"q": "cleo"})
    assert found.status_code == 200
    assert f'href="/dashboard/couples/{cleo.id}">Cleo Ng &amp; Dan</a>' in found.text
    assert ana.id not in found.text
    every = await browser.get("/dashboard/couples")
    assert ana.id in every.text and cleo.id in every.text


async def test_an_editor_enrolls_sees_the_timeline_and_exits_a_couple(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "enroll", role="editor")
    journey_id = await _live_journey(scope)
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    page = f"/dashboard/couples/{ana.id}"

    enrolled = await post_form(browser, page, f"{page}/enroll", {"journey": journey_id})
    assert enrolled.status_code == 303, enrolled.text
    shown = (await browser.get(page)).text
    assert f"{DEMO_JOURNEY_NAME} v1" in shown
    assert "Send the brochure" in shown  # the step's name, not its id
    assert "enrollment.started" in shown
    assert journey_id not in shown.partition('id="timeline-heading"')[2]  # names, not ids
    assert "API token “editor desk”" in shown

    (enrollment,) = await scope.enrollments.for_contact(ana.id)
    exit_url = f"{page}/enrollments/{enrollment.id}/exit"
    left = await post_form(browser, page, exit_url)
    assert left.status_code == 303
    assert (await scope.enrollments.get(enrollment.id)).state.status == "exited"
    again = await post_form(browser, page, exit_url)
    assert again.status_code == 409
    assert "is exited" in again.text


async def test_a_wedding_date_move_is_confirmed_before_it_is_saved(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "date", role="editor")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    page = f"/dashboard/couples/{ana.id}"
    asked = await post_form(browser, page, f"{page}/wedding-date", {"wedding_date": "2027-06-05"})
    assert asked.status_code == 409
    assert "Move the wedding date?" in asked.text
    assert (await scope.contacts.get(ana.id)).wedding_date is None

    confirmed = await browser.post(
        f"{page}/wedding-date",
        data={"wedding_date": "2027-06-05", "confirm": "yes", "_csrf_token": csrf_from(asked.text)},
    )
    assert confirmed.status_code == 303
    assert (await scope.contacts.get(ana.id)).wedding_date == date(2027, 6, 5)
    shown = (await browser.get(page)).text
    assert "contact.wedding_date_changed" in shown

    bad = await post_form(browser, page, f"{page}/wedding-date", {"wedding_date": "June"})
    assert bad.status_code == 422
    assert "not a date" in bad.text


async def test_a_viewer_has_no_controls_and_is_refused(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "viewer", role="viewer")
    journey_id = await _live_journey(scope)
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    page = f"/dashboard/couples/{ana.id}"
    assert "<button" not in (await browser.get(page)).text.partition('<main id="main"')[2]
    refused = await post_form(browser, page, f"{page}/enroll", {"journey": journey_id})
    assert refused.status_code == 403
    assert await scope.enrollments.for_contact(ana.id) == []


async def test_another_studios_couple_is_not_found(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "mine")
    other = store.for_org(await store.organizations.create(slug="other", name="Other"))
    theirs = await couple(other, "Eve", "Fay", "eve@example.com")
    assert (await browser.get(f"/dashboard/couples/{theirs.id}")).status_code == 404
    assert "Eve" not in (await browser.get("/dashboard/couples")).text
