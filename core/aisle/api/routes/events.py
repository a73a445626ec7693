"""Events in: one or a batch, each idempotent by its key, processed at once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.deps import Call
from aisle.domain.event_record import EventRecord, EventStatus
from aisle.runtime import NewEvent, UnknownContact
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import ensure_role

__all__ = ["EventController"]

EventType = Annotated[
    str, Meta(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
]
Key = Annotated[str, Meta(min_length=1, max_length=200)]
MAX_BATCH = 500


class EventIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    type: EventType
    """``form.submitted``, ``payment.received``, … (see the trigger types' event_types)."""
    idempotency_key: Key
    """Unique per organization: sending the same key again returns the first event."""
    contact_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    payload: dict[str, Any] = {}
    occurred_at: datetime | None = None


class EventBatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    events: Annotated[list[EventIn], Meta(min_length=1, max_length=MAX_BATCH)]


class EventOut(msgspec.Struct, kw_only=True):
    id: str
    type: str
    contact_id: str | None
    idempotency_key: str
    occurred_at: datetime
    status: EventStatus
    created: bool
    """False when the key was seen before (nothing was processed again)."""
    received_at: datetime | None
    processed_at: datetime | None
    error: str | None
    payload: dict[str, Any]


class EventBatchOut(msgspec.Struct, kw_only=True):
    items: list[EventOut]


def event_out(record: EventRecord, created: bool) -> EventOut:
    event = record.event
    return EventOut(
        id=event.id,
        type=event.type,
        contact_id=event.contact_id,
        idempotency_key=event.idempotency_key,
        occurred_at=event.occurred_at,
        status=record.status,
        created=created,
        received_at=record.received_at,
        processed_at=record.processed_at,
        error=record.error,
        payload=event.payload,
    )


def _check(event: EventIn, where: str) -> None:
    if event.occurred_at is not None and event.occurred_at.tzinfo is None:
        raise Refused(
            422,
            f"{where}.occurred_at must carry a timezone",
            errors=[FieldError(message="naive datetime", field=f"{where}.occurred_at")],
        )


class EventController(Controller):
    path = "/events"
    tags = ["events"]

    @post("/", summary="Send one event", status_code=200)
    async def post_event(self, call: Call, data: JSONBody[EventIn]) -> EventOut:
        ensure_role(call.caller, "editor", "sending events")
        _check(data, "event")
        record, created = await call.runtime.ingest_event(
            call.scope,
            type=data.type,
            idempotency_key=data.idempotency_key,
            contact_id=data.contact_id,
            payload=data.payload,
            occurred_at=data.occurred_at,
            source="api",
        )
        return event_out(record, created)

    @post("/batch", summary="Send a batch of events (each idempotent)", status_code=200)
    async def post_batch(self, call: Call, data: JSONBody[EventBatchIn]) -> EventBatchOut:
        ensure_role(call.caller, "editor", "sending events")
        for i, event in enumerate(data.events):
            _check(event, f"events[{i}]")
        try:
            accepted = await call.runtime.ingest_batch(
                call.scope,
                [
                    NewEvent(
                        type=e.type,
                        idempotency_key=e.idempotency_key,
                        contact_id=e.contact_id,
                        payload=e.payload,
                        occurred_at=e.occurred_at,
                        source="api",
                    )
                    for e in data.events
                ],
            )
        except UnknownContact as exc:
            raise Refused(
                404,
                f"contact {exc.contact_id!r} not found",
                errors=[
                    FieldError(message="no such contact", field=f"events[{exc.index}].contact_id")
                ],
            ) from None
        return EventBatchOut(items=[event_out(record, created) for record, created in accepted])

    @get("/{event_id:str}", summary="Read an event and its processing status")
    async def get_event(self, call: Call, event_id: FromPath[str]) -> EventOut:
        return event_out(await call.scope.events.get(event_id), False)
