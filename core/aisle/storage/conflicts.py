"""Conflict records of one organization: kept until someone resolves or dismisses them."""

from __future__ import annotations

from typing import Any

from aisle.domain.conflict import ConflictRecord, ConflictStatus
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ConflictTable as T

__all__ = ["ConflictRepository", "conflict_from_row"]


def conflict_from_row(row: dict[str, Any]) -> ConflictRecord:
    return from_row(ConflictRecord, T, row)


class ConflictRepository(Scoped):
    table = T
    kind = "conflict"

    async def create(
        self,
        *,
        kind: str,
        field: str,
        ours: Any = None,
        theirs: Any = None,
        base: Any = None,
        journey_id: str | None = None,
        contact_id: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> ConflictRecord:
        rows = await T.insert(
            self._row(
                id=new_id(),
                kind=kind,
                field=field,
                ours=dump(ours),
                theirs=dump(theirs),
                base=dump(base),
                journey_id=journey_id,
                contact_id=contact_id,
                target=target,
                status="open",
                detail=dump(detail or {}),
                created_at=self.clock.now(),
            )
        ).returning(*T.all_columns())
        return conflict_from_row(rows[0])

    async def get(self, conflict_id: str) -> ConflictRecord:
        row = await self._first(T.id == conflict_id)
        if row is None:
            raise NotFound("conflict", conflict_id)
        return conflict_from_row(row)

    async def list(
        self,
        *,
        status: ConflictStatus | None = None,
        kind: str | None = None,
        journey_id: str | None = None,
        contact_id: str | None = None,
        limit: int = 100,
        before: str | None = None,
    ) -> list[ConflictRecord]:
        rows = (
            await self._select(
                T.status == status if status else None,
                T.kind == kind if kind else None,
                T.journey_id == journey_id if journey_id else None,
                T.contact_id == contact_id if contact_id else None,
                T.id < before if before else None,
            )
            .order_by(T.id, ascending=False)
            .limit(limit)
        )
        return [conflict_from_row(r) for r in rows]

    async def resolve(
        self,
        conflict_id: str,
        *,
        by: str,
        resolution: Any = None,
        status: ConflictStatus = "resolved",
    ) -> ConflictRecord:
        if status == "open":
            raise ValueError("status: a resolution must be 'resolved' or 'dismissed'")
        rows = await self._update(
            {
                T.status: status,
                T.resolved_at: self.clock.now(),
                T.resolved_by: by,
                T.resolution: dump(resolution),
            },
            T.id == conflict_id,
            T.status == "open",
        ).returning(*T.all_columns())
        if rows:
            return conflict_from_row(rows[0])
        record = await self.get(conflict_id)
        raise Conflict(f"conflict {conflict_id!r} is already {record.status}", field="status")
