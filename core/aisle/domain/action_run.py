"""Action runs: the outbox of side effects, with their delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.runs import FINISHED_RUN_STATUSES, ActionRunStatus

__all__ = ["FINISHED_RUN_STATUSES", "ActionRun", "ActionRunStatus"]


class ActionRun(msgspec.Struct, frozen=True, kw_only=True):
    """One side effect to perform, written with the state change that caused it.

    ``idempotency_key`` is unique per organization and is handed to the executor, so a
    run executed twice (a worker crashed after the effect) has the effect once.
    """

    id: str
    organization_id: str
    executor: str
    config: dict[str, Any]
    idempotency_key: str
    status: ActionRunStatus = ActionRunStatus.PENDING
    attempts: int = 0
    max_attempts: int = 5
    next_attempt_at: datetime | None = None
    contact_id: str | None = None
    enrollment_id: str | None = None
    journey_id: str | None = None
    journey_version: int | None = None
    step_id: str | None = None
    result: dict[str, Any] | None = None
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    def step_visit(self) -> int | None:
        """The enrollment's visit of ``step_id`` this run was planned on, if the engine
        planned it (the engine keys runs ``{enrollment}:{visit}:{step}:{key}``)."""
        if self.enrollment_id is None:
            return None
        head, separator, rest = self.idempotency_key.partition(":")
        visit = rest.partition(":")[0]
        if not separator or head != self.enrollment_id or not visit.isdigit():
            return None
        return int(visit)
