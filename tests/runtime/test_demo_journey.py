"""The demo journey end to end through storage, the runtime and the jobs: every built-in
trigger type, on SQLite and PostgreSQL, checking the path, the action runs and the log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from aisle.clock import TestClock
from aisle.demo import DEMO_ORG_SETTINGS, DEMO_ORG_TIMEZONE
from aisle.domain import Contact, Partner
from aisle.jobs import drain
from aisle.runtime import DateChangeNotConfirmed, Runtime
from aisle.storage.store import OrgScope

from .support import ENQUIRY, enquire, open_studio


async def _couple(runtime: Runtime, scope: OrgScope, *, booked: bool) -> Contact:
    return await runtime.create_contact(
        scope.org_id,
        Contact(
            partners=(Partner(first_name="Amira"), Partner(first_name="Tom")),
            email=f"amira-{booked}@example.com",
            wedding_date=date(2026, 9, 12),
            timezone="Europe/London",
            custom={"booked": booked},
        ),
    )


async def _path(scope: OrgScope, enrollment_id: str) -> list[str]:
    entries = await scope.log.list(enrollment_id=enrollment_id, kind="step.entered", limit=500)
    return [e.step_id or "" for e in reversed(entries)]


async def test_booked_couple_walks_the_whole_journey(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    scope, journey_id = await open_studio(
        runtime, timezone=DEMO_ORG_TIMEZONE, settings=DEMO_ORG_SETTINGS
    )
    contact = await _couple(runtime, scope, booked=True)

    record, created = await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="enquiry-1",
        contact_id=contact.id,
        payload=ENQUIRY,
    )
    assert created and record.status == "processed"
    (enrollment,) = await scope.enrollments.list(contact_id=contact.id)
    assert enrollment.state.step_id == "wait_for_reply"
    assert enrollment.state.wake_at == clock.now() + timedelta(days=3)  # time_delay
    report = await drain(runtime)
    assert report.count("succeeded") == 1 and recorder.keys("email") == [
        f"{enrollment.id}:1:send_brochure:main"
    ]

    clock.advance(days=3)  # time_delay fires, condition says booked → payment step
    await drain(runtime)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "request_deposit"
    (deposit_task,) = await scope.tasks.list(contact_id=contact.id)
    assert deposit_task.step_id == "request_deposit"

    await runtime.ingest_event(
        scope,
        type="payment.received",
        idempotency_key="pay-1",
        contact_id=contact.id,
        payload={"amount": "500.00", "currency": "GBP"},
    )
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "until_questionnaire"
    # date_reached: 30 days before the wedding, 09:00 London (BST = UTC+1).
    assert enrollment.state.wake_at == datetime(2026, 8, 13, 8, 0, tzinfo=UTC)

    moved = msgspec.structs.replace(contact, wedding_date=date(2026, 9, 19))
    with pytest.raises(DateChangeNotConfirmed, match="wedding_date"):
        await runtime.update_contact(scope.org_id, moved)
    assert (await scope.contacts.get(contact.id)).wedding_date == date(2026, 9, 12)
    await runtime.update_contact(scope.org_id, moved, confirm_date_change=True, actor="user:1")
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.wake_at == datetime(2026, 8, 20, 8, 0, tzinfo=UTC)
    (recomputed,) = await scope.log.list(kind="enrollment.recomputed")
    assert recomputed.actor == "user:1" and recomputed.enrollment_id == enrollment.id

    clock.set(datetime(2026, 8, 20, 8, 0, tzinfo=UTC))
    await drain(runtime)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "questionnaire"

    await runtime.ingest_event(  # form_submission
        scope,
        type="form.submitted",
        idempotency_key="q-1",
        contact_id=contact.id,
        payload={"form_id": "questionnaire"},
    )
    await drain(runtime)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "shot_list"
    shot_list = next(t for t in await scope.tasks.list() if t.step_id == "shot_list")
    # task_completed
    await runtime.complete_task(scope.org_id, shot_list.id, by="user:photographer")
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "until_week_before"
    assert enrollment.state.wake_at == datetime(2026, 9, 12, 9, 0, tzinfo=UTC)

    clock.set(enrollment.state.wake_at)
    report = await drain(runtime)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.status == "completed" and enrollment.state.step_id == "done"

    assert await _path(scope, enrollment.id) == [
        "send_brochure",
        "wait_for_reply",
        "is_booked",
        "request_deposit",
        "until_questionnaire",
        "questionnaire",
        "shot_list",
        "until_week_before",
        "see_you_soon",
        "done",
    ]
    runs = await scope.action_runs.list(enrollment_id=enrollment.id)
    assert sorted((r.step_id, r.executor, r.status) for r in runs) == sorted(
        [
            ("send_brochure", "email", "succeeded"),
            ("request_deposit", "task", "succeeded"),
            ("questionnaire", "task", "succeeded"),
            ("shot_list", "task", "succeeded"),
            ("see_you_soon", "email", "succeeded"),
        ]
    )
    assert len({r.idempotency_key for r in runs}) == 5
    kinds = {e.kind for e in await scope.log.list(limit=1000)}
    assert {
        "enrollment.started",
        "action.queued",
        "action.attempt",
        "task.created",
        "task.completed",
        "contact.wedding_date_changed",
        "enrollment.completed",
    } <= kinds
    events = await scope.events.list(limit=100)
    assert all(e.status == "processed" for e in events)
    assert journey_id == enrollment.journey_id


async def test_unbooked_couple_gets_the_follow_up(runtime: Runtime, clock: TestClock) -> None:
    scope, _ = await open_studio(runtime, timezone=DEMO_ORG_TIMEZONE, settings=DEMO_ORG_SETTINGS)
    contact = await _couple(runtime, scope, booked=False)
    await enquire(runtime, scope, contact.id, "e")
    clock.advance(days=3)
    await drain(runtime)
    (enrollment,) = await scope.enrollments.list(contact_id=contact.id)
    assert enrollment.state.status == "completed" and enrollment.state.outcome == "not_booked"
    assert (await _path(scope, enrollment.id))[-3:] == ["is_booked", "follow_up", "not_booked"]


async def test_manual_trigger_and_exit_criteria(runtime: Runtime, clock: TestClock) -> None:
    scope, _ = await open_studio(runtime, timezone=DEMO_ORG_TIMEZONE, settings=DEMO_ORG_SETTINGS)
    contact = await _couple(runtime, scope, booked=True)
    await enquire(runtime, scope, contact.id, "e")
    await runtime.ingest_event(
        scope,
        type="manual.triggered",
        idempotency_key="m",
        contact_id=contact.id,
        payload={"edge_id": "wait_for_reply-manual-is_booked"},
    )
    (enrollment,) = await scope.enrollments.list(contact_id=contact.id)
    assert enrollment.state.step_id == "request_deposit"
    await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="w",
        contact_id=contact.id,
        payload={"form_id": "withdraw"},
    )
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.status == "exited"
    # after_completion: a new enquiry may enroll the couple again.
    await enquire(runtime, scope, contact.id, "e2")
    assert len(await scope.enrollments.list(contact_id=contact.id)) == 2
