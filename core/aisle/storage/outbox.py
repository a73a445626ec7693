"""The outbox as the job machinery sees it: due runs, claims, results, lost workers.

This is not organization-scoped: a worker receives only a run id. It is used by
:mod:`aisle.jobs` and never reachable from an API request; everything a run does
after being claimed goes through ``Store.for_org(run.organization_id)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aisle.clock import Clock
from aisle.contracts.runs import ActionRunStatus
from aisle.domain.action_run import ActionRun
from aisle.storage.action_runs import run_from_row
from aisle.storage.database import Database
from aisle.storage.rows import dump
from aisle.storage.tables import ActionRunTable as T

__all__ = ["ExpiredClaim", "Outbox"]

_WAITING = (ActionRunStatus.PENDING, ActionRunStatus.FAILED)
"""Statuses of a run waiting for its next attempt: never tried (or deferred), or the
last attempt failed and a retry is scheduled at ``next_attempt_at``."""


@dataclass(frozen=True)
class ExpiredClaim:
    """A run whose worker vanished: its lease ran out while it was ``running``."""

    run_id: str
    organization_id: str
    attempt: int
    claimed_by: str | None
    new_status: str


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def get(self, run_id: str) -> ActionRun | None:
        row = await T.select().where(T.id == run_id).first()
        return run_from_row(row) if row else None

    async def take_due(self, *, limit: int, redispatch_after: float) -> list[str]:
        """Ids of waiting runs that are due and not handed to the broker recently.

        Marks them dispatched (now) in the same transaction; on PostgreSQL rows another
        relay is taking are skipped (``FOR UPDATE SKIP LOCKED``). A run whose message
        was lost (broker flushed) is handed out again after ``redispatch_after`` s.
        """
        now = self.clock.now()
        stale = now - timedelta(seconds=redispatch_after)
        async with self.db.transaction():
            query = (
                T.select(T.id)
                .where(
                    T.status.is_in(list(_WAITING))
                    & (T.next_attempt_at <= now)
                    & (T.dispatched_at.is_null() | (T.dispatched_at <= stale))
                )
                .order_by(T.next_attempt_at)
                .limit(limit)
            )
            if self.db.is_postgres:
                query = query.lock_rows("UPDATE", skip_locked=True)
            ids = [row["id"] for row in await query]
            if ids:
                await T.update({T.dispatched_at: now}).where(T.id.is_in(ids))
        return ids

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting run becomes due (the embedded loop's sleep hint)."""
        row = (
            await T.select(T.next_attempt_at)
            .where(T.status.is_in(list(_WAITING)))
            .order_by(T.next_attempt_at)
            .first()
        )
        return row["next_attempt_at"] if row else None

    async def claim(self, run_id: str, *, worker: str, lease_until: datetime) -> ActionRun | None:
        """Atomically move a due waiting run to ``running`` for ``worker``.

        ``None`` when someone else has it, it is finished, cancelled, or not due yet
        (a duplicate or early message): the caller acknowledges and drops the message.
        """
        now = self.clock.now()
        rows = (
            await T.update(
                {
                    T.status: ActionRunStatus.RUNNING,
                    T.attempts: T.attempts + 1,
                    T.claimed_by: worker,
                    T.claimed_at: now,
                    T.lease_expires_at: lease_until,
                    T.updated_at: now,
                }
            )
            .where((T.id == run_id) & T.status.is_in(list(_WAITING)) & (T.next_attempt_at <= now))
            .returning(*T.all_columns())
        )
        return run_from_row(rows[0]) if rows else None

    async def release(self, run: ActionRun) -> bool:
        """Give back a claim whose attempt was interrupted by its worker shutting down:
        the run waits again, due now, without that attempt counted (fenced on the claim,
        so a claim that already expired and moved on is left alone)."""
        now = self.clock.now()
        rows = (
            await T.update(
                {
                    T.status: ActionRunStatus.PENDING
                    if run.attempts <= 1
                    else ActionRunStatus.FAILED,
                    T.attempts: T.attempts - 1,
                    T.claimed_by: None,
                    T.claimed_at: None,
                    T.lease_expires_at: None,
                    T.next_attempt_at: now,
                    T.dispatched_at: None,
                    T.updated_at: now,
                }
            )
            .where(
                (T.id == run.id)
                & (T.status == ActionRunStatus.RUNNING)
                & (T.claimed_by == run.claimed_by)
                & (T.attempts == run.attempts)
            )
            .returning(T.id)
        )
        return bool(rows)

    async def defer(self, run_id: str, until: datetime) -> bool:
        """Move a waiting run's next attempt to ``until`` (a closed send window).

        No attempt is used up; the relay hands it out again when it is due.
        """
        rows = (
            await T.update(
                {T.next_attempt_at: until, T.dispatched_at: None, T.updated_at: self.clock.now()}
            )
            .where((T.id == run_id) & T.status.is_in(list(_WAITING)))
            .returning(T.id)
        )
        return bool(rows)

    async def finish(
        self,
        run: ActionRun,
        *,
        status: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Record the outcome of the attempt ``run`` was claimed for.

        Fenced on (status running, same attempt, same worker): if the lease expired and
        another worker took the run, or it was cancelled, this returns False and
        changes nothing.
        """
        now = self.clock.now()
        values: dict[Any, Any] = {
            T.status: status,
            T.updated_at: now,
            T.lease_expires_at: None,
        }
        if status in _WAITING:
            values[T.next_attempt_at] = next_attempt_at or now
            values[T.dispatched_at] = None
        else:
            values[T.finished_at] = now
        if result is not None:
            values[T.result] = dump(result)
        if error is not None:
            values[T.last_error] = error[:4000]
        rows = (
            await T.update(values)
            .where(
                (T.id == run.id)
                & (T.status == ActionRunStatus.RUNNING)
                & (T.attempts == run.attempts)
                & (T.claimed_by == run.claimed_by)
            )
            .returning(T.id)
        )
        return bool(rows)

    async def expire_claims(self, *, limit: int = 100) -> list[ExpiredClaim]:
        """Runs whose lease ran out become ``failed`` with a retry due now (``dead`` when
        out of attempts).

        The lost attempt counts: a run that kills its worker every time ends dead
        instead of looping forever.
        """
        now = self.clock.now()
        expired: list[ExpiredClaim] = []
        async with self.db.transaction():
            query = (
                T.select(T.id, T.organization_id, T.attempts, T.max_attempts, T.claimed_by)
                .where((T.status == ActionRunStatus.RUNNING) & (T.lease_expires_at < now))
                .limit(limit)
            )
            if self.db.is_postgres:
                query = query.lock_rows("UPDATE", skip_locked=True)
            for row in await query:
                dead = row["attempts"] >= row["max_attempts"]
                new_status = ActionRunStatus.DEAD if dead else ActionRunStatus.FAILED
                values: dict[Any, Any] = {
                    T.status: new_status,
                    T.lease_expires_at: None,
                    T.updated_at: now,
                    T.last_error: f"worker {row['claimed_by']} lost the run: lease expired "
                    f"during attempt {row['attempts']}",
                }
                if dead:
                    values[T.finished_at] = now
                else:
                    values[T.next_attempt_at] = now
                    values[T.dispatched_at] = None
                await T.update(values).where(
                    (T.id == row["id"]) & (T.status == ActionRunStatus.RUNNING)
                )
                expired.append(
                    ExpiredClaim(
                        run_id=row["id"],
                        organization_id=row["organization_id"],
                        attempt=row["attempts"],
                        claimed_by=row["claimed_by"],
                        new_status=new_status,
                    )
                )
        return expired
