"""Enrollments: enroll by hand, list, read, exit, history, and manual triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryId, QueryVersion, page_of
from aisle.api.routes.events import EventOut, event_out
from aisle.api.routes.log import LogEntryOut, log_out
from aisle.domain.enrollment import EnrollmentStatus
from aisle.domain.enrollment_record import Enrollment
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import ensure_journey_role
from aisle.storage.action_runs import Failures
from aisle.storage.ids import new_id

__all__ = ["EnrollmentController"]

Id = Annotated[str, Meta(min_length=1, max_length=200)]


class FailedActionsOut(msgspec.Struct, kw_only=True):
    """The enrollment's dead action runs (out of attempts, or a permanent error): a
    ``completed`` enrollment with a count above 0 did not do everything it should."""

    count: int
    last_error: str | None
    last_failed_at: datetime | None


def failed_actions_out(failures: Failures | None) -> FailedActionsOut:
    f = failures or Failures()
    return FailedActionsOut(count=f.count, last_error=f.last_error, last_failed_at=f.last_failed_at)


class EnrollmentOut(msgspec.Struct, kw_only=True):
    id: str
    contact_id: str
    journey_id: str
    version: int
    status: EnrollmentStatus
    step_id: str | None
    entered_at: datetime | None
    visit: int
    wake_at: datetime | None
    variables: dict[str, Any]
    outcome: str | None
    error: str | None
    failed_actions: FailedActionsOut
    """Action runs of this enrollment that went dead; see the action runs and the
    enrollment's history for each one's error."""
    created_at: datetime | None
    updated_at: datetime | None


def enrollment_out(e: Enrollment, failures: Failures | None = None) -> EnrollmentOut:
    s = e.state
    return EnrollmentOut(
        id=e.id,
        contact_id=e.contact_id,
        journey_id=e.journey_id,
        version=e.version,
        status=s.status,
        step_id=s.step_id,
        entered_at=s.entered_at,
        visit=s.visit,
        wake_at=s.wake_at,
        variables=s.variables,
        outcome=s.outcome,
        error=s.error,
        failed_actions=failed_actions_out(failures),
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


class EnrollmentPage(msgspec.Struct, kw_only=True):
    items: list[EnrollmentOut]
    next_cursor: str | None


class EnrollIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    contact_id: Id
    journey_id: Id
    force: bool = False
    """Admins only: ignore manual-entry and re-enrollment rules."""


class ExitIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class TriggerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fire a ``manual`` edge of the enrollment's current step (``edge_id``), or any
    manual edge of that step (``step_id``). ``data`` goes into the event payload (conditions
    and templates see it as ``event.payload``)."""

    edge_id: Id | None = None
    step_id: Id | None = None
    data: dict[str, Any] = {}
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class TriggerOut(msgspec.Struct, kw_only=True):
    event: EventOut
    enrollment: EnrollmentOut


class HistoryPage(msgspec.Struct, kw_only=True):
    items: list[LogEntryOut]
    next_cursor: str | None


