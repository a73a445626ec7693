"""Contact changes move wake-ups: a custom date field a pending ``date_reached`` step
counts from is protected like the wedding date (confirmation required), and any custom
field change has the contact's waiting enrollments recomputed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest

from aisle.clock import TestClock
from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.domain.enrollment_record import Enrollment
from aisle.jobs import drain
from aisle.runtime import DateChangeNotConfirmed, Runtime
from aisle.storage.store import OrgScope

from .support import open_studio


def _rehearsal_and_booking() -> Graph:
    """The evening before the rehearsal dinner (``custom.rehearsal``), a reminder; the
    booking step moves on when ``custom.booked`` becomes true."""
    return Graph(
        steps=(
            Step(id="until_rehearsal", type="wait"),
            Step(id="until_booked", type="wait"),
            Step(id="done", type="end"),
        ),
        edges=(
            Edge(
                id="eve",
                source="until_rehearsal",
                target="until_booked",
                trigger="date_reached",
                config={"field": "custom.rehearsal", "days": -1, "at": "18:00"},
            ),
            Edge(
                id="booked",
                source="until_booked",
                target="done",
                trigger="condition",
                config={"expression": "contact.custom.booked == true"},
            ),
        ),
        settings=JourneySettings(start_step="until_rehearsal"),
    )


async def _enrolled(runtime: Runtime, **custom: object) -> tuple[OrgScope, Contact, Enrollment]:
    scope, journey_id = await open_studio(runtime, _rehearsal_and_booking())
    contact = await scope.contacts.create(
        Contact(email="couple@x.test", timezone="Europe/London", custom=dict(custom))
    )
    enrollment = await runtime.enroll(scope.org_id, contact_id=contact.id, journey_id=journey_id)
    return scope, contact, enrollment


async def test_moving_a_custom_date_a_pending_step_counts_from_needs_confirmation(
    runtime: Runtime,
) -> None:
    scope, contact, enrollment = await _enrolled(runtime, rehearsal="2026-09-11", booked=False)
    # 18:00 London (BST, UTC+1) the day before.
    assert enrollment.state.wake_at == datetime(2026, 9, 10, 17, 0, tzinfo=UTC)

    moved = msgspec.structs.replace(contact, custom={"rehearsal": "2026-09-18", "booked": False})
    with pytest.raises(DateChangeNotConfirmed, match=r"custom\.rehearsal from") as refused:
        await runtime.update_contact(scope.org_id, moved)
    assert refused.value.field == "custom.rehearsal"
    assert (refused.value.old, refused.value.new) == (date(2026, 9, 11), date(2026, 9, 18))
    assert (await scope.contacts.get(contact.id)).custom["rehearsal"] == "2026-09-11"
    assert (await scope.enrollments.get(enrollment.id)).state == enrollment.state

    await runtime.update_contact(scope.org_id, moved, confirm_date_change=True, actor="user:1")
    after = await scope.enrollments.get(enrollment.id)
    assert after.state.wake_at == datetime(2026, 9, 17, 17, 0, tzinfo=UTC)
    (changed,) = await scope.log.list(kind="contact.date_field_changed")
    assert changed.actor == "user:1"
    assert changed.data == {"field": "custom.rehearsal", "old": "2026-09-11", "new": "2026-09-18"}
    (recomputed,) = await scope.log.list(kind="enrollment.recomputed")
    assert recomputed.enrollment_id == enrollment.id


async def test_custom_fields_no_pending_date_step_reads_need_no_confirmation(
    runtime: Runtime,
) -> None:
    scope, contact, enrollment = await _enrolled(runtime, rehearsal="2026-09-11", booked=False)
    # ``booked`` is read by a later step's condition, not by a date trigger here.
    await runtime.update_contact(
        scope.org_id,
        msgspec.structs.replace(contact, custom={"rehearsal": "2026-09-11", "package": "gold"}),
    )
    after = await scope.enrollments.get(enrollment.id)
    assert after.state.wake_at == enrollment.state.wake_at
    assert await scope.log.list(kind="enrollment.recomputed") == []  # nothing moved
    assert await scope.log.list(kind="contact.date_field_changed") == []


async def test_a_first_custom_date_schedules_the_waiting_step_once_confirmed(
    runtime: Runtime,
) -> None:
    scope, contact, enrollment = await _enrolled(runtime)
    assert enrollment.state.wake_at is None  # no rehearsal date yet
    dated = msgspec.structs.replace(contact, custom={"rehearsal": "2026-09-11"})
    with pytest.raises(DateChangeNotConfirmed, match="from none to 2026-09-11"):
        await runtime.update_contact(scope.org_id, dated)
    await runtime.update_contact(scope.org_id, dated, confirm_date_change=True)
    after = await scope.enrollments.get(enrollment.id)
    assert after.state.wake_at == datetime(2026, 9, 10, 17, 0, tzinfo=UTC)


async def test_any_custom_change_lets_a_waiting_condition_be_taken(
    runtime: Runtime, clock: TestClock
) -> None:
    scope, contact, enrollment = await _enrolled(runtime, rehearsal="2026-01-01", booked=False)
    # The rehearsal date is past: the date edge fired at once (if_past fire_now).
    assert enrollment.state.step_id == "until_booked" and enrollment.state.wake_at is None
    booked = msgspec.structs.replace(contact, custom={"rehearsal": "2026-01-01", "booked": True})
    await runtime.update_contact(scope.org_id, booked, actor="crm:tave")
    waiting = await scope.enrollments.get(enrollment.id)
    assert waiting.state.wake_at == clock.now()  # due: the condition now holds
    (recomputed,) = await scope.log.list(kind="enrollment.recomputed")
    assert recomputed.actor == "crm:tave"
    await drain(runtime)
    done = await scope.enrollments.get(enrollment.id)
    assert done.state.status == "completed" and done.state.step_id == "done"
