"""Due dates for to-dos: an offset from the wedding date or from the moment a step runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from aisle.engine.timing import (
    HHMM_PATTERN,
    date_field,
    local_to_utc,
    parse_date,
    parse_hhmm,
    resolve_zone,
)

__all__ = ["HHMM", "Due", "due_at"]

HHMM = Annotated[str, msgspec.Meta(pattern=HHMM_PATTERN, description="Local time as HH:MM.")]

_Days = Annotated[int, msgspec.Meta(ge=-3650, le=3650, description="Days (negative: before).")]
_Hours = Annotated[int, msgspec.Meta(ge=-240, le=240, description="Hours (negative: before).")]


class Due(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """When a to-do is due.

    ``relative_to="wedding_date"``: the wedding's calendar date shifted by ``days``, at
    local time ``at`` (in the contact's timezone, else the studio's), plus ``hours``.
    ``relative_to="now"``: ``days`` and ``hours`` after the step runs.
    """

    relative_to: Literal["wedding_date", "now"] = "now"
    days: _Days = 0
    hours: _Hours = 0
    at: HHMM = "17:00"


def due_at(
    due: Due | None, contact: Mapping[str, Any], now: datetime, studio_timezone: str
) -> datetime | None:
    """The UTC due time, or ``None`` (no due date, or no wedding date to count from)."""
    if due is None:
        return None
    if due.relative_to == "now":
        return now + timedelta(days=due.days, hours=due.hours)
    zone = resolve_zone("contact", contact.get("timezone"), studio_timezone)
    day = parse_date(date_field(contact, "wedding_date"), zone)
    if day is None:
        return None
    return local_to_utc(day, parse_hhmm(due.at), zone, days=due.days, hours=due.hours)
