"""Snapshots of what a big change overwrites, and putting it back.

A journey snapshot holds the journey's draft, revision, live version and status and
the state of its active enrollments (version, step, wake-up, visit, variables), as
plain JSON values; restoring writes them back (the draft under a new revision, so an
editor holding the old one is told it changed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns import JSON, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.org_rows import TableSpec, plain_row, stored_value
from aisle.storage.rows import dump, load
from aisle.storage.scoped import Scoped
from aisle.storage.tables import EnrollmentTable, JourneyTable

__all__ = ["Snapshot", "SnapshotRepository", "SnapshotTable"]


class SnapshotTable(Table, tablename="snapshots"):
    id = Text(primary_key=True)
    organization_id = Text()
    kind = Text()
    journey_id = Text(null=True, default=None)
    reason = Text()
    actor = Text()
    data = JSON()
    created_at = Timestamptz(default=None)
    restored_at = Timestamptz(null=True, default=None)
    restored_by = Text(null=True, default=None)


register_tables(SnapshotTable)

T = SnapshotTable
JOURNEY = TableSpec(JourneyTable)
ENROLLMENT = TableSpec(EnrollmentTable)
JOURNEY_FIELDS = ("draft", "revision", "live_version", "status")
ENROLLMENT_FIELDS = (
    "id",
    "version",
    "status",
    "step_id",
    "entered_at",
    "visit",
    "wake_at",
    "variables",
    "outcome",
    "error",
)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot as listed: what it is of, why, and whether it was put back."""

    id: str
    kind: str
    journey_id: str | None
    reason: str
    actor: str
    created_at: datetime
    restored_at: datetime | None = None
    restored_by: str | None = None
    enrollments: int = 0


def _snapshot(row: dict[str, Any]) -> Snapshot:
    data = load(row["data"]) or {}
    return Snapshot(
        id=row["id"],
        kind=row["kind"],
        journey_id=row["journey_id"],
        reason=row["reason"],
        actor=row["actor"],
        created_at=row["created_at"],
        restored_at=row["restored_at"],
        restored_by=row["restored_by"],
        enrollments=len(data.get("enrollments", ())),
    )


class SnapshotRepository(Scoped):
    table = T
    kind = "snapshot"

    async def record_journey(self, journey_id: str, *, kind: str, reason: str, actor: str) -> str:
        """Keep the journey's current draft, live version and active enrollments."""
        journeys = await self.db.execute(
            f"SELECT {', '.join(JOURNEY.columns)} FROM journeys "
            "WHERE organization_id = {} AND id = {}",
            self.org_id,
            journey_id,
        )
        if not journeys:
            raise NotFound("journey", journey_id)
        enrollments = await self.db.execute(
            f"SELECT {', '.join(ENROLLMENT.columns)} FROM enrollments "
            "WHERE organization_id = {} AND journey_id = {} AND status = 'active' ORDER BY id",
            self.org_id,
            journey_id,
        )
        journey = plain_row(JOURNEY, journeys[0])
        data = {
            "journey": {f: journey[f] for f in JOURNEY_FIELDS},
            "enrollments": [
                {f: e[f] for f in ENROLLMENT_FIELDS}
                for e in (plain_row(ENROLLMENT, r) for r in enrollments)
            ],
        }
        snapshot_id = new_id()
        await self._insert(
            id=snapshot_id,
            kind=kind,
            journey_id=journey_id,
            reason=reason,
            actor=actor,
            data=dump(data),
            created_at=self.clock.now(),
        )
        return snapshot_id

    async def list(self, *, limit: int = 100) -> list[Snapshot]:
        rows = await self._select().order_by(T.id, ascending=False).limit(limit)
        return [_snapshot(r) for r in rows]

    async def get(self, snapshot_id: str) -> Snapshot:
        row = await self._first(T.id == snapshot_id)
        if row is None:
            raise NotFound(self.kind, snapshot_id)
        return _snapshot(row)

    async def restore_journey(self, snapshot_id: str, *, actor: str) -> Snapshot:
        """Write the snapshot's journey and enrollment states back (call in a transaction)."""
        row = await self._first(T.id == snapshot_id)
        if row is None:
            raise NotFound(self.kind, snapshot_id)
        data = load(row["data"])
        now = self.clock.now()
        journey = data["journey"]
        await self.db.execute(
            "UPDATE journeys SET draft = {}, live_version = {}, status = {}, "
            "revision = revision + 1, updated_at = {} WHERE organization_id = {} AND id = {}",
            stored_value(JOURNEY, "draft", journey["draft"]),
            journey["live_version"],
            journey["status"],
            now,
            self.org_id,
            row["journey_id"],
        )
        fields = [f for f in ENROLLMENT_FIELDS if f != "id"]
        for enrollment in data["enrollments"]:
            await self.db.execute(
                "UPDATE enrollments SET "
                + ", ".join(f"{f} = {{}}" for f in fields)
                + ", updated_at = {} WHERE organization_id = {} AND id = {}",
                *[stored_value(ENROLLMENT, f, enrollment[f]) for f in fields],
                now,
                self.org_id,
                enrollment["id"],
            )
        await self._update({T.restored_at: now, T.restored_by: actor}, T.id == snapshot_id)
        return await self.get(snapshot_id)
