"""Sync runs: one pass of a CRM connection, with its progress, counts, errors and duration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["ACTIVE_STATUSES", "SYNC_COUNTS", "SyncRun", "SyncRunStatus"]

SyncRunStatus = Literal["queued", "running", "succeeded", "partial", "failed", "cancelled"]

ACTIVE_STATUSES: tuple[SyncRunStatus, ...] = ("queued", "running")
"""A run in one of these is not over; a connection has at most one."""

SYNC_COUNTS = ("created", "updated", "unchanged", "held", "failed")
"""The outcomes a run counts, one per record seen."""


class SyncRun(msgspec.Struct, frozen=True, kw_only=True):
    """``counts`` maps outcome to number (:data:`SYNC_COUNTS`); ``errors`` holds each
    failed record (kind, external id, field, reason) and a failed run's cause.

    While it runs: ``phase`` (``queued``, ``contacts``, another pulled kind, ``done``),
    ``seen`` records of ``total`` (``None`` when the remote does not say), ``rate``
    records per second, ``heartbeat_at`` renewed by ``worker`` after every page.
    ``resume`` is where a resumed run continues (the kind and page cursor).
    """

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
    phase: str = "queued"
    seen: int = 0
    total: int | None = None
    rate: float | None = None
    heartbeat_at: datetime | None = None
    worker: str | None = None
    attempts: int = 0
    cancel_requested: bool = False
    resume: dict[str, Any] | None = None
