"""CRM connections and their sync runs, for one organization.

Credentials are stored as the opaque (already encrypted) text the caller hands in;
encrypting is the CRM layer's job, with ``Settings.secret_key``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aisle.domain.crm_connection import CRMConnection, SyncDirection
from aisle.domain.sync_run import SyncRun, SyncRunStatus
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import CRMConnectionTable as T
from aisle.storage.tables import SyncRunTable as S

__all__ = [
    "CRMConnectionRepository",
    "SyncRunRepository",
    "connection_from_row",
    "sync_run_from_row",
]

_DIRECTIONS = ("pull", "push", "both")


def connection_from_row(row: dict[str, Any]) -> CRMConnection:
    return from_row(CRMConnection, T, row)


def sync_run_from_row(row: dict[str, Any]) -> SyncRun:
    return from_row(SyncRun, S, row)


class CRMConnectionRepository(Scoped):
    table = T
    kind = "CRM connection"

    async def create(
        self,
        *,
        provider: str,
        name: str,
        credentials: str = "",
        direction: SyncDirection = "pull",
        field_mapping: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        schedule_seconds: int | None = None,
    ) -> CRMConnection:
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction: {direction!r} is not one of {', '.join(_DIRECTIONS)}")
        now = self.clock.now()
        rows = await (
            T.insert(
                self._row(
                    id=new_id(),
                    provider=provider,
                    name=name,
                    direction=direction,
                    credentials=credentials,
                    field_mapping=dump(field_mapping or {}),
                    settings=dump(settings or {}),
                    schedule_seconds=schedule_seconds,
                    enabled=True,
                    status="new",
                    next_sync_at=now if schedule_seconds else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            .on_conflict(target=(T.organization_id, T.provider, T.name), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if not rows:
            raise Conflict(f"a {provider} connection named {name!r} exists", field="name")
        return connection_from_row(rows[0])

    async def get(self, connection_id: str) -> CRMConnection:
        row = await self._first(T.id == connection_id)
        if row is None:
            raise NotFound("CRM connection", connection_id)
        return connection_from_row(row)

    async def list(self, *, provider: str | None = None) -> list[CRMConnection]:
        rows = await self._select(T.provider == provider if provider else None).order_by(T.id)
        return [connection_from_row(r) for r in rows]

    async def credentials(self, connection_id: str) -> str:
        """The stored (encrypted) credentials text."""
        row = await self._select(T.id == connection_id).columns(T.credentials).first()
        if row is None:
            raise NotFound("CRM connection", connection_id)
        return str(row["credentials"])

    async def update(
        self,
        connection_id: str,
        *,
        credentials: str | None = None,
        direction: SyncDirection | None = None,
        field_mapping: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        schedule_seconds: int | None = None,
        enabled: bool | None = None,
        cursor: str | None = None,
        status: str | None = None,
        last_error: str | None = None,
        last_sync_at: datetime | None = None,
        next_sync_at: datetime | None = None,
    ) -> CRMConnection:
        """Change the given fields (``None`` leaves a field as it is)."""
        if direction is not None and direction not in _DIRECTIONS:
            raise ValueError(f"direction: {direction!r} is not one of {', '.join(_DIRECTIONS)}")
        values: dict[Any, Any] = {T.updated_at: self.clock.now()}
        plain = {
            T.credentials: credentials,
            T.direction: direction,
            T.schedule_seconds: schedule_seconds,
            T.enabled: enabled,
            T.cursor: cursor,
            T.status: status,
            T.last_error: last_error,
            T.last_sync_at: last_sync_at,
            T.next_sync_at: next_sync_at,
        }
        values.update({column: value for column, value in plain.items() if value is not None})
        if field_mapping is not None:
            values[T.field_mapping] = dump(field_mapping)
        if settings is not None:
            values[T.settings] = dump(settings)
        rows = await self._update(values, T.id == connection_id).returning(*T.all_columns())
        if not rows:
            raise NotFound("CRM connection", connection_id)
        return connection_from_row(rows[0])

    async def delete(self, connection_id: str) -> None:
        """Remove a connection and its sync history (the log keeps the audit)."""
        async with self.db.transaction():
            await self._delete(S.connection_id == connection_id, table=S)
            rows = await self._delete(T.id == connection_id).returning(T.id)
        if not rows:
            raise NotFound("CRM connection", connection_id)


class SyncRunRepository(Scoped):
    table = S
    kind = "sync run"

    async def start(
        self, connection_id: str, *, trigger: str = "schedule", cursor_before: str | None = None
    ) -> SyncRun:
        rows = await S.insert(
            self._row(
                id=new_id(),
                connection_id=connection_id,
                trigger=trigger,
                status="running",
                started_at=self.clock.now(),
                counts="{}",
                errors="[]",
                cursor_before=cursor_before,
            )
        ).returning(*S.all_columns())
        return sync_run_from_row(rows[0])

    async def finish(
        self,
        run_id: str,
        *,
        status: SyncRunStatus,
        counts: dict[str, int],
        errors: list[dict[str, Any]] | None = None,
        cursor_after: str | None = None,
    ) -> SyncRun:
        run = await self.get(run_id)
        now = self.clock.now()
        duration_ms = int((now - run.started_at).total_seconds() * 1000)
        rows = await self._update(
            {
                S.status: status,
                S.finished_at: now,
                S.duration_ms: duration_ms,
                S.counts: dump(counts),
                S.errors: dump(errors or []),
                S.cursor_after: cursor_after,
            },
            S.id == run_id,
        ).returning(*S.all_columns())
        return sync_run_from_row(rows[0])

    async def get(self, run_id: str) -> SyncRun:
        row = await self._first(S.id == run_id)
        if row is None:
            raise NotFound("sync run", run_id)
        return sync_run_from_row(row)

    async def list(
        self, *, connection_id: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[SyncRun]:
        rows = (
            await self._select(
                S.connection_id == connection_id if connection_id else None,
                S.id < before if before else None,
            )
            .order_by(S.id, ascending=False)
            .limit(limit)
        )
        return [sync_run_from_row(r) for r in rows]
