"""Action runs of one organization: the outbox rows as admins list, retry and cancel them."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.runs import ActionRunStatus
from aisle.domain.action_run import ActionRun
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row, utc
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ActionRunTable as T

__all__ = ["ActionRunRepository", "Failures", "run_from_row"]


class Failures(msgspec.Struct, frozen=True, kw_only=True):
    """Dead action runs (out of attempts, or a permanent error) and the latest one's error."""

    count: int = 0
    last_error: str | None = None
    last_failed_at: datetime | None = None


def _failures(rows: list[dict[str, Any]]) -> Failures:
    """``rows`` of dead runs, newest first."""
    if not rows:
        return Failures()
    latest = rows[0]
    return Failures(
        count=len(rows),
        last_error=latest["last_error"],
        last_failed_at=utc(latest["finished_at"] or latest["updated_at"]),
    )


def run_from_row(row: dict[str, Any]) -> ActionRun:
    return from_row(ActionRun, T, row)


class ActionRunRepository(Scoped):
    table = T
    kind = "action run"

    async def create(
        self,
        *,
        executor: str,
        config: dict[str, Any],
        idempotency_key: str,
        max_attempts: int = 5,
        not_before: datetime | None = None,
        contact_id: str | None = None,
        enrollment_id: str | None = None,
        journey_id: str | None = None,
        journey_version: int | None = None,
        step_id: str | None = None,
    ) -> tuple[ActionRun, bool]:
        """Add a run to the outbox; a key seen before returns the existing run.

        Returns ``(run, created)``. Replaying the same step visit therefore never
        queues the same effect twice.
        """
        now = self.clock.now()
        rows = await (
            T.insert(
                self._row(
                    id=new_id(),
                    executor=executor,
                    config=dump(config),
                    idempotency_key=idempotency_key,
                    status=ActionRunStatus.PENDING,
                    attempts=0,
                    max_attempts=max_attempts,
                    next_attempt_at=not_before or now,
                    contact_id=contact_id,
                    enrollment_id=enrollment_id,
                    journey_id=journey_id,
                    journey_version=journey_version,
                    step_id=step_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            .on_conflict(target=(T.organization_id, T.idempotency_key), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if rows:
            return run_from_row(rows[0]), True
        row = await self._first(T.idempotency_key == idempotency_key)
        assert row is not None
        return run_from_row(row), False

    async def get(self, run_id: str) -> ActionRun:
        row = await self._first(T.id == run_id)
        if row is None:
            raise NotFound("action run", run_id)
        return run_from_row(row)

    async def list(
        self,
        *,
        status: ActionRunStatus | None = None,
        contact_id: str | None = None,
        enrollment_id: str | None = None,
        executor: str | None = None,
        journey_id: str | None = None,
        limit: int = 100,
        before: str | None = None,
    ) -> list[ActionRun]:
        """Newest first; ``before`` is the last id of the previous page."""
        rows = (
            await self._select(
                T.status == status if status else None,
                T.contact_id == contact_id if contact_id else None,
                T.enrollment_id == enrollment_id if enrollment_id else None,
                T.executor == executor if executor else None,
                T.journey_id == journey_id if journey_id else None,
                T.id < before if before else None,
            )
            .order_by(T.id, ascending=False)
            .limit(limit)
        )
        return [run_from_row(r) for r in rows]

    async def cancel(self, run_id: str) -> ActionRun:
        """Stop a run that has not finished. A running attempt's result is then discarded."""
        rows = await self._update(
            {
                T.status: ActionRunStatus.CANCELLED,
                T.finished_at: self.clock.now(),
                T.updated_at: self.clock.now(),
                T.lease_expires_at: None,
            },
            T.id == run_id,
            T.status.is_in(
                [ActionRunStatus.PENDING, ActionRunStatus.RUNNING, ActionRunStatus.FAILED]
            ),
        ).returning(*T.all_columns())
        if rows:
            return run_from_row(rows[0])
        run = await self.get(run_id)
        raise Conflict(
            f"action run {run_id!r} is {run.status} and cannot be cancelled", field="status"
        )

    async def reschedule(self, run_id: str, *, max_attempts: int) -> ActionRun:
        """Queue a dead or cancelled run again now, allowing up to ``max_attempts`` in total."""
        now = self.clock.now()
        rows = await self._update(
            {
                T.status: ActionRunStatus.PENDING,
                T.next_attempt_at: now,
                T.dispatched_at: None,
                T.max_attempts: max_attempts,
                T.finished_at: None,
                T.updated_at: now,
                T.claimed_by: None,
                T.claimed_at: None,
                T.lease_expires_at: None,
            },
            T.id == run_id,
            T.status.is_in([ActionRunStatus.DEAD, ActionRunStatus.CANCELLED]),
        ).returning(*T.all_columns())
        if rows:
            return run_from_row(rows[0])
        run = await self.get(run_id)
        raise Conflict(
            f"action run {run_id!r} is {run.status}; only dead or cancelled runs can be retried",
            field="status",
        )

    async def failures_by_enrollment(
        self, enrollment_ids: builtins.list[str]
    ) -> dict[str, Failures]:
        """The dead runs of each enrollment in ``enrollment_ids`` (absent: none)."""
        if not enrollment_ids:
            return {}
        rows = await self._dead(T.enrollment_id.is_in(builtins.list(dict.fromkeys(enrollment_ids))))
        grouped: dict[str, builtins.list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row["enrollment_id"], []).append(row)
        return {e: _failures(r) for e, r in grouped.items()}

    async def failures_by_step(self, journey_id: str) -> dict[str | None, Failures]:
        """The dead runs of a journey, per step that requested them."""
        counts = await self.step_counts(journey_id)
        found: dict[str | None, Failures] = {}
        for (step_id, status), n in counts.items():
            if status != ActionRunStatus.DEAD:
                continue
            step = T.step_id == step_id if step_id is not None else T.step_id.is_null()
            latest = await self._dead(T.journey_id == journey_id, step, limit=1)
            found[step_id] = msgspec.structs.replace(_failures(latest), count=n)
        return found

    async def _dead(
        self, *conditions: Any, limit: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Dead runs matching ``conditions``, the latest to fail first."""
        query = (
            T.select(T.enrollment_id, T.step_id, T.last_error, T.finished_at, T.updated_at)
            .where(self._where(T.status == ActionRunStatus.DEAD, *conditions))
            .order_by(T.finished_at, ascending=False)
            .order_by(T.id, ascending=False)
        )
        if limit is not None:
            query = query.limit(limit)
        rows: builtins.list[dict[str, Any]] = await query
        return rows

    async def step_counts(self, journey_id: str) -> dict[tuple[str | None, str], int]:
        """Action runs of a journey per (step, status)."""
        rows = await self.db.execute(
            "SELECT step_id, status, COUNT(*) AS n FROM action_runs "
            "WHERE organization_id = {} AND journey_id = {} GROUP BY step_id, status",
            self.org_id,
            journey_id,
        )
        return {(r["step_id"], r["status"]): int(r["n"]) for r in rows}

    async def finished_by_period(
        self, bounds: builtins.list[datetime]
    ) -> dict[tuple[int, str], int]:
        """Runs that succeeded or went dead in each period, per (period, status).

        Period ``i`` is ``bounds[i] <= finished_at < bounds[i + 1]``. One grouped query
        over the organization's runs however many periods: the bounds become a CASE.
        """
        if len(bounds) < 2:
            return {}
        cases = " ".join(f"WHEN finished_at < {{}} THEN {i}" for i in range(len(bounds) - 1))
        rows = await self.db.execute(
            f"SELECT CASE {cases} END AS period, status, COUNT(*) AS n FROM action_runs "
            "WHERE organization_id = {} AND status IN ({}, {}) "
            "AND finished_at >= {} AND finished_at < {} GROUP BY period, status",
            *bounds[1:],
            self.org_id,
            ActionRunStatus.SUCCEEDED.value,
            ActionRunStatus.DEAD.value,
            bounds[0],
            bounds[-1],
        )
        return {(int(r["period"]), r["status"]): int(r["n"]) for r in rows}

    async def dead_by_journey(self) -> dict[str | None, int]:
        """Dead runs per journey (``None``: runs of no journey), in one grouped query."""
        rows = await self.db.execute(
            "SELECT journey_id, COUNT(*) AS n FROM action_runs "
            "WHERE organization_id = {} AND status = {} GROUP BY journey_id",
            self.org_id,
            ActionRunStatus.DEAD.value,
        )
        return {r["journey_id"]: int(r["n"]) for r in rows}

    async def dead_since(self, since: datetime) -> int:
        """Runs that went dead at or after ``since``."""
        rows = await self.db.execute(
            "SELECT COUNT(*) AS n FROM action_runs WHERE organization_id = {} "
            "AND status = {} AND finished_at >= {}",
            self.org_id,
            ActionRunStatus.DEAD.value,
            since,
        )
        return int(rows[0]["n"]) if rows else 0

    async def due_before(self, until: datetime) -> int:
        """Runs still to go whose (next) attempt is due before ``until``: pending, or
        failed with a retry due (overdue ones included)."""
        rows = await self.db.execute(
            "SELECT COUNT(*) AS n FROM action_runs WHERE organization_id = {} "
            "AND status IN ({}, {}) AND next_attempt_at < {}",
            self.org_id,
            ActionRunStatus.PENDING.value,
            ActionRunStatus.FAILED.value,
            until,
        )
        return int(rows[0]["n"]) if rows else 0

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.db.execute(
            "SELECT status, COUNT(*) AS n FROM action_runs WHERE organization_id = {} "
            "GROUP BY status",
            self.org_id,
        )
        return {r["status"]: int(r["n"]) for r in rows}
