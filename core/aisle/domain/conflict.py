"""Conflict records: a value that lost a race (or needs review) is kept, never dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["ConflictRecord", "ConflictStatus"]

ConflictStatus = Literal["open", "resolved", "dismissed"]


class ConflictRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Two values for one field. ``kind`` says where: ``graph`` (two editors changed the
    same node/edge field), ``crm`` (a CRM and Aisle disagree), ``wedding_date`` (a CRM
    moved a date that pending steps depend on, held for review)."""

    id: str
    organization_id: str
    kind: str
    field: str
    ours: Any = None
    theirs: Any = None
    base: Any = None
    journey_id: str | None = None
    contact_id: str | None = None
    target: str | None = None
    status: ConflictStatus = "open"
    detail: dict[str, Any] = {}
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: Any = None
