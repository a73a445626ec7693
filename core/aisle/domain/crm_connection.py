"""CRM connections: a studio's link to the CRM it already uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["CRMConnection", "SyncDirection"]

SyncDirection = Literal["pull", "push", "both"]


class CRMConnection(msgspec.Struct, frozen=True, kw_only=True):
    """Provider, mapping, direction and schedule. The credentials are stored encrypted
    and are read separately (never part of this struct, so it is safe to serialize)."""

    id: str
    organization_id: str
    provider: str
    name: str
    direction: SyncDirection = "pull"
    field_mapping: dict[str, str] = {}
    settings: dict[str, Any] = {}
    schedule_seconds: int | None = None
    cursor: str | None = None
    enabled: bool = True
    status: str = "new"
    last_error: str | None = None
    last_sync_at: datetime | None = None
    next_sync_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
