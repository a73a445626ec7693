"""An event as it arrives, before the runtime accepts it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["NewEvent"]


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What :meth:`aisle.runtime.Runtime.ingest_batch` accepts for each event.

    ``occurred_at`` defaults to the moment it is accepted.
    """

    type: str
    idempotency_key: str
    contact_id: str | None = None
    payload: dict[str, Any] = {}
    occurred_at: datetime | None = None
    source: str = "api"
