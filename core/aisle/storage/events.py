"""Events of one organization: accepted once per idempotency key, then processed."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aisle.domain.event import Event
from aisle.domain.event_record import EventRecord, EventStatus
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import EventTable as T

__all__ = ["EventRepository", "PendingEvent", "event_from_row"]

_COLUMNS = (
    "id",
    "organization_id",
    "contact_id",
    "type",
    "payload",
    "idempotency_key",
    "occurred_at",
    "received_at",
    "status",
    "source",
    "attempts",
)
_ROWS = 500
"""Rows per statement: 11 parameters a row stays far below both databases' limits."""


@dataclass(frozen=True, kw_only=True)
class PendingEvent:
    """An event for :meth:`EventRepository.accept_many` (``occurred_at`` defaults to
    the moment it is accepted)."""

    type: str
    idempotency_key: str
    contact_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    source: str = "api"


def event_from_row(row: dict[str, Any]) -> EventRecord:
    # The event as the engine sees it is a struct of its own, read from the same row.
    return from_row(EventRecord, T, row, event=from_row(Event, T, row))


class EventRepository(Scoped):
    table = T
    kind = "event"

    async def accept(
        self,
        *,
        type: str,
        idempotency_key: str,
        contact_id: str | None = None,
        payload: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
        source: str = "api",
    ) -> tuple[EventRecord, bool]:
        """Store an event as ``pending``; a repeated key returns the original event.

        Returns ``(record, created)``: ``created`` is False for a replay.
        """
        now = self.clock.now()
        event_id = new_id()
        rows = await (
            T.insert(
                self._row(
                    id=event_id,
                    contact_id=contact_id,
                    type=type,
                    payload=dump(payload or {}),
                    idempotency_key=idempotency_key,
                    occurred_at=occurred_at or now,
                    received_at=now,
                    status="pending",
                    source=source,
                    attempts=0,
                )
            )
            .on_conflict(target=(T.organization_id, T.idempotency_key), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if rows:
            return event_from_row(rows[0]), True
        existing = await self.by_key(idempotency_key)
        assert existing is not None  # the conflict was on this key
        return existing, False

    async def accept_many(self, events: Sequence[PendingEvent]) -> builtins.list[str]:
        """Store events as ``pending`` (PostgreSQL: one statement; SQLite: multi-row
        ones), for whoever processes pending events next; a repeated key is skipped.
        Returns the keys accepted now."""
        now = self.clock.now()
        if not events:
            return []
        if self.db.is_postgres:
            # Arrays, not a VALUES list: one statement of the same text whatever the
            # count, which asyncpg prepares once instead of planning every page anew.
            rows = await self.db.execute(
                f"INSERT INTO events ({', '.join(_COLUMNS)}) "
                "SELECT i, {}::text, c, t, p::jsonb, k, o, {}::timestamptz, 'pending', s, 0 "
                "FROM unnest({}::text[], {}::text[], {}::text[], {}::text[], {}::text[], "
                "{}::timestamptz[], {}::text[]) AS r(i, c, t, p, k, o, s)"
                " ON CONFLICT (organization_id, idempotency_key) DO NOTHING"
                " RETURNING idempotency_key",
                self.org_id,
                now,
                [new_id() for _ in events],
                [e.contact_id for e in events],
                [e.type for e in events],
                [dump(e.payload) for e in events],
                [e.idempotency_key for e in events],
                [e.occurred_at or now for e in events],
                [e.source for e in events],
            )
            return [r["idempotency_key"] for r in rows]
        row = "(" + ", ".join("{}" for _ in _COLUMNS) + ")"
        accepted: builtins.list[str] = []
        for start in range(0, len(events), _ROWS):
            chunk = events[start : start + _ROWS]
            values = [
                v
                for e in chunk
                for v in (
                    new_id(),
                    self.org_id,
                    e.contact_id,
                    e.type,
                    dump(e.payload),
                    e.idempotency_key,
                    e.occurred_at or now,
                    now,
                    "pending",
                    e.source,
                    0,
                )
            ]
            # Hand-written SQL: piccolo builds a many-row INSERT several times slower
            # than the database runs it.
            rows = await self.db.execute(
                f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES "
                + ", ".join(row for _ in chunk)
                + " ON CONFLICT (organization_id, idempotency_key) DO NOTHING"
                " RETURNING idempotency_key",
                *values,
            )
            accepted += [r["idempotency_key"] for r in rows]
        return accepted

    async def get(self, event_id: str) -> EventRecord:
        row = await self._first(T.id == event_id)
        if row is None:
            raise NotFound("event", event_id)
        return event_from_row(row)

    async def by_key(self, idempotency_key: str) -> EventRecord | None:
        row = await self._first(T.idempotency_key == idempotency_key)
        return event_from_row(row) if row else None

    async def list(
        self,
        *,
        contact_id: str | None = None,
        status: EventStatus | None = None,
        type: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> builtins.list[EventRecord]:
        rows = (
            await self._select(
                T.contact_id == contact_id if contact_id else None,
                T.status == status if status else None,
                T.type == type if type else None,
                T.id > after if after else None,
            )
            .order_by(T.id)
            .limit(limit)
        )
        return [event_from_row(r) for r in rows]

    async def pending_for_contact(
        self, contact_id: str | None, *, limit: int = 100
    ) -> builtins.list[EventRecord]:
        """The contact's unprocessed events in arrival order."""
        contact = T.contact_id.is_null() if contact_id is None else T.contact_id == contact_id
        rows = (
            await self._select(contact, T.status == "pending")
            .order_by(T.received_at)
            .order_by(T.id)
            .limit(limit)
        )
        return [event_from_row(r) for r in rows]

    async def mark_processed(self, event_id: str) -> bool:
        """Pending → processed; False (and no change) if it was no longer pending."""
        rows = await self._update(
            {
                T.status: "processed",
                T.processed_at: self.clock.now(),
                T.attempts: T.attempts + 1,
                T.error: None,
            },
            T.id == event_id,
            T.status == "pending",
        ).returning(T.id)
        return bool(rows)

    async def has_earlier_pending(self, event: EventRecord) -> bool:
        """Whether the event's contact has a pending event that arrived before it."""
        contact_id = event.event.contact_id
        received_at = event.received_at
        assert received_at is not None
        row = (
            await self._select(
                T.contact_id.is_null() if contact_id is None else T.contact_id == contact_id,
                T.status == "pending",
                (T.received_at < received_at)
                | ((T.received_at == received_at) & (T.id < event.event.id)),
            )
            .columns(T.id)
            .first()
        )
        return row is not None

    async def mark_failed(self, event_id: str, error: str, *, final: bool) -> None:
        """Record a processing error; ``final`` stops retries (status ``failed``)."""
        values: dict[Any, Any] = {T.error: error[:2000], T.attempts: T.attempts + 1}
        if final:
            values[T.status] = "failed"
            values[T.processed_at] = self.clock.now()
        await self._update(values, T.id == event_id)
