"""What is waiting across every organization, for the metrics scrape (never an API).

Each figure is one query on an indexed column; the oldest-due lookups read one row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aisle.clock import Clock
from aisle.contracts.runs import ActionRunStatus
from aisle.metrics import Backlog
from aisle.storage.tables import ActionRunTable, EnrollmentTable, EventTable

__all__ = ["read_backlog"]

_WAITING = [ActionRunStatus.PENDING, ActionRunStatus.FAILED]


async def read_backlog(clock: Clock) -> Backlog:
    now = clock.now()
    runs = ActionRunTable
    depth = await runs.count().where(runs.status.is_in(_WAITING))
    oldest_run = await (
        runs.select(runs.next_attempt_at)
        .where(runs.status.is_in(_WAITING) & (runs.next_attempt_at <= now))
        .order_by(runs.next_attempt_at)
        .first()
    )
    enrollments = EnrollmentTable
    oldest_wake = await (
        enrollments.select(enrollments.wake_at)
        .where((enrollments.status == "active") & (enrollments.wake_at <= now))
        .order_by(enrollments.wake_at)
        .first()
    )
    pending = await EventTable.count().where(EventTable.status == "pending")
    return Backlog(
        outbox_depth=depth,
        outbox_oldest_due_seconds=_age(now, oldest_run, "next_attempt_at"),
        wakeup_lag_seconds=_age(now, oldest_wake, "wake_at"),
        events_pending=pending,
    )


def _age(now: datetime, row: dict[str, Any] | None, column: str) -> float:
    """Seconds since ``row[column]`` (0 without a row)."""
    if row is None:
        return 0.0
    due: datetime = row[column]
    return max(0.0, (now - due).total_seconds())
