"""Presence sessions: who has a journey open on the canvas, and where they are looking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["PresenceSession"]


class PresenceSession(msgspec.Struct, frozen=True, kw_only=True):
    """One open canvas. ``cursor``/``viewport``/``selection`` come from heartbeats."""

    id: str
    organization_id: str
    journey_id: str
    user_id: str
    display_name: str = ""
    color: str = ""
    cursor: dict[str, Any] | None = None
    viewport: dict[str, Any] | None = None
    selection: tuple[str, ...] = ()
    joined_at: datetime | None = None
    last_seen_at: datetime | None = None
