"""The tenant: a studio (organization) and its settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["Organization"]


class Organization(msgspec.Struct, frozen=True, kw_only=True):
    """A studio. Every other row belongs to exactly one organization.

    ``settings`` holds studio preferences the engine and executors read, e.g.
    ``send_window`` (quiet hours) and ``studio_name``.
    """

    id: str
    slug: str
    name: str
    timezone: str = "UTC"
    settings: dict[str, Any] = {}
    created_at: datetime | None = None
