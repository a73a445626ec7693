"""Something that happened to a contact: a form submitted, a payment received, …"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["EVENT_TYPES", "Event"]

EVENT_TYPES = frozenset(
    {
        "contact.created",
        "contact.updated",
        "form.submitted",
        "payment.received",
        "task.completed",
        "manual.triggered",
        "booking.confirmed",
    }
)
"""Event types built-in trigger types listen to; plugins and CRMs may add others."""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """An accepted event. ``idempotency_key`` is unique per organization."""

    id: str
    type: str
    contact_id: str | None
    occurred_at: datetime
    idempotency_key: str
    payload: dict[str, Any] = {}
