"""Sync runs: one pass of a CRM connection, with its counts, errors and duration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["SyncRun", "SyncRunStatus"]

SyncRunStatus = Literal["running", "succeeded", "partial", "failed"]


class SyncRun(msgspec.Struct, frozen=True, kw_only=True):
    """``counts`` maps outcome to number (``created``, ``updated``, ``skipped``, ``failed``)."""

    id: str
    organization_id: str
    connection_id: str
    started_at: datetime
    trigger: str = "schedule"
    status: SyncRunStatus = "running"
    finished_at: datetime | None = None
    duration_ms: int | None = None
    counts: dict[str, int] = {}
    errors: tuple[dict[str, Any], ...] = ()
    cursor_before: str | None = None
    cursor_after: str | None = None
