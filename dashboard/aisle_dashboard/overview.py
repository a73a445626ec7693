"""What the overview page shows: each journey with its status, enrollment counts and
failures, as :class:`~aisle.services.stats.JourneyStatistics` counts them for the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aisle.services.stats import JourneySummary

__all__ = ["JourneyRow", "journey_rows"]


@dataclass(frozen=True)
class JourneyRow:
    id: str
    name: str
    status: str
    version: int | None
    active: int
    completed: int
    total: int
    completed_with_failures: int
    """Of the completed, those with a dead action run: they did not do everything."""
    failed_actions: int


def journey_rows(summaries: Iterable[JourneySummary]) -> list[JourneyRow]:
    """One row per journey, in the order given (the service's: by name)."""
    return [
        JourneyRow(
            id=s.id,
            name=s.name,
            status=s.status,
            version=s.version,
            active=s.outcomes.enrollments["active"],
            completed=s.outcomes.enrollments["completed"],
            total=sum(s.outcomes.enrollments.values()),
            completed_with_failures=s.outcomes.with_failed_actions["completed"],
            failed_actions=s.outcomes.failed_actions,
        )
        for s in summaries
    ]
