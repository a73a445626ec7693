"""CRM connections and their sync runs, for one organization.

Credentials are stored as the opaque (already encrypted) text the caller hands in;
encrypting is the CRM layer's job, with ``Settings.secret_key``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aisle.clock import Clock
from aisle.domain.crm_connection import CRMConnection, SyncDirection
from aisle.domain.sync_run import ACTIVE_STATUSES, SyncRun, SyncRunStatus
from aisle.storage.crm_tables import CRMHeldChangeTable, CRMLinkTable
from aisle.storage.database import Database
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import CRMConnectionTable as T
from aisle.storage.tables import SyncRunTable as S

__all__ = [
    "CRMConnectionRepository",
    "CRMSystem",
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

    async def unschedule(self, connection_id: str) -> CRMConnection:
        """Stop periodic syncs of the connection."""
        rows = await self._update(
            {T.schedule_seconds: None, T.next_sync_at: None, T.updated_at: self.clock.now()},
            T.id == connection_id,
        ).returning(*T.all_columns())
        if not rows:
            raise NotFound("CRM connection", connection_id)
        return connection_from_row(rows[0])

    async def delete(self, connection_id: str) -> None:
        """Remove a connection, its sync history, links and held changes (the log keeps
        the audit)."""
        async with self.db.transaction():
            await self._delete(S.connection_id == connection_id, table=S)
            await self._delete(CRMLinkTable.connection_id == connection_id, table=CRMLinkTable)
            await self._delete(
                CRMHeldChangeTable.connection_id == connection_id, table=CRMHeldChangeTable
            )
            rows = await self._delete(T.id == connection_id).returning(T.id)
        if not rows:
            raise NotFound("CRM connection", connection_id)


class SyncRunRepository(Scoped):
    """Runs of one organization. A run is ``queued`` until a worker claims it, then
    ``running`` with a heartbeat, then ``succeeded``, ``partial``, ``failed`` or
    ``cancelled``; a connection has at most one queued or running run."""

    table = S
    kind = "sync run"

    async def queue(
        self, connection_id: str, *, trigger: str = "manual", cursor_before: str | None = None
    ) -> tuple[SyncRun, bool]:
        """A new queued run, or the connection's run that is not over (``False``)."""
        async with self.db.transaction():
            active = await self.active(connection_id)
            if active is not None:
                return active, False
            rows = await S.insert(
                self._row(
                    id=new_id(),
                    connection_id=connection_id,
                    trigger=trigger,
                    status="queued",
                    phase="queued",
                    started_at=self.clock.now(),
                    counts="{}",
                    errors="[]",
                    seen=0,
                    attempts=0,
                    cancel_requested=False,
                    cursor_before=cursor_before,
                )
            ).returning(*S.all_columns())
        return sync_run_from_row(rows[0]), True

    async def start(
        self, connection_id: str, *, trigger: str = "schedule", cursor_before: str | None = None
    ) -> SyncRun:
        """A run already running (no queue: the caller executes it now)."""
        run, _ = await self.queue(connection_id, trigger=trigger, cursor_before=cursor_before)
        return await self.claim(run.id, worker="inline") or run

    async def active(self, connection_id: str) -> SyncRun | None:
        row = await self._first(
            S.connection_id == connection_id, S.status.is_in(list(ACTIVE_STATUSES))
        )
        return sync_run_from_row(row) if row else None

    async def claim(
        self, run_id: str, *, worker: str, stale_before: datetime | None = None
    ) -> SyncRun | None:
        """Take a queued run (or a running one whose heartbeat is older than
        ``stale_before``) for ``worker``; ``None`` when someone else holds it."""
        now = self.clock.now()
        takeable: Any = S.status == "queued"
        if stale_before is not None:
            takeable = takeable | ((S.status == "running") & (S.heartbeat_at < stale_before))
        rows = await self._update(
            {
                S.status: "running",
                S.worker: worker,
                S.heartbeat_at: now,
                S.attempts: S.attempts + 1,
            },
            S.id == run_id,
            takeable,
            S.cancel_requested.eq(False),
        ).returning(*S.all_columns())
        return sync_run_from_row(rows[0]) if rows else None

    async def progress(
        self,
        run_id: str,
        *,
        worker: str,
        phase: str,
        seen: int,
        total: int | None,
        rate: float | None,
        counts: dict[str, int],
        errors: list[dict[str, Any]],
        resume: dict[str, Any] | None,
    ) -> bool:
        """Record progress and renew the heartbeat; ``False`` when the run is no longer
        this worker's, or a cancel was asked (the worker stops at once)."""
        rows = await self._update(
            {
                S.phase: phase,
                S.seen: seen,
                S.total: total,
                S.rate: rate,
                S.counts: dump(counts),
                S.errors: dump(errors),
                S.resume: dump(resume) if resume is not None else None,
                S.heartbeat_at: self.clock.now(),
            },
            S.id == run_id,
            S.worker == worker,
            S.status == "running",
        ).returning(S.cancel_requested)
        return bool(rows) and not rows[0]["cancel_requested"]

    async def request_cancel(self, run_id: str) -> SyncRun:
        """Ask a run to stop: a queued one is cancelled at once, a running one stops at
        its next page. A finished run is returned unchanged."""
        now = self.clock.now()
        async with self.db.transaction():
            await self._update(
                {S.status: "cancelled", S.phase: "done", S.finished_at: now, S.duration_ms: 0},
                S.id == run_id,
                S.status == "queued",
            )
            await self._update({S.cancel_requested: True}, S.id == run_id, S.status == "running")
            return await self.get(run_id)

    async def finish(
        self,
        run_id: str,
        *,
        status: SyncRunStatus,
        counts: dict[str, int],
        errors: list[dict[str, Any]] | None = None,
        cursor_after: str | None = None,
        worker: str | None = None,
    ) -> SyncRun | None:
        """End a running run; ``None`` when ``worker`` no longer holds it."""
        run = await self.get(run_id)
        now = self.clock.now()
        duration_ms = int((now - run.started_at).total_seconds() * 1000)
        rows = await self._update(
            {
                S.status: status,
                S.phase: "done",
                S.finished_at: now,
                S.duration_ms: duration_ms,
                S.counts: dump(counts),
                S.errors: dump(errors or []),
                S.cursor_after: cursor_after,
                S.resume: None,
            },
            S.id == run_id,
            S.worker == worker if worker is not None else None,
            S.status.is_in(list(ACTIVE_STATUSES)),
        ).returning(*S.all_columns())
        return sync_run_from_row(rows[0]) if rows else None

    async def requeue(self, run_id: str) -> None:
        """Put a run whose worker vanished back in the queue, to resume where it stood."""
        await self._update(
            {S.status: "queued", S.worker: None, S.dispatched_at: None},
            S.id == run_id,
            S.status == "running",
        )

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


