"""A studio's send window (quiet hours) and the next instant a message may go out.

Pure: no clock, no I/O. Messages outside the window are deferred, not dropped; workers
call :func:`next_allowed` before running a messaging executor.

Local times are resolved DST-correctly with :mod:`zoneinfo`: a window edge that falls
in a spring-forward gap (02:30 on the night clocks jump from 02:00 to 03:00) is taken
as the same wall-clock reading shifted forward by the gap (03:30), and an edge in the
repeated hour of a fall-back night is the first occurrence (``fold=0``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = ["ALL_DAYS", "DAY_NAMES", "SendWindow", "next_allowed"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = DAY_NAMES
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_hhmm(field: str, value: str) -> time:
    match = _HHMM.match(value)
    if match is None:
        raise ValueError(f"send window {field}: {value!r} is not a 24-hour time like '08:30'")
    return time(int(match.group(1)), int(match.group(2)))


class SendWindow(msgspec.Struct, frozen=True, kw_only=True):
    """When messages may be sent: ``start`` to ``end`` local time on ``days``.

    ``end`` before ``start`` is an overnight window (``20:00`` to ``02:00`` runs into the
    next morning; ``days`` name the day it opens). ``start == end`` allows the whole day.
    ``days`` are lowercase three-letter names (``"mon"`` … ``"sun"``).
    """

    start: str = "08:00"
    end: str = "20:00"
    days: tuple[str, ...] = ALL_DAYS
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        _parse_hhmm("start", self.start)
        _parse_hhmm("end", self.end)
        if not self.days:
            raise ValueError("send window days: name at least one day")
        for day in self.days:
            if day not in DAY_NAMES:
                raise ValueError(f"send window days: {day!r} is not one of {', '.join(DAY_NAMES)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"send window timezone: {self.timezone!r} is not an IANA time zone"
            ) from None


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a wall clock in ``zone`` shows ``clock`` on ``day``."""
    local = datetime.combine(day, clock, tzinfo=zone)
    # A reading in a DST gap does not round-trip; fold=0 maps it past the gap
    # (02:30 → 03:30), which is what the module docstring promises.
    return local.astimezone(UTC)


def next_allowed(window: SendWindow, now: datetime) -> datetime:
    """``now`` if it is inside ``window``, else the next instant the window opens (UTC).

    :raises ValueError: ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("next_allowed needs a timezone-aware 'now'")
    zone = ZoneInfo(window.timezone)
    start = _parse_hhmm("start", window.start)
    end = _parse_hhmm("end", window.end)
    days = {DAY_NAMES.index(d) for d in window.days}
    today = now.astimezone(zone).date()
    current = now.astimezone(UTC)
    upcoming: list[datetime] = []
    # Yesterday's overnight window may still be open; a week ahead always opens one.
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opens = _at(day, start, zone)
        closes = _at(day if end > start else day + timedelta(days=1), end, zone)
        if opens <= current < closes:
            return now
        if opens > current:
            upcoming.append(opens)
    return min(upcoming)
