"""What the pytest plugin's fixtures hand out: a studio with a token, and Aisle's jobs
run in the test's own task, driven by a test clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aisle.clock import TestClock
    from aisle.jobs.embedded import DrainReport
    from aisle.runtime.service import Runtime
    from aisle.storage.store import OrgScope

__all__ = ["InProcessJobs", "Studio"]


@dataclass(frozen=True)
class Studio:
    """An organization in the test database with an owner API token."""

    id: str
    slug: str
    token: str = field(repr=False)
    scope: OrgScope = field(repr=False)

    @property
    def auth(self) -> dict[str, str]:
        """The ``Authorization`` header of the owner token."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class InProcessJobs:
    """Runs the scheduler, the relay and the workers' code path until nothing is due.

    The same functions ``aisle worker`` and ``aisle scheduler`` run, one pass at a time,
    so a test can walk a journey through weeks without sleeping::

        await jobs.advance(days=3)   # move the clock, then run whatever fell due
    """

    runtime: Runtime
    clock: TestClock

    async def drain(self) -> DrainReport:
        """Run everything due at the clock's current time (wake-ups, events, action runs)."""
        from aisle.jobs.embedded import drain

        return await drain(self.runtime)

    async def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
    ) -> DrainReport:
        """Move the clock forward, then :meth:`drain`."""
        self.clock.advance(delta, days=days, hours=hours, minutes=minutes)
        return await self.drain()

    async def run_until(self, moment: datetime) -> DrainReport:
        """Set the clock to ``moment``, then :meth:`drain`."""
        self.clock.set(moment)
        return await self.drain()
