"""Sync runs as jobs: asked for (now, or by the schedule), executed by a worker with a
heartbeat and progress, cancelled between pages, and swept when their worker dies.

A run is executed by :func:`execute_sync_run`, in-process in the embedded default or
in a dramatiq worker in production (``aisle.jobs``); :func:`sweep_sync_runs` is the
scheduler's part: lost runs are requeued to resume from their stored position (or
failed after ``CRMDeps.max_resumes``), never left ``running``, and due scheduled
connections get a queued run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aisle import metrics
from aisle.contracts.log import LogKind
from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.crm.sync import PullStopped, Tally, pull
from aisle.domain.sync_run import SYNC_COUNTS, SyncRun, SyncRunStatus
from aisle.services.errors import Refused
from aisle.services.roles import Actor, ensure_role
from aisle.storage.rows import dump
from aisle.storage.store import OrgScope

__all__ = ["Dispatch", "SyncRuns", "dispatch_queued", "execute_sync_run", "sweep_sync_runs"]

log = logging.getLogger(__name__)

Dispatch = Callable[[str, str], Awaitable[None] | None]
"""Hands ``(organization id, run id)`` to whoever executes runs."""


class SyncRuns:
    """The sync runs of ``scope`` as ``actor`` sees them: ask for one, cancel, read."""

    def __init__(self, deps: CRMDeps, scope: OrgScope, actor: Actor) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor

    async def request(self, connection_id: str, *, trigger: str = "manual") -> tuple[SyncRun, bool]:
        """Queue a sync of the connection; its run already queued or running is returned
        instead (``False``)."""
        ensure_role(self.actor, "editor", "syncing a CRM connection")
        connection = await self.scope.crm_connections.get(connection_id)
        provider = self.deps.provider(connection.provider)
        if "pull" not in provider.capabilities:
            raise Refused(409, f"the {provider.name} provider does not pull records")
        if connection.direction == "push":
            raise Refused(409, f"connection {connection.name!r} only pushes")
        run, created = await self.scope.sync_runs.queue(
            connection_id, trigger=trigger, cursor_before=connection.cursor
        )
        if created and self.deps.runtime.on_work is not None:
            self.deps.runtime.on_work()  # embedded jobs pick it up at once
        return run, created

    async def cancel(self, run_id: str) -> SyncRun:
        ensure_role(self.actor, "editor", "cancelling a sync")
        return await self.scope.sync_runs.request_cancel(run_id)

    async def get(self, run_id: str) -> SyncRun:
        ensure_role(self.actor, "viewer", "reading a sync run")
        return await self.scope.sync_runs.get(run_id)

    async def history(
        self, *, connection_id: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[SyncRun]:
        ensure_role(self.actor, "viewer", "reading sync history")
        return await self.scope.sync_runs.list(
            connection_id=connection_id, limit=limit, before=before
        )


async def execute_sync_run(
    deps: CRMDeps, org_id: str, run_id: str, *, worker: str
) -> SyncRun | None:
    """Claim and run a queued sync to its end; ``None`` when another worker has it.

    Idempotent: a message delivered twice finds the run claimed or finished.
    """
    scope = deps.for_org(org_id)
    run = await scope.sync_runs.claim(run_id, worker=worker)
    if run is None:
        return None
    connection = await scope.crm_connections.get(run.connection_id)
    tally = Tally(counts={**dict.fromkeys(SYNC_COUNTS, 0), **run.counts}, errors=list(run.errors))
    started = time.monotonic()
    seen_before = run.seen

    async def progress(phase: str, seen: int, total: int | None, resume: dict[str, Any]) -> None:
        spent = time.monotonic() - started
        rate = round((seen - seen_before) / spent, 1) if spent > 0 else None
        kept = await scope.sync_runs.progress(
            run_id,
            worker=worker,
            phase=phase,
            seen=seen,
            total=total,
            rate=rate,
            counts=tally.counts,
            errors=tally.errors,
            resume=resume,
        )
        if not kept:
            current = await scope.sync_runs.get(run_id)
            raise PullStopped(cancelled=current.cancel_requested)

    status: SyncRunStatus
    cursors: dict[str, str | None] | None = None
    try:
        provider = deps.provider(connection.provider)
        credentials = await deps.credentials(scope, connection)
        async with deps.client(provider, credentials) as client:
            cursors = await pull(
                deps,
                scope,
                connection,
                provider,
                client,
                tally=tally,
                progress=progress,
                run_id=run_id,
                resume=run.resume,
            )
        status = "partial" if tally.counts.get("failed") else "succeeded"
    except PullStopped as stopped:
        if not stopped.cancelled:
            log.info("sync run %s was taken from worker %s", run_id, worker)
            return None
        status = "cancelled"
    except (UnusableConnection, Refused) as exc:
        status = "failed"
        tally.errors.append({"reason": str(exc)})
    except Exception as exc:
        log.exception("sync run %s failed", run_id)
        status = "failed"
        tally.errors.append({"reason": f"{type(exc).__name__}: {exc}"[:500]})
    return await _finish(deps, scope, run, worker, status, tally, cursors)


async def _finish(
    deps: CRMDeps,
    scope: OrgScope,
    run: SyncRun,
    worker: str | None,
    status: SyncRunStatus,
    tally: Tally,
    cursors: dict[str, str | None] | None,
) -> SyncRun | None:
    connection = await scope.crm_connections.get(run.connection_id)
    cursor = dump(cursors) if cursors is not None else None
    now = deps.store.clock.now()
    async with deps.store.transaction():
        finished = await scope.sync_runs.finish(
            run.id,
            status=status,
            counts=tally.counts,
            errors=tally.errors,
            cursor_after=cursor,
            worker=worker,
        )
        if finished is None:
            return None
        last_error = next((e["reason"] for e in reversed(tally.errors) if "kind" not in e), None)
        await scope.crm_connections.update(
            connection.id,
            cursor=cursor,
            status=status,
            last_error=last_error if status == "failed" else "",
            last_sync_at=now,
            next_sync_at=(
                now + timedelta(seconds=connection.schedule_seconds)
                if connection.schedule_seconds
                else None
            ),
        )
        metrics.sync_finished(connection.provider, status, tally.counts)
        counts = ", ".join(f"{tally.counts.get(k, 0)} {k}" for k in SYNC_COUNTS)
        await scope.log.append(
            LogKind.CRM_SYNC_FINISHED,
            message=f"{connection.provider} sync of {connection.name!r} {status}: {counts}",
            data={"connection_id": connection.id, "run_id": run.id, "counts": tally.counts},
        )
    return finished


async def sweep_sync_runs(deps: CRMDeps, *, limit: int = 100) -> int:
    """Take back runs whose worker stopped answering (resume, or fail after
    ``deps.max_resumes`` attempts) and queue runs of scheduled connections now due.
    Returns how many runs it touched."""
    now = deps.store.clock.now()
    touched = 0
    for run in await deps.system.stale_runs(
        heartbeat_before=now - timedelta(seconds=deps.lease_seconds), limit=limit
    ):
        scope = deps.for_org(run.organization_id)
        touched += 1
        if run.attempts < deps.max_resumes and not run.cancel_requested:
            await scope.sync_runs.requeue(run.id)
            what = f"requeued to resume at {run.phase} after {run.seen} records"
        else:
            tally = Tally(counts={**run.counts}, errors=list(run.errors))
            tally.errors.append(
                {"reason": f"worker {run.worker} stopped answering ({run.attempts} attempts)"}
            )
            status: SyncRunStatus = "cancelled" if run.cancel_requested else "failed"
            await _finish(deps, scope, run, run.worker, status, tally, None)
            what = f"marked {status}"
        await scope.log.append(
            LogKind.CRM_SYNC_LOST,
            message=f"sync run {run.id}: worker {run.worker} stopped answering; {what}",
            data={"run_id": run.id, "connection_id": run.connection_id},
        )
    for connection in await deps.system.due_connections(limit=limit):
        scope = deps.for_org(connection.organization_id)
        if connection.schedule_seconds is None:
            continue
        await scope.sync_runs.queue(
            connection.id, trigger="schedule", cursor_before=connection.cursor
        )
        await scope.crm_connections.update(
            connection.id, next_sync_at=now + timedelta(seconds=connection.schedule_seconds)
        )
        touched += 1
    return touched


async def dispatch_queued(
    deps: CRMDeps, dispatch: Dispatch, *, redispatch_after: float = 60.0, limit: int = 20
) -> int:
    """Hand every queued run not recently handed out to ``dispatch``; returns how many."""
    runs = await deps.system.take_queued(redispatch_after=redispatch_after, limit=limit)
    for run in runs:
        sent = dispatch(run.organization_id, run.id)
        if sent is not None:
            await sent
    return len(runs)
