"""Snapshots before big changes: recorded by the services that make them, listed and
restored by admins (``aisle snapshot``; the API in a later increment)."""

from __future__ import annotations

from aisle.services.errors import FieldError, Refused
from aisle.storage.errors import NotFound
from aisle.storage.snapshots import Snapshot, SnapshotRepository
from aisle.storage.store import OrgScope, Store

__all__ = ["Snapshots"]


class Snapshots:
    """The snapshots of one organization, taken and put back as ``actor``."""

    def __init__(self, store: Store, scope: OrgScope, actor: str) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor
        self.snapshots = SnapshotRepository(scope.org_id, store.db, store.clock)

    async def before_journey_change(self, journey_id: str, kind: str, reason: str) -> str:
        """Keep what publishing, a rollback or a migration of ``journey_id`` overwrites."""
        return await self.snapshots.record_journey(
            journey_id, kind=kind, reason=reason, actor=self.actor
        )

    async def list(self, *, limit: int = 100) -> list[Snapshot]:
        return await self.snapshots.list(limit=limit)

    async def restore(self, snapshot_id: str) -> Snapshot:
        """Put the snapshot's journey and enrollment states back, in one transaction."""
        try:
            async with self.store.transaction():
                return await self.snapshots.restore_journey(snapshot_id, actor=self.actor)
        except NotFound:
            raise Refused(
                404,
                f"no snapshot {snapshot_id!r} in this studio",
                errors=[FieldError(field="id", message="no such snapshot")],
            ) from None
