"""An accepted event as stored, with its processing status."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from aisle.domain.event import Event

__all__ = ["EventRecord", "EventStatus"]

EventStatus = Literal["pending", "processed", "failed"]


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """``event`` plus bookkeeping: accepted (``pending``) before anything else happens,
    then ``processed`` in the same transaction as the transitions it caused."""

    event: Event
    organization_id: str
    status: EventStatus = "pending"
    source: str = "api"
    received_at: datetime | None = None
    processed_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
