"""The send window: inside → now, outside → the next opening, DST-correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aisle.jobs.send_window import DAY_NAMES, SendWindow, next_allowed

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_inside_the_window_returns_now() -> None:
    window = SendWindow(start="08:00", end="20:00", timezone="Europe/London")
    now = local(LONDON, 2025, 6, 14, 12, 0)
    assert next_allowed(window, now) is now


def test_after_closing_defers_to_next_morning() -> None:
    window = SendWindow(start="08:00", end="20:00", timezone="Europe/London")
    now = local(LONDON, 2025, 6, 14, 21, 15)
    assert next_allowed(window, now) == local(LONDON, 2025, 6, 15, 8, 0)


def test_end_is_exclusive_and_start_inclusive() -> None:
    window = SendWindow(start="08:00", end="20:00", timezone="UTC")
    assert next_allowed(window, datetime(2025, 1, 6, 20, 0, tzinfo=UTC)) == datetime(
        2025, 1, 7, 8, 0, tzinfo=UTC
    )
    opening = datetime(2025, 1, 7, 8, 0, tzinfo=UTC)
    assert next_allowed(window, opening) == opening


def test_result_is_utc_and_instant_is_the_same() -> None:
    window = SendWindow(start="09:00", end="17:00", timezone="America/New_York")
    result = next_allowed(window, datetime(2025, 3, 3, 3, 0, tzinfo=UTC))  # 22:00 NY Sunday
    assert result.tzinfo is UTC
    assert result == local(NY, 2025, 3, 3, 9, 0)


def test_weekdays_only_skips_the_weekend() -> None:
    window = SendWindow(
        start="09:00", end="17:00", days=("mon", "tue", "wed", "thu", "fri"), timezone="UTC"
    )
    friday_evening = datetime(2025, 6, 13, 18, 0, tzinfo=UTC)
    assert next_allowed(window, friday_evening) == datetime(2025, 6, 16, 9, 0, tzinfo=UTC)


def test_overnight_window_is_open_after_midnight() -> None:
    window = SendWindow(start="20:00", end="02:00", days=("fri",), timezone="UTC")
    saturday_1am = datetime(2025, 6, 14, 1, 0, tzinfo=UTC)  # Friday's window, still open
    assert next_allowed(window, saturday_1am) is saturday_1am
    saturday_3am = datetime(2025, 6, 14, 3, 0, tzinfo=UTC)
    assert next_allowed(window, saturday_3am) == datetime(2025, 6, 20, 20, 0, tzinfo=UTC)


def test_equal_start_and_end_is_the_whole_day() -> None:
    window = SendWindow(start="00:00", end="00:00", days=("sun",), timezone="UTC")
    sunday = datetime(2025, 6, 15, 23, 59, tzinfo=UTC)
    assert next_allowed(window, sunday) is sunday
    assert next_allowed(window, sunday + timedelta(minutes=1)) == datetime(
        2025, 6, 22, 0, 0, tzinfo=UTC
    )


def test_spring_forward_gap_opens_after_the_gap() -> None:
    # 2025-03-09: New York clocks jump 02:00 → 03:00; 02:30 does not exist that night.
    window = SendWindow(start="02:30", end="06:00", timezone="America/New_York")
    before = local(NY, 2025, 3, 9, 1, 0)
    opened = next_allowed(window, before)
    assert opened == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert opened.astimezone(NY).hour == 3


def test_fall_back_ambiguous_edge_takes_first_occurrence() -> None:
    # 2025-11-02: New York 01:30 happens twice (EDT then EST); the first one opens.
    window = SendWindow(start="01:30", end="05:00", timezone="America/New_York")
    before = local(NY, 2025, 11, 2, 0, 0)
    assert next_allowed(window, before) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_london_window_follows_bst() -> None:
    window = SendWindow(start="09:00", end="18:00", timezone="Europe/London")
    # 30 March 2025: BST starts; 09:00 local is 08:00 UTC, a week earlier it was 09:00 UTC.
    assert next_allowed(window, datetime(2025, 3, 30, 0, 0, tzinfo=UTC)) == datetime(
        2025, 3, 30, 8, 0, tzinfo=UTC
    )
    assert next_allowed(window, datetime(2025, 3, 23, 0, 0, tzinfo=UTC)) == datetime(
        2025, 3, 23, 9, 0, tzinfo=UTC
    )


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(SendWindow(), datetime(2025, 1, 1, 12, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "8:00"}, "start"),
        ({"end": "24:00"}, "end"),
        ({"days": ()}, "days"),
        ({"days": ("monday",)}, "days"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_invalid_windows_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SendWindow(**kwargs)  # type: ignore[arg-type]


ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]


@given(
    zone=st.sampled_from(ZONES),
    start=st.tuples(st.integers(0, 23), st.integers(0, 59)),
    end=st.tuples(st.integers(0, 23), st.integers(0, 59)),
    days=st.sets(st.sampled_from(DAY_NAMES), min_size=1),
    now=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
)
def test_next_allowed_is_never_earlier_and_is_inside(
    zone: str,
    start: tuple[int, int],
    end: tuple[int, int],
    days: set[str],
    now: datetime,
) -> None:
    window = SendWindow(
        start=f"{start[0]:02d}:{start[1]:02d}",
        end=f"{end[0]:02d}:{end[1]:02d}",
        days=tuple(sorted(days)),
        timezone=zone,
    )
    allowed = next_allowed(window, now)
    assert allowed >= now
    assert allowed - now <= timedelta(days=8)
    # The instant returned is itself inside the window: asking again changes nothing.
    assert next_allowed(window, allowed) == allowed
