"""Local time to UTC, DST edge cases, zone choice, and date parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from aisle.engine.timing import (
    LocalTimeError,
    is_zone,
    local_to_utc,
    parse_date,
    parse_hhmm,
    resolve_zone,
    to_utc,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_new_york_spring_forward():
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    assert local_to_utc(date(2026, 3, 7), time(9), NY) == utc(2026, 3, 7, 14)  # EST
    assert local_to_utc(date(2026, 3, 8), time(9), NY) == utc(2026, 3, 8, 13)  # EDT
    # 02:30 does not exist that day: moved forward by the gap, i.e. 03:30 EDT.
    gap = local_to_utc(date(2026, 3, 8), time(2, 30), NY)
    assert gap == utc(2026, 3, 8, 7, 30)
    assert gap.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"


def test_new_york_fall_back_takes_first_occurrence():
    # 2026-11-01: 01:00-02:00 happens twice; the first is still EDT (UTC-4).
    first = local_to_utc(date(2026, 11, 1), time(1, 30), NY)
    assert first == utc(2026, 11, 1, 5, 30)
    assert first.astimezone(NY).tzname() == "EDT"


def test_london_both_transitions():
    # 2026-03-29 01:00 GMT → 02:00 BST; 2026-10-25 02:00 BST → 01:00 GMT.
    assert local_to_utc(date(2026, 3, 28), time(9), LONDON) == utc(2026, 3, 28, 9)
    assert local_to_utc(date(2026, 3, 29), time(9), LONDON) == utc(2026, 3, 29, 8)
    assert local_to_utc(date(2026, 3, 29), time(1, 15), LONDON) == utc(2026, 3, 29, 1, 15)
    assert local_to_utc(date(2026, 10, 25), time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)
    assert local_to_utc(date(2026, 10, 25), time(9), LONDON) == utc(2026, 10, 25, 9)


def test_offset_moves_the_wall_clock_across_dst():
    # 7 days before a Saturday 2026-04-04 wedding in New York is 2026-03-28, after the
    # change; the day before the change is a week earlier. Both at 09:00 local.
    assert local_to_utc(date(2026, 4, 4), time(9), NY, days=-7) == utc(2026, 3, 28, 13)
    assert local_to_utc(date(2026, 3, 14), time(9), NY, days=-7) == utc(2026, 3, 7, 14)
    assert local_to_utc(date(2026, 3, 9), time(9), NY, hours=-24) == utc(2026, 3, 8, 13)


def test_parse_hhmm():
    assert parse_hhmm("00:00") == time(0, 0)
    assert parse_hhmm("23:59") == time(23, 59)
    for bad in ("24:00", "9:00", "09:60", "noon", ""):
        with pytest.raises(LocalTimeError):
            parse_hhmm(bad)


def test_resolve_zone_falls_back():
    assert resolve_zone("contact", "America/New_York", "Europe/London") == NY
    assert resolve_zone("contact", None, "Europe/London") == LONDON
    assert resolve_zone("contact", "Mars/Base", "Europe/London") == LONDON
    assert resolve_zone("studio", "America/New_York", "Europe/London") == LONDON
    assert resolve_zone("Asia/Tokyo", None, "UTC") == ZoneInfo("Asia/Tokyo")
    assert resolve_zone("studio", None, "Nowhere/Land") == ZoneInfo("UTC")
    with pytest.raises(LocalTimeError):
        resolve_zone("Nowhere/Land", None, "UTC")
    assert is_zone("Europe/London")
    assert not is_zone("")
    assert not is_zone("contact")


def test_parse_date():
    sydney = ZoneInfo("Australia/Sydney")
    assert parse_date("2026-06-20", sydney) == date(2026, 6, 20)
    assert parse_date(date(2026, 6, 20), sydney) == date(2026, 6, 20)
    # An instant late on the 19th UTC is the 20th in Sydney.
    assert parse_date("2026-06-19T20:00:00Z", sydney) == date(2026, 6, 20)
    assert parse_date("2026-06-19T20:00:00", sydney) == date(2026, 6, 19)
    assert parse_date(datetime(2026, 6, 19, 20, tzinfo=UTC), sydney) == date(2026, 6, 20)
    for bad in ("soon", "", None, 20260620, "2026-13-01"):
        assert parse_date(bad, sydney) is None


def test_to_utc_refuses_naive():
    with pytest.raises(ValueError, match="timezone-aware"):
        to_utc(datetime(2026, 1, 1))
    assert to_utc(datetime(2026, 1, 1, 12, tzinfo=NY)) == utc(2026, 1, 1, 17)
