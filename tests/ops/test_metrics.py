"""/metrics after real traffic: events, a journey's transitions, an action run, HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aisle.testing.harness import InProcessJobs
from tests.api.helpers import small_flow


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_every_metric_moves_with_traffic(
    aisle_client: httpx.AsyncClient, aisle_jobs: InProcessJobs
) -> None:
    before = _samples((await aisle_client.get("/metrics")).text)
    client = aisle_client
    contact = (await client.post("/api/v1/contacts", json={"email": "m@example.com"})).json()
    journey = (
        await client.post(
            "/api/v1/journeys",
            json={"name": "J", "flow": small_flow(), "settings": {"start_step": "brochure"}},
        )
    ).json()
    assert (await client.post(f"/api/v1/journeys/{journey['id']}/publish", json={})).is_success
    enrolled = await client.post(
        "/api/v1/enrollments", json={"contact_id": contact["id"], "journey_id": journey["id"]}
    )
    assert enrolled.status_code == 201
    event = {"type": "form.submitted", "idempotency_key": "m-1", "contact_id": contact["id"]}
    before_event = _samples((await aisle_client.get("/metrics")).text)
    assert (await client.post("/api/v1/events", json=event)).json()["status"] == "processed"
    assert (await client.post("/api/v1/events", json=event)).json()["created"] is False
    after_event = _samples((await aisle_client.get("/metrics")).text)
    for name, labels in (
        ("aisle_events_accepted_total", {"source": "api"}),
        ("aisle_events_processed_total", {"outcome": "processed"}),
    ):
        # The repeated idempotency key is neither accepted again nor processed.
        assert _value(after_event, name, **labels) - _value(before_event, name, **labels) == 1
    await aisle_jobs.drain()  # the email step's run: dead, since no SMTP is configured
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = _samples(scraped.text)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("aisle_transitions_total", kind="start") == 1
    assert moved("aisle_action_runs_total", executor="email", outcome="dead") == 1
    assert moved("aisle_action_attempt_seconds_count", executor="email") == 1
    route = "/api/v1/events"
    statuses = {
        dict(labels)["status"]
        for name, labels in after
        if name == "aisle_http_requests_total" and dict(labels)["route"] == route
    }
    assert (
        sum(
            moved("aisle_http_requests_total", method="POST", route=route, status=s)
            for s in statuses
        )
        == 2
    )
    assert moved("aisle_http_request_seconds_count", method="POST", route=route) == 2
    # Ids stay out of the label set: a journey's routes are counted by template.
    assert any(
        "{journey_id" in dict(labels).get("route", "")
        for name, labels in after
        if name == "aisle_http_requests_total"
    )
    # The backlog read from the database at scrape time.
    for gauge in (
        "aisle_outbox_depth",
        "aisle_outbox_oldest_due_seconds",
        "aisle_wakeup_lag_seconds",
        "aisle_events_pending",
    ):
        assert (gauge, frozenset()) in after, gauge
    # Every defined family is exported, with its labels, even before it moves.
    for family in (
        "aisle_crm_sync_runs",
        "aisle_crm_sync_records",
        "aisle_lock_contention",
        "aisle_queue_depth",
    ):
        assert f"# TYPE {family}" in scraped.text, family


async def test_backlog_gauges_show_a_due_wakeup(
    aisle_client: httpx.AsyncClient, aisle_jobs: InProcessJobs
) -> None:
    contact = (await aisle_client.post("/api/v1/contacts", json={})).json()
    journey = (
        await aisle_client.post(
            "/api/v1/journeys",
            json={"name": "J", "flow": small_flow(), "settings": {"start_step": "brochure"}},
        )
    ).json()
    await aisle_client.post(f"/api/v1/journeys/{journey['id']}/publish", json={})
    await aisle_client.post(
        "/api/v1/enrollments", json={"contact_id": contact["id"], "journey_id": journey["id"]}
    )
    # Four days on, nothing has run: the three-day wait is a day overdue.
    aisle_jobs.clock.advance(days=4)
    after = _samples((await aisle_client.get("/metrics")).text)
    lag = _value(after, "aisle_wakeup_lag_seconds")
    assert 86_000 <= lag <= 86_400 * 4
    assert _value(after, "aisle_outbox_depth") >= 1
