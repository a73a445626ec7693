"""The overview: the day's numbers (each a link), the runs-per-day chart, journeys whose
failures show, the latest log entries with names in place of ids, CRM connections
needing attention."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from aisle.clock import TestClock
from aisle.contracts.log import LogKind
from aisle.demo import DEMO_JOURNEY_NAME, demo_journey
from aisle.domain import EnrollmentState
from aisle.services.stats import JourneyStatistics
from aisle.storage.store import OrgScope, Store

from .forms import sign_in
from .studio import couple, studio

pytestmark = pytest.mark.asyncio


def _figure(html: str, key: str) -> tuple[str, str]:
    """A figure's number and the page it links to."""
    match = re.search(
        rf'id="figure-{key}">\s*<a href="([^"]+)"><span class="figure-value">([^<]+)<', html
    )
    assert match, f"no figure {key}"
    return match.group(2), match.group(1)


async def _run(scope: OrgScope, key: str, **fields: object) -> str:
    run, _ = await scope.action_runs.create(
        executor="webhook", config={}, idempotency_key=key, **fields
    )
    return run.id


async def _dead(store: Store, scope: OrgScope, key: str, **fields: object) -> str:
    run_id = await _run(scope, key, **fields)
    claimed = await store.outbox.claim(
        run_id, worker="w", lease_until=store.clock.now() + timedelta(minutes=1)
    )
    assert claimed is not None
    assert await store.outbox.finish(claimed, status="dead", error="the receiver answered 410")
    return run_id


async def _enroll(scope: OrgScope, journey_id: str, contact_id: str, status: str) -> str:
    state = EnrollmentState(
        enrollment_id=scope.enrollments.new_id(), status=status, step_id="send_brochure"
    )
    await scope.enrollments.create(
        contact_id=contact_id, journey_id=journey_id, version=1, state=state
    )
    return state.enrollment_id


async def test_the_days_numbers_are_counted_and_link_to_their_pages(
    store: Store, clock: TestClock, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "numbers", role="viewer")
    live = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
    await scope.journeys.publish(live.id, demo_journey())
    await scope.journeys.create(name="Still a draft")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    cy = await couple(scope, "Cy", "Di", "cy@example.com")
    ed = await couple(scope, "Ed", "Flo", "ed@example.com")
    # Ana is in flight twice (counted once), Cy once; Ed's journey is over.
    await _enroll(scope, live.id, ana.id, "active")
    await _enroll(scope, live.id, ana.id, "active")
    await _enroll(scope, live.id, cy.id, "active")
    await _enroll(scope, live.id, ed.id, "completed")
    # One failure 25 hours ago and one now; two runs due today (one overdue), one
    # tomorrow.
    await _dead(store, scope, "old-failure")
    clock.advance(timedelta(hours=25))
    _, token = await scope.tokens.create(name="a day later", role="viewer")
    await sign_in(browser, token)  # the first session ended meanwhile
    await _dead(store, scope, "new-failure")
    await _run(scope, "due-now")
    await _run(scope, "overdue", not_before=clock.now() - timedelta(days=3))
    await _run(scope, "tomorrow", not_before=clock.now() + timedelta(days=1))

    html = (await browser.get("/dashboard/")).text
    assert _figure(html, "journeys") == ("1", "/dashboard/journeys")
    assert _figure(html, "couples") == ("2", "/dashboard/couples")
    assert _figure(html, "due") == ("2", "/dashboard/runs?status=pending")
    assert _figure(html, "failures") == ("1", "/dashboard/runs?status=dead")
    assert 'class="figure alarm" id="figure-failures"' in html
    assert f'href="/dashboard/journeys/{live.id}"' in html


async def test_the_chart_draws_fourteen_days_of_sent_and_failed_runs(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "chart")
    await _dead(store, scope, "failed-today")
    html = (await browser.get("/dashboard/")).text
    svg = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert svg.lstrip().startswith("<svg")
    assert "Action runs per day, last 14 days" in svg
    assert "0 runs sent and 1 failed over 14 days" in svg


async def test_a_journey_whose_runs_all_died_shows_its_failures(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "dead")
    journey = await scope.journeys.create(name="Webhooks to nowhere", draft=demo_journey())
    await scope.journeys.publish(journey.id, demo_journey())
    for n in range(2):
        contact = await couple(scope, f"P{n}", "Q", f"p{n}@example.com")
        enrollment = await _enroll(scope, journey.id, contact.id, "completed")
        await _dead(store, scope, f"dead-{n}", enrollment_id=enrollment, journey_id=journey.id)
    html = (await browser.get("/dashboard/")).text
    row = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "Webhooks to nowhere" in row
    cells = [" ".join(c.split(">", 1)[1].split("</td>")[0].split()) for c in row.split("<td")[1:]]
    # status, version, active, completed (2, both with failed actions), all, failed
    assert cells[3].startswith("2") and "(2 with failed actions)" in cells[3]
    assert cells[5] == "2"


async def test_the_latest_log_lines_name_journeys_couples_and_people(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "names")
    journey = await scope.journeys.create(name="Album upsell")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    user = await scope.users.create(email="june@example.com", role="editor", name="June")
    await scope.log.append(
        LogKind.ENROLLMENT_STARTED,
        message=f"enrolled in {journey.id} v1",
        journey_id=journey.id,
        contact_id=ana.id,
        actor=f"user:{user.id}",
    )
    html = (await browser.get("/dashboard/")).text
    latest = html.split('id="latest-heading"')[1]
    assert "enrolled in Album upsell v1" in latest
    assert "Ana Ng &amp; Ben" in latest
    assert ">June<" in latest
    assert journey.id not in latest
    assert f"user:{user.id}" not in latest


async def test_crm_connections_needing_attention_are_counted_and_named(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "crmcheck")
    broken = await scope.crm_connections.create(provider="tave", name="Tave main")
    await scope.crm_connections.update(broken.id, status="failed", last_error="401 from Tave")
    await scope.crm_connections.create(provider="honeybook", name="HoneyBook ok")
    off = await scope.crm_connections.create(provider="tave", name="Old Tave")
    await scope.crm_connections.update(off.id, status="failed", enabled=False)
    html = (await browser.get("/dashboard/")).text
    value, _ = _figure(html, "crm")
    assert value == "1"
    note = html.split('id="figure-crm"')[1].split("</li>")[0]
    assert "Tave main" in note
    assert "Old Tave" not in note and "HoneyBook ok" not in note


async def test_the_summaries_read_in_grouped_queries_match_one_journeys_stats(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "grouped")
    first = await scope.journeys.create(name="First", draft=demo_journey())
    second = await scope.journeys.create(name="Second", draft=demo_journey())
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    done = await _enroll(scope, first.id, ana.id, "completed")
    await _enroll(scope, second.id, ana.id, "active")
    await _dead(store, scope, "d1", enrollment_id=done, journey_id=first.id)
    await _dead(store, scope, "d2", journey_id=second.id)
    stats = JourneyStatistics(scope)
    for summary in await stats.summaries():
        one = await stats.journey(summary.id)
        assert summary.outcomes == one.outcomes
