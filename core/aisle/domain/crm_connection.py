"""CRM connections: a studio's link to the CRM it already uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = [
    "CONFLICT_POLICIES",
    "DEFAULT_PROTECTED",
    "CRMConnection",
    "ConflictPolicy",
    "SyncDirection",
]

SyncDirection = Literal["pull", "push", "both"]

ConflictPolicy = Literal["crm_wins", "aisle_wins", "newest_wins"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("crm_wins", "aisle_wins", "newest_wins")

DEFAULT_PROTECTED: tuple[str, ...] = ("wedding_date", "venue", "custom.vendor*")
"""Fields a CRM change is held for review on, unless the studio says otherwise; a
trailing ``*`` matches every field starting with what precedes it."""


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

    @property
    def conflicts(self) -> dict[str, ConflictPolicy]:
        """Per-field conflict policy (``settings["conflicts"]``); unnamed fields: CRM wins."""
        return dict(self.settings.get("conflicts") or {})

    @property
    def protected(self) -> tuple[str, ...]:
        """Protected fields (``settings["protected"]``), :data:`DEFAULT_PROTECTED` if unset."""
        value = self.settings.get("protected")
        return DEFAULT_PROTECTED if value is None else tuple(value)

    def is_protected(self, field: str) -> bool:
        return any(
            field.startswith(p[:-1]) if p.endswith("*") else field == p for p in self.protected
        )

    def policy(self, field: str) -> ConflictPolicy:
        return self.conflicts.get(field, "crm_wins")