class EnrollmentController(Controller):
    path = "/enrollments"
    tags = ["enrollments"]

    @get("/", summary="List enrollments")
    async def list_enrollments(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        journey_id: QueryId = None,
        contact_id: QueryId = None,
        status: FromQuery[EnrollmentStatus | None] = None,
        version: QueryVersion = None,
        step_id: QueryId = None,
    ) -> EnrollmentPage:
        items = await call.scope.enrollments.list(
            journey_id=journey_id,
            contact_id=contact_id,
            status=status,
            version=version,
            step_id=step_id,
            limit=limit + 1,
            after=cursor,
        )
        page, next_cursor = page_of(items, limit, lambda e: e.id)
        failures = await call.scope.action_runs.failures_by_enrollment([e.id for e in page])
        return EnrollmentPage(
            items=[enrollment_out(e, failures.get(e.id)) for e in page], next_cursor=next_cursor
        )

    @post("/", summary="Enroll a contact in a live journey", status_code=HTTP_201_CREATED)
    async def enroll(self, call: Call, data: JSONBody[EnrollIn]) -> EnrollmentOut:
        contact = await call.scope.contacts.get(data.contact_id)
        journey = await call.scope.journeys.get(data.journey_id)
        await ensure_journey_role(
            call.caller,
            call.collaborators,
            journey.id,
            "admin" if data.force else "editor",
            "enrolling" + (" with force" if data.force else ""),
        )
        enrollment = await call.runtime.enroll(
            call.caller.organization_id,
            contact_id=contact.id,
            journey_id=journey.id,
            actor=call.caller.actor,
            force=data.force,
        )
        return enrollment_out(enrollment)

    @get("/{enrollment_id:str}", summary="Read an enrollment")
    async def get_enrollment(self, call: Call, enrollment_id: FromPath[str]) -> EnrollmentOut:
        return await _with_failures(call, await call.scope.enrollments.get(enrollment_id))

    @post("/{enrollment_id:str}/exit", summary="Take a client out of the journey", status_code=200)
    async def exit_enrollment(
        self, call: Call, enrollment_id: FromPath[str], data: JSONBody[ExitIn]
    ) -> EnrollmentOut:
        enrollment = await call.scope.enrollments.get(enrollment_id)
        await ensure_journey_role(
            call.caller,
            call.collaborators,
            enrollment.journey_id,
            "editor",
            "exiting an enrollment",
        )
        done = await call.runtime.exit_enrollment(
            call.caller.organization_id,
            enrollment.id,
            actor=call.caller.actor,
            reason=data.reason,
        )
        return await _with_failures(call, done)

    @get("/{enrollment_id:str}/history", summary="An enrollment's automation log (newest first)")
    async def history(
        self,
        call: Call,
        enrollment_id: FromPath[str],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> HistoryPage:
        enrollment = await call.scope.enrollments.get(enrollment_id)
        entries = await call.scope.log.list(
            enrollment_id=enrollment.id, before=cursor, limit=limit + 1
        )
        page, next_cursor = page_of(entries, limit, lambda e: e.id)
        return HistoryPage(items=[log_out(e) for e in page], next_cursor=next_cursor)

    @post("/{enrollment_id:str}/trigger", summary="Fire a manual trigger", status_code=200)
    async def trigger(
        self, call: Call, enrollment_id: FromPath[str], data: JSONBody[TriggerIn]
    ) -> TriggerOut:
        enrollment = await call.scope.enrollments.get(enrollment_id)
        await ensure_journey_role(
            call.caller, call.collaborators, enrollment.journey_id, "editor", "firing a trigger"
        )
        if data.edge_id is None and data.step_id is None:
            raise Refused(
                422,
                "name the manual edge (edge_id) or its step (step_id) to fire",
                errors=[FieldError(message="edge_id or step_id is required", field="edge_id")],
            )
        if enrollment.state.status != "active":
            raise Refused(409, f"enrollment {enrollment.id!r} is {enrollment.state.status}")
        payload = {
            **data.data,
            "enrollment_id": enrollment.id,
            "edge_id": data.edge_id,
            "step_id": data.step_id,
            "triggered_by": call.caller.actor,
        }
        record, created = await call.runtime.ingest_event(
            call.scope,
            type="manual.triggered",
            idempotency_key=data.idempotency_key or f"manual:{enrollment.id}:{new_id()}",
            contact_id=enrollment.contact_id,
            payload=payload,
            source="manual",
        )
        after = await call.scope.enrollments.get(enrollment.id)
        return TriggerOut(
            event=event_out(record, created), enrollment=await _with_failures(call, after)
        )


async def _with_failures(call: ApiCall, enrollment: Enrollment) -> EnrollmentOut:
    failures = await call.scope.action_runs.failures_by_enrollment([enrollment.id])
    return enrollment_out(enrollment, failures.get(enrollment.id))
