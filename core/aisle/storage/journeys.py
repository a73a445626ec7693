"""Journeys of one organization: the draft with its revision, and published versions."""

from __future__ import annotations

import builtins
from typing import Any

from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey, JourneyStatus, JourneyVersion
from aisle.storage.errors import Conflict, NotFound, RevisionConflict
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import JourneyTable as T
from aisle.storage.tables import JourneyVersionTable as V

__all__ = ["JourneyRepository", "journey_from_row", "version_from_row"]

_STATUSES = ("draft", "live", "paused")


def journey_from_row(row: dict[str, Any]) -> Journey:
    return from_row(Journey, T, row)


def version_from_row(row: dict[str, Any]) -> JourneyVersion:
    return from_row(JourneyVersion, V, row)


class JourneyRepository(Scoped):
    table = T
    kind = "journey"

    async def create(
        self, *, name: str, description: str = "", draft: Graph | None = None
    ) -> Journey:
        now = self.clock.now()
        journey_id = new_id()
        await self._insert(
            id=journey_id,
            name=name,
            description=description,
            status="draft",
            draft=dump(draft or Graph()),
            revision=0,
            created_at=now,
            updated_at=now,
        )
        return await self.get(journey_id)

    async def get(self, journey_id: str, *, include_deleted: bool = False) -> Journey:
        row = await self._first(
            T.id == journey_id, None if include_deleted else T.deleted_at.is_null()
        )
        if row is None:
            raise NotFound("journey", journey_id)
        return journey_from_row(row)

    async def list(
        self, *, status: JourneyStatus | None = None, include_deleted: bool = False
    ) -> builtins.list[Journey]:
        rows = await self._select(
            None if include_deleted else T.deleted_at.is_null(),
            T.status == status if status else None,
        ).order_by(T.id)
        return [journey_from_row(r) for r in rows]

    async def save_draft(
        self, journey_id: str, graph: Graph, *, expected_revision: int | None = None
    ) -> Journey:
        """Store a new draft, bumping the revision.

        With ``expected_revision`` the write only happens if the stored revision still
        is that one (compare-and-set); otherwise :class:`RevisionConflict`.
        """
        conditions = [T.id == journey_id, T.deleted_at.is_null()]
        if expected_revision is not None:
            conditions.append(T.revision == expected_revision)
        rows = await self._update(
            {T.draft: dump(graph), T.revision: T.revision + 1, T.updated_at: self.clock.now()},
            *conditions,
        ).returning(*T.all_columns())
        if rows:
            return journey_from_row(rows[0])
        current = await self.get(journey_id)  # raises NotFound when it is not there
        assert expected_revision is not None
        raise RevisionConflict(journey_id, expected_revision, current.revision)

    async def update(
        self, journey_id: str, *, name: str | None = None, description: str | None = None
    ) -> Journey:
        values: dict[Any, Any] = {T.updated_at: self.clock.now()}
        if name is not None:
            values[T.name] = name
        if description is not None:
            values[T.description] = description
        rows = await self._update(values, T.id == journey_id, T.deleted_at.is_null()).returning(
            *T.all_columns()
        )
        if not rows:
            raise NotFound("journey", journey_id)
        return journey_from_row(rows[0])

    async def set_status(self, journey_id: str, status: JourneyStatus) -> Journey:
        """Pause or resume a published journey (``live`` needs a published version)."""
        if status not in _STATUSES:
            raise ValueError(f"status: {status!r} is not one of {', '.join(_STATUSES)}")
        journey = await self.get(journey_id)
        if status != "draft" and journey.live_version is None:
            raise Conflict(f"journey {journey_id!r} has no published version", field="status")
        rows = await self._update(
            {T.status: status, T.updated_at: self.clock.now()}, T.id == journey_id
        ).returning(*T.all_columns())
        return journey_from_row(rows[0])

    async def soft_delete(self, journey_id: str) -> None:
        rows = await self._update(
            {T.deleted_at: self.clock.now(), T.updated_at: self.clock.now()},
            T.id == journey_id,
            T.deleted_at.is_null(),
        ).returning(T.id)
        if not rows:
            raise NotFound("journey", journey_id)

    async def restore(self, journey_id: str) -> Journey:
        rows = await self._update(
            {T.deleted_at: None}, T.id == journey_id, T.deleted_at.is_not_null()
        ).returning(*T.all_columns())
        if not rows:
            raise NotFound("deleted journey", journey_id)
        return journey_from_row(rows[0])

    async def publish(
        self,
        journey_id: str,
        graph: Graph,
        *,
        published_by: str | None = None,
        note: str = "",
        source_version: int | None = None,
    ) -> JourneyVersion:
        """Freeze ``graph`` as the next version and make it the live one.

        Validation is the caller's job (the engine's validator); a rollback publishes
        an old version's graph again with ``source_version`` set.
        """
        async with self.db.transaction():
            if self.db.is_postgres:
                await self._select(T.id == journey_id).columns(T.id).lock_rows("UPDATE")
            await self.get(journey_id)
            latest = (
                await self._select(V.journey_id == journey_id, table=V)
                .columns(V.version)
                .order_by(V.version, ascending=False)
                .first()
            )
            version = (latest["version"] if latest else 0) + 1
            now = self.clock.now()
            version_id = new_id()
            await self._insert(
                V,
                id=version_id,
                journey_id=journey_id,
                version=version,
                graph=dump(graph),
                published_at=now,
                published_by=published_by,
                note=note,
                source_version=source_version,
            )
            await self._update(
                {T.live_version: version, T.status: "live", T.updated_at: now},
                T.id == journey_id,
            )
        return await self.version(journey_id, version)

    async def version(self, journey_id: str, version: int) -> JourneyVersion:
        row = await self._first(V.journey_id == journey_id, V.version == version, table=V)
        if row is None:
            raise NotFound("journey version", f"{journey_id}@{version}")
        return version_from_row(row)

    async def versions(self, journey_id: str) -> builtins.list[JourneyVersion]:
        rows = await self._select(V.journey_id == journey_id, table=V).order_by(V.version)
        return [version_from_row(r) for r in rows]

    async def live_versions(self) -> builtins.list[tuple[str, int]]:
        """(journey id, live version) of every journey new clients may enter now.

        Cheap on purpose: the runtime asks for every event and caches the compiled
        versions, which never change.
        """
        rows = (
            await self._select(
                T.status == "live", T.deleted_at.is_null(), T.live_version.is_not_null()
            )
            .columns(T.id, T.live_version)
            .order_by(T.id)
        )
        return [(r["id"], r["live_version"]) for r in rows]
