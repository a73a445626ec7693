"""What the overview page shows: each journey with its status and enrollment counts."""

from __future__ import annotations

from dataclasses import dataclass

from aisle.storage.store import OrgScope

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


async def journey_rows(scope: OrgScope) -> list[JourneyRow]:
    """Every journey of the organization, by name, with enrollments counted by status."""
    rows = []
    for journey in await scope.journeys.list():
        by_status: dict[str, int] = {}
        for (_, _, status), n in (await scope.enrollments.step_counts(journey.id)).items():
            by_status[status] = by_status.get(status, 0) + n
        rows.append(
            JourneyRow(
                id=journey.id,
                name=journey.name,
                status=journey.status,
                version=journey.live_version,
                active=by_status.get("active", 0),
                completed=by_status.get("completed", 0),
                total=sum(by_status.values()),
            )
        )
    return sorted(rows, key=lambda r: r.name.casefold())
