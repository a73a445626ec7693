"""Held changes: what a CRM sync would have changed on a contact but left for a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["HeldChange", "HeldChangeStatus"]

HeldChangeStatus = Literal["pending", "confirmed", "rejected", "superseded"]


class HeldChange(msgspec.Struct, frozen=True, kw_only=True):
    """One field of one contact: ``old`` as Aisle has it, ``new`` as the CRM has it.

    ``field`` is an Aisle contact field (``wedding_date``, ``venue``, ``custom.planner``);
    ``reason`` says why it was held (a protected field, pending date-relative steps).
    A newer held change of the same field supersedes a pending one.
    """

    id: str
    organization_id: str
    connection_id: str
    contact_id: str
    field: str
    reason: str
    old: Any = None
    """``None``: unset (a NULL column reads back as the default, so it must have one)."""
    new: Any = None
    status: HeldChangeStatus = "pending"
    run_id: str | None = None
    created_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
