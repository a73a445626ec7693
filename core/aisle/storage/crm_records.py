"""Per-connection sync state of one organization: links to remote records and held changes.

Both are read and written a page at a time (one statement per page, not per record).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aisle.domain.held_change import HeldChange, HeldChangeStatus
from aisle.storage.crm_tables import CRMHeldChangeTable as H
from aisle.storage.crm_tables import CRMLinkTable as L
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.membership import one_of
from aisle.storage.rows import dump, from_row, utc
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ContactTable, EnrollmentTable

__all__ = ["CRMLinkRepository", "HeldChangeRepository", "Link", "NewHeldChange", "SyncReads"]

V = TypeVar("V")

_ROWS = 500
"""Rows per multi-row statement (well inside both databases' parameter limits)."""


@dataclass(frozen=True)
class Link:
    """A remote record as last written: the contact it went to and a hash of it."""

    external_id: str
    contact_id: str | None
    content_hash: str


@dataclass(frozen=True)
class NewHeldChange:
    contact_id: str
    field: str
    old: Any
    new: Any
    reason: str


class CRMLinkRepository(Scoped):
    table = L
    kind = "CRM link"

    async def get_many(
        self, connection_id: str, kind: str, external_ids: Sequence[str]
    ) -> dict[str, Link]:
        if not external_ids:
            return {}
        rows = await self._select(
            L.connection_id == connection_id,
            L.kind == kind,
            one_of(self.db, L.external_id, external_ids),
        )
        return {
            r["external_id"]: Link(r["external_id"], r["contact_id"], r["content_hash"])
            for r in rows
        }

    async def put_many(self, connection_id: str, kind: str, links: Sequence[Link]) -> None:
        """Insert or replace the links in one statement (500 rows each on SQLite); of
        links with one external id (a page listing a record twice) the last wins."""
        if not links:
            return
        links = list({link.external_id: link for link in links}.values())
        upsert = (
            " ON CONFLICT (connection_id, kind, external_id) DO UPDATE SET "
            "contact_id = excluded.contact_id, content_hash = excluded.content_hash, "
            "synced_at = excluded.synced_at"
        )
        into = (
            "INSERT INTO crm_links (organization_id, connection_id, kind, external_id, "
            "contact_id, content_hash, synced_at) "
        )
        now = self.clock.now()
        if self.db.is_postgres:
            await self.db.execute(
                into + "SELECT {}::text, {}::text, {}::text, e, c, h, {}::timestamptz "
                "FROM unnest({}::text[], {}::text[], {}::text[]) AS r(e, c, h)" + upsert,
                self.org_id,
                connection_id,
                kind,
                now,
                [link.external_id for link in links],
                [link.contact_id for link in links],
                [link.content_hash for link in links],
            )
            return
        for chunk in _chunks(links):
            args: list[Any] = []
            for link in chunk:
                args += [self.org_id, connection_id, kind, link.external_id]
                args += [link.contact_id, link.content_hash, now]
            values = ", ".join("({}, {}, {}, {}, {}, {}, {})" for _ in chunk)
            await self.db.execute(into + "VALUES " + values + upsert, *args)


def held_from_row(row: dict[str, Any]) -> HeldChange:
    return from_row(HeldChange, H, row, rename={"old_value": "old", "new_value": "new"})


class HeldChangeRepository(Scoped):
    table = H
    kind = "held change"

    async def hold_many(
        self, connection_id: str, run_id: str | None, changes: Sequence[NewHeldChange]
    ) -> int:
        """Store pending changes; one already pending with the same new value is kept
        (not stored twice), one pending with another value is superseded. Returns how
        many were stored."""
        if not changes:
            return 0
        contact_ids = list(dict.fromkeys(c.contact_id for c in changes))
        pending = {
            (r["contact_id"], r["field"]): held_from_row(r)
            for r in await self._select(
                H.connection_id == connection_id,
                H.status == "pending",
                one_of(self.db, H.contact_id, contact_ids),
            )
        }
        fresh = [
            c
            for c in changes
            if (c.contact_id, c.field) not in pending
            or pending[(c.contact_id, c.field)].new != c.new
        ]
        superseded = [
            pending[(c.contact_id, c.field)].id for c in fresh if (c.contact_id, c.field) in pending
        ]
        now = self.clock.now()
        async with self.db.transaction():
            if superseded:
                await self._update(
                    {H.status: "superseded", H.decided_at: now, H.decided_by: "sync"},
                    H.id.is_in(superseded),
                )
            if fresh:
                await H.insert(
                    *[
                        self._row(
                            id=new_id(),
                            connection_id=connection_id,
                            run_id=run_id,
                            contact_id=c.contact_id,
                            field=c.field,
                            old_value=dump(c.old),
                            new_value=dump(c.new),
                            reason=c.reason,
                            status="pending",
                            created_at=now,
                        )
                        for c in fresh
                    ]
                )
        return len(fresh)

    async def get(self, held_id: str) -> HeldChange:
        row = await self._first(H.id == held_id)
        if row is None:
            raise NotFound("held change", held_id)
        return held_from_row(row)

    async def list(
        self,
        *,
        status: HeldChangeStatus | None = "pending",
        contact_id: str | None = None,
        connection_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> builtins.list[HeldChange]:
        rows = (
            await self._select(
                H.status == status if status else None,
                H.contact_id == contact_id if contact_id else None,
                H.connection_id == connection_id if connection_id else None,
                H.id < before if before else None,
            )
            .order_by(H.id, ascending=False)
            .limit(limit)
        )
        return [held_from_row(r) for r in rows]

    async def decide(self, held_id: str, status: HeldChangeStatus, *, by: str) -> HeldChange | None:
        """Mark a pending change decided; ``None`` when it is no longer pending."""
        rows = await self._update(
            {H.status: status, H.decided_at: self.clock.now(), H.decided_by: by},
            H.id == held_id,
            H.status == "pending",
        ).returning(*H.all_columns())
        return held_from_row(rows[0]) if rows else None


class SyncReads(Scoped):
    """What the pull engine reads about contacts a page touches, one query each."""

    table = L

    async def updated_at(self, contact_ids: Sequence[str]) -> dict[str, datetime]:
        if not contact_ids:
            return {}
        rows = await self._select(
            one_of(self.db, ContactTable.id, contact_ids), table=ContactTable
        ).columns(ContactTable.id, ContactTable.updated_at)
        return {r["id"]: utc(r["updated_at"]) or r["updated_at"] for r in rows}

    async def enrolled(self, contact_ids: Sequence[str]) -> set[str]:
        """The contacts among ``contact_ids`` with an active enrollment (pending steps)."""
        if not contact_ids:
            return set()
        rows = await self._select(
            one_of(self.db, EnrollmentTable.contact_id, contact_ids),
            EnrollmentTable.status == "active",
            table=EnrollmentTable,
        ).columns(EnrollmentTable.contact_id)
        return {r["contact_id"] for r in rows}

    async def refresh_statistics(self) -> None:
        """Have PostgreSQL look at the tables a pull grows (``ANALYZE``).

        Autovacuum does so a minute or more after they grow; until then a first pull's
        lookups are planned for the nearly empty tables it started with (a scan of
        every link of the connection per page, slower with every page). SQLite plans
        these lookups on its indexes without statistics.
        """
        if self.db.is_postgres:
            await self.db.run_ddl("ANALYZE contacts, contact_external_ids, crm_links, events")


def _chunks(items: Sequence[V]) -> list[Sequence[V]]:
    return [items[i : i + _ROWS] for i in range(0, len(items), _ROWS)]
