"""Webhook runs through the real worker path: outbox → claim → execute → record.

On SQLite and PostgreSQL, with the embedded job runner's ``drain`` (the same
``execute_run`` the dramatiq workers call) and a real receiver on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.domain import Contact, Edge, Graph, JourneySettings, Partner, Step
from aisle.jobs.embedded import drain
from aisle.runtime.service import Runtime
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.store import Store
from aisle.testing.http_server import HTTPReceiver, Reply

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LOCAL = {"AISLE_HTTP_ALLOW": "127.0.0.1/32", "AISLE_HTTP_HOSTS": ""}


@pytest.fixture
def receiver() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as server:
        yield server


@pytest.fixture
def runtime(store: Store, registry: Registry, settings: Settings, clock: TestClock) -> Runtime:
    # Receivers check webhook-timestamp against their own clock: start from the real time.
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return Runtime(store, registry, settings.with_changes(environ=dict(LOCAL)))


async def _studio(runtime: Runtime) -> str:
    org = await runtime.store.organizations.create(
        slug="golden-hour", name="Golden Hour", timezone="Europe/London"
    )
    # The studio's own secret, encrypted as the settings API stores it; the worker's
    # services decrypt it for the executor.
    cipher = CredentialCipher.from_settings(runtime.settings)
    await runtime.for_org(org.id).secrets.put("webhook_secret", SECRET, cipher)
    return org.id


def _journey(url: str) -> Graph:
    return Graph(
        steps=(
            Step(
                id="notify",
                type="webhook",
                config={"url": url, "event": "booking.confirmed", "payload": {"stage": "booked"}},
            ),
            Step(id="done", type="end"),
        ),
        edges=(Edge(id="e1", source="notify", target="done", trigger="immediate"),),
        settings=JourneySettings(start_step="notify"),
    )


async def _enroll(runtime: Runtime, org_id: str, url: str) -> str:
    scope = runtime.for_org(org_id)
    contact = await runtime.create_contact(
        org_id,
        Contact(partners=(Partner(first_name="Ada"), Partner(first_name="Charles"))),
    )
    journey = await scope.journeys.create(name="Booked", draft=_journey(url))
    await scope.journeys.publish(journey.id, _journey(url))
    enrollment = await runtime.enroll(org_id, contact_id=contact.id, journey_id=journey.id)
    (run,) = await scope.action_runs.list(enrollment_id=enrollment.id)
    return run.id


async def test_two_503s_then_success_is_one_webhook_id_and_three_attempts(
    runtime: Runtime, receiver: HTTPReceiver, clock: TestClock
) -> None:
    org_id = await _studio(runtime)
    run_id = await _enroll(runtime, org_id, f"{receiver.url}/hooks")
    receiver.reply(Reply(503, {"Retry-After": "1"}), times=2)

    report = await drain(runtime)
    for _ in range(2):
        clock.advance(seconds=1)
        report.outcomes += (await drain(runtime)).outcomes

    assert [o.status for o in report.outcomes] == ["failed", "failed", "succeeded"]
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 3 and len(set(ids)) == 1
    for request in receiver.requests:
        body: Any = Webhook(SECRET).verify(request.body, dict(request.headers))
        assert body["type"] == "booking.confirmed"
        assert body["data"]["stage"] == "booked"
        assert body["data"]["contact"]["names"] == "Ada & Charles"

    scope = runtime.for_org(org_id)
    run = await scope.action_runs.get(run_id)
    assert (run.status, run.attempts) == ("succeeded", 3)
    assert run.idempotency_key == ids[0]
    assert run.result == {"webhook_id": ids[0], "status": 200, "attempt": 3}
    attempts = await scope.log.list(kind="action.attempt", action_run_id=run_id, after="")
    assert [a.data["outcome"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert all("duration_ms" in a.data for a in attempts)
    assert "503" in attempts[0].data["error"]


async def test_410_kills_the_run_and_disables_the_endpoint_for_the_next(
    runtime: Runtime, receiver: HTTPReceiver
) -> None:
    org_id = await _studio(runtime)
    first = await _enroll(runtime, org_id, f"{receiver.url}/gone")
    receiver.reply(Reply(410))
    await drain(runtime)
    second = await _enroll(runtime, org_id, f"{receiver.url}/gone")
    await drain(runtime)
    scope = runtime.for_org(org_id)
    dead = [await scope.action_runs.get(first), await scope.action_runs.get(second)]
    assert [(r.status, r.attempts) for r in dead] == [("dead", 1), ("dead", 1)]
    assert "410 Gone" in (dead[0].last_error or "")
    assert "disabled" in (dead[1].last_error or "")
    assert len(receiver.requests) == 1


async def test_a_private_destination_is_dead_at_once_without_a_request(
    runtime: Runtime, receiver: HTTPReceiver
) -> None:
    runtime.settings = runtime.settings.with_changes(
        environ={"AISLE_HTTP_ALLOW": "", "AISLE_HTTP_HOSTS": "hooks.studio.test=10.0.0.1"}
    )
    org_id = await _studio(runtime)
    run_id = await _enroll(runtime, org_id, "http://hooks.studio.test/x")
    await drain(runtime)
    run = await runtime.for_org(org_id).action_runs.get(run_id)
    assert run.status == "dead"
    assert "10.0.0.1 is a private address" in (run.last_error or "")
