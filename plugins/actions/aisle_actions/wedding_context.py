"""The wedding context message templates see: the couple, the date, the venue, the studio.

Built from the action context's ``contact`` (:meth:`aisle.domain.Contact.activation`)
and ``studio`` mappings. Dates are shown in the couple's timezone (the studio's when
the couple has none); names of days and months are English whatever the server
locale, so a message renders the same on every worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CONTEXT_NAMES", "contact_timezone", "format_date", "wedding_context", "wedding_date"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

CONTEXT_NAMES = (
    "couple",
    "partner1",
    "partner2",
    "partners",
    "contact",
    "wedding_date",
    "wedding",
    "venue",
    "studio",
    "custom",
    "now",
    "timezone",
)
"""Top-level names a template may use (listed in errors about undefined names)."""


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def contact_timezone(contact: Mapping[str, Any], studio: Mapping[str, Any]) -> ZoneInfo:
    """The couple's timezone, else the studio's, else UTC."""
    return _zone(contact.get("timezone")) or _zone(studio.get("timezone")) or ZoneInfo("UTC")


def wedding_date(contact: Mapping[str, Any], zone: ZoneInfo) -> date | None:
    """The wedding day in ``zone``: a date as is, a date-time converted to ``zone``."""
    value = contact.get("wedding_date")
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    return None


def format_date(value: date | datetime | None, style: str = "long") -> str:
    """``long``: "Saturday 14 June 2025"; ``medium``: "14 June 2025"; ``iso``: "2025-06-14"."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    if style == "iso":
        return day.isoformat()
    medium = f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    if style == "medium":
        return medium
    if style == "long":
        return f"{_DAYS[day.weekday()]} {medium}"
    raise ValueError(f"unknown date style {style!r}: use long, medium or iso")


def _partner(raw: Any) -> dict[str, Any]:
    data = dict(raw) if isinstance(raw, Mapping) else {}
    first = str(data.get("first_name") or "")
    last = str(data.get("last_name") or "")
    return {
        "first_name": first,
        "last_name": last,
        "name": " ".join(p for p in (first, last) if p),
        "email": data.get("email") or "",
        "phone": data.get("phone") or "",
    }


def _studio(studio: Mapping[str, Any]) -> dict[str, Any]:
    settings = studio.get("settings")
    extra: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
    return {
        "name": studio.get("studio_name") or extra.get("studio_name") or studio.get("name") or "",
        "email": studio.get("email") or extra.get("email") or "",
        "phone": studio.get("phone") or extra.get("phone") or "",
        "website": studio.get("website") or extra.get("website") or "",
        "timezone": studio.get("timezone") or "UTC",
    }


def wedding_context(
    contact: Mapping[str, Any], studio: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Everything a message template may refer to (see :data:`CONTEXT_NAMES`)."""
    zone = contact_timezone(contact, studio)
    local_now = now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=UTC).astimezone(zone)
    partners = [_partner(p) for p in contact.get("partners") or ()]
    first_names = [p["first_name"] for p in partners if p["first_name"]]
    couple = str(contact.get("names") or " & ".join(first_names))
    day = wedding_date(contact, zone)
    custom = contact.get("custom")
    return {
        "couple": couple,
        "partner1": partners[0] if partners else _partner({}),
        "partner2": partners[1] if len(partners) > 1 else _partner({}),
        "partners": partners,
        "contact": {
            "id": contact.get("id") or "",
            "email": contact.get("email") or "",
            "phone": contact.get("phone") or "",
        },
        "wedding_date": format_date(day),
        "wedding": {
            "date": day,
            "date_long": format_date(day, "long"),
            "date_medium": format_date(day, "medium"),
            "date_iso": format_date(day, "iso"),
            "weekday": _DAYS[day.weekday()] if day else "",
            "days_until": (day - local_now.date()).days if day else None,
            "venue": contact.get("venue") or "",
        },
        "venue": contact.get("venue") or "",
        "studio": _studio(studio),
        "custom": dict(custom) if isinstance(custom, Mapping) else {},
        "now": local_now,
        "timezone": zone.key,
    }
