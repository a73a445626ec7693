"""An event as node and trigger types see it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

__all__ = ["EventView"]


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    """An event as node and trigger types see it."""

    type: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    id: str = ""