class CRMSystem:
    """Cross-organization lookups the sync jobs and inbound webhooks start from; each
    returns organization ids so the caller continues in scope."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def connection(self, connection_id: str) -> CRMConnection | None:
        """The connection with this id in any organization (inbound webhooks name only it)."""
        row = await T.select().where(T.id == connection_id).first()
        return connection_from_row(row) if row else None

    async def stale_runs(self, *, heartbeat_before: datetime, limit: int) -> list[SyncRun]:
        """Running runs whose worker has not renewed its heartbeat since ``heartbeat_before``."""
        rows = (
            await S.select()
            .where((S.status == "running") & (S.heartbeat_at < heartbeat_before))
            .order_by(S.id)
            .limit(limit)
        )
        return [sync_run_from_row(r) for r in rows]

    async def due_connections(self, *, limit: int) -> list[CRMConnection]:
        """Enabled scheduled connections whose next sync time has come."""
        rows = (
            await T.select()
            .where(
                T.enabled.eq(True)
                & T.schedule_seconds.is_not_null()
                & (T.next_sync_at <= self.clock.now())
            )
            .order_by(T.next_sync_at)
            .limit(limit)
        )
        return [connection_from_row(r) for r in rows]

    async def take_queued(self, *, redispatch_after: float, limit: int) -> list[SyncRun]:
        """Queued runs not handed out in the last ``redispatch_after`` seconds, marked
        handed out now (a lost message is handed out again; only one claim succeeds)."""
        now = self.clock.now()
        again = now - timedelta(seconds=redispatch_after)
        async with self.db.transaction():
            rows = (
                await S.select()
                .where(
                    (S.status == "queued") & (S.dispatched_at.is_null() | (S.dispatched_at < again))
                )
                .order_by(S.id)
                .limit(limit)
            )
            if rows:
                await S.update({S.dispatched_at: now}).where(S.id.is_in([r["id"] for r in rows]))
        return [sync_run_from_row(r) for r in rows]

    async def all_credentials(self) -> list[tuple[str, str, str]]:
        """``(organization id, connection id, encrypted credentials)`` of every connection."""
        rows = await T.select(T.organization_id, T.id, T.credentials).order_by(T.id)
        return [(r["organization_id"], r["id"], r["credentials"]) for r in rows]

    async def credentials(self, connection_id: str) -> str:
        """The stored (encrypted) credentials of a connection in any organization."""
        row = await T.select(T.credentials).where(T.id == connection_id).first()
        if row is None:
            raise NotFound("CRM connection", connection_id)
        return str(row["credentials"])

    async def replace_credentials(self, connection_id: str, old: str, new: str) -> bool:
        """Swap the stored credentials text if it is still ``old`` (a concurrent edit wins)."""
        rows = await (
            T.update({T.credentials: new})
            .where((T.id == connection_id) & (T.credentials == old))
            .returning(T.id)
        )
        return bool(rows)
