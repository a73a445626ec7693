"""Clocks: the wall clock in production and a test clock tests move by hand.

Everything that asks "what time is it?" takes a :class:`Clock`, so the scheduler, the
relay and the runtime can be driven through weeks of a journey in a test without
sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "SystemClock", "TestClock", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    """Something that tells the time (always timezone-aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return utcnow()


class TestClock:
    """A clock that stands still until a test moves it.

    >>> clock = TestClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    >>> clock.advance(days=3).isoformat()
    '2026-06-04T09:00:00+00:00'
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (may not go backwards: the scheduler relies on that)."""
        moment = _aware(moment)
        if moment < self._now:
            raise ValueError(f"TestClock cannot go back from {self._now} to {moment}")
        self._now = moment
        return self._now

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move forward by ``delta`` and/or the given units; returns the new time."""
        step = (delta or timedelta()) + timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        return self.set(self._now + step)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: Aisle keeps every time timezone-aware")
    return moment.astimezone(UTC)
