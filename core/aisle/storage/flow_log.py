"""The op log of one organization's journey drafts, and journey collaborator roles.

Each entry is one canvas operation (or one whole-flow replacement) with the property
changes it made, stored as JSON so storage does not depend on the API's types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from aisle.domain.user import ROLES, Role
from aisle.storage.api_tables import FlowOpTable as F
from aisle.storage.api_tables import JourneyCollaboratorTable as C
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import JourneyTable as J

__all__ = [
    "Collaborator",
    "CollaboratorRepository",
    "FlowLogEntry",
    "FlowLogRepository",
]


class FlowLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One logged operation. ``status``: ``applied`` or ``rejected`` (a conflict)."""

    id: str
    journey_id: str
    op_id: str
    revision: int
    status: str
    kind: str
    op: dict[str, Any]
    changes: list[dict[str, Any]]
    conflict_ids: list[str]
    actor: str
    created_at: datetime


def _entry(row: dict[str, Any]) -> FlowLogEntry:
    return from_row(FlowLogEntry, F, row)


class FlowLogRepository(Scoped):
    table = F
    kind = "flow op"

    async def lock_journey(self, journey_id: str) -> None:
        """Serialize draft writers on one journey for this transaction.

        PostgreSQL: ``FOR UPDATE`` on the journey row. SQLite: the write transaction
        already holds the database write lock.
        """
        if self.db.is_postgres:
            await self._select(J.id == journey_id, table=J).columns(J.id).lock_rows("UPDATE")

    async def record(self, journey_id: str, entries: Iterable[dict[str, Any]]) -> None:
        """Append entries (``op_id``, ``revision``, ``status``, ``kind``, ``op``,
        ``changes``, ``conflict_ids``, ``actor``); call inside the draft's transaction."""
        now = self.clock.now()
        rows = [
            self._row(
                id=new_id(),
                journey_id=journey_id,
                op_id=e["op_id"],
                revision=e["revision"],
                status=e["status"],
                kind=e["kind"],
                op=dump(e["op"]),
                changes=dump(e.get("changes", [])),
                conflict_ids=dump(e.get("conflict_ids", [])),
                actor=e.get("actor", ""),
                created_at=now,
            )
            for e in entries
        ]
        if rows:
            await F.insert(*rows)

    async def find(self, journey_id: str, op_ids: Sequence[str]) -> dict[str, FlowLogEntry]:
        """Logged entries for these client op ids (replays), by op id."""
        if not op_ids:
            return {}
        rows = await self._select(F.journey_id == journey_id, F.op_id.is_in(list(op_ids)))
        return {r["op_id"]: _entry(r) for r in rows}

    async def since(
        self, journey_id: str, revision: int, *, applied_only: bool = True, limit: int = 10_000
    ) -> list[FlowLogEntry]:
        """Entries that produced revisions after ``revision``, oldest first."""
        rows = (
            await self._select(
                F.journey_id == journey_id,
                F.revision > revision,
                F.status == "applied" if applied_only else None,
            )
            .order_by(F.revision)
            .order_by(F.id)
            .limit(limit)
        )
        return [_entry(r) for r in rows]


class Collaborator(msgspec.Struct, frozen=True, kw_only=True):
    """A user's role on one journey (on top of their organization role)."""

    journey_id: str
    user_id: str
    role: Role
    created_at: datetime | None = None


def _collaborator(row: dict[str, Any]) -> Collaborator:
    return from_row(Collaborator, C, row)


class CollaboratorRepository(Scoped):
    table = C
    kind = "collaborator"

    async def list(self, journey_id: str) -> list[Collaborator]:
        rows = await self._select(C.journey_id == journey_id).order_by(C.user_id)
        return [_collaborator(r) for r in rows]

    async def role(self, journey_id: str, user_id: str) -> Role | None:
        row = await self._first(C.journey_id == journey_id, C.user_id == user_id)
        return row["role"] if row else None

    async def set(self, journey_id: str, user_id: str, role: Role) -> Collaborator:
        if role not in ROLES:
            raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
        async with self.db.transaction():
            await self._delete(C.journey_id == journey_id, C.user_id == user_id)
            await self._insert(
                journey_id=journey_id, user_id=user_id, role=role, created_at=self.clock.now()
            )
        return Collaborator(
            journey_id=journey_id, user_id=user_id, role=role, created_at=self.clock.now()
        )

    async def remove(self, journey_id: str, user_id: str) -> None:
        rows = await self._delete(C.journey_id == journey_id, C.user_id == user_id).returning(
            C.user_id
        )
        if not rows:
            raise NotFound("collaborator", f"{journey_id}/{user_id}")
