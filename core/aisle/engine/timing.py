"""Date and timezone math for time-based steps: local wall-clock times to UTC instants.

Everything returned is timezone-aware UTC. Local times are resolved with ``zoneinfo``
and one fixed rule for the two DST edge cases, so results never depend on the host:

- a local time that does not exist (the spring-forward gap, e.g. 02:30 on the day New
  York moves from 02:00 to 03:00) is moved forward by the length of the gap
  (02:30 → 03:30 local);
- a local time that happens twice (the autumn fall-back hour) means its first
  occurrence (the earlier instant, still on summer time).

These are ``fold=0`` semantics (PEP 495), the same choice RFC 5545 makes for calendars.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "HHMM_PATTERN",
    "LocalTimeError",
    "date_field",
    "is_zone",
    "local_to_utc",
    "parse_date",
    "parse_hhmm",
    "require_aware",
    "resolve_zone",
    "to_utc",
]

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HHMM = re.compile(HHMM_PATTERN)


class LocalTimeError(ValueError):
    """A local time, zone or date value that cannot be used."""


def parse_hhmm(value: str) -> time:
    """``"09:30"`` → ``time(9, 30)``."""
    if not _HHMM.match(value):
        raise LocalTimeError(f"{value!r} is not a time of day as HH:MM (00:00-23:59)")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA timezone (``Europe/London``)."""
    return bool(name) and _zone(name) is not None


def resolve_zone(choice: str, contact_timezone: str | None, studio_timezone: str) -> ZoneInfo:
    """The zone a ``contact`` / ``studio`` / IANA-name choice means for one contact.

    ``contact`` falls back to the studio's zone when the contact has none (or an unknown
    one); an unknown studio zone falls back to UTC so a bad setting never crashes a run.
    """
    studio = _zone(studio_timezone) or ZoneInfo("UTC")
    if choice == "studio":
        return studio
    if choice == "contact":
        return (_zone(contact_timezone) if contact_timezone else None) or studio
    zone = _zone(choice)
    if zone is None:
        raise LocalTimeError(f"unknown timezone {choice!r}")
    return zone


def local_to_utc(
    day: date, at: time, zone: ZoneInfo, *, days: int = 0, hours: int = 0, minutes: int = 0
) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` shifted by an offset, in ``zone``.

    The offset moves the wall clock (calendar days, then hours), so "7 days before at
    09:00" is 09:00 local even across a DST change.
    """
    wall = datetime.combine(day, at) + timedelta(days=days, hours=hours, minutes=minutes)
    # fold=0: the module docstring explains the choice for gaps and repeated hours.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def parse_date(value: Any, zone: ZoneInfo) -> date | None:
    """A calendar date from a contact field value, or ``None`` if it is not one.

    Accepts a ``date``, an ISO date string, or an ISO date-time (an aware one is read in
    ``zone``, so an instant late on the 1st UTC may be the 2nd in Sydney).
    """
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(zone).date() if parsed.tzinfo else parsed.date()


def date_field(contact: Any, field: str) -> Any:
    """Read ``wedding_date`` or ``custom.<name>`` from a contact activation mapping."""
    if field.startswith("custom."):
        custom = contact.get("custom") or {}
        return custom.get(field.removeprefix("custom.")) if isinstance(custom, dict) else None
    return contact.get(field)


def require_aware(value: datetime, name: str) -> datetime:
    """Refuse a naive datetime (all instants inside Aisle are aware)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def to_utc(value: datetime) -> datetime:
    """An aware datetime normalised to UTC."""
    return require_aware(value, "datetime").astimezone(UTC)
