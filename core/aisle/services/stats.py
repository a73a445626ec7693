"""What a journey's enrollments and actions came to, failures included: the API's
``GET /journeys/{id}/stats`` and the dashboard's overview read the same counts.

A ``completed`` count alone reads as success; these counts also give the enrollments
that completed with dead action runs, and the dead runs themselves, so no reader can
mistake a failure for success.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from aisle.domain.action_run import ActionRunStatus
from aisle.domain.enrollment import EnrollmentStatus
from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey
from aisle.storage.action_runs import Failures
from aisle.storage.store import OrgScope

__all__ = [
    "ENROLLMENT_STATUSES",
    "RUN_STATUSES",
    "JourneyStatistics",
    "JourneyStats",
    "JourneySummary",
    "Outcomes",
    "RunsOnDay",
    "StudioFigures",
    "zeros",
]

ENROLLMENT_STATUSES: tuple[str, ...] = get_args(EnrollmentStatus)
RUN_STATUSES: tuple[str, ...] = tuple(ActionRunStatus)


def zeros(statuses: tuple[str, ...]) -> dict[str, int]:
    """Every status counted at 0, so a reader sees the statuses nothing reached."""
    return dict.fromkeys(statuses, 0)


@dataclass(frozen=True, kw_only=True)
class Outcomes:
    """A journey's enrollments by status (every status present) and its failures."""

    enrollments: dict[str, int]
    with_failed_actions: dict[str, int]
    """Of those, the enrollments with at least one dead action run, by status."""
    failed_actions: int
    """Dead action runs (out of attempts or a permanent error) in all."""


@dataclass(frozen=True, kw_only=True)
class JourneyStats:
    """One journey's outcomes and what they are made of, step by step."""

    journey: Journey
    graph: Graph
    """The live version's graph (the draft while nothing is published)."""
    outcomes: Outcomes
    enrollments_by_step: dict[tuple[int, str | None, str], int]
    """Enrollments per (version, current or last step, status)."""
    runs_by_step: dict[tuple[str | None, str], int]
    """Action runs per (step, status)."""
    failures_by_step: dict[str | None, Failures]


@dataclass(frozen=True, kw_only=True)
class JourneySummary:
    """A line of the overview: a journey, its published version and its outcomes."""

    id: str
    name: str
    status: str
    version: int | None
    outcomes: Outcomes


@dataclass(frozen=True, kw_only=True)
class StudioFigures:
    """What a studio's day looks like now."""

    live_journeys: int
    couples_in_flight: int
    """Couples with at least one active enrollment."""
    actions_due_today: int
    """Action runs due before the end of the local day (overdue ones included)."""
    failures_last_day: int
    """Action runs that went dead in the last 24 hours."""


@dataclass(frozen=True)
class RunsOnDay:
    """One local day's finished action runs: ``sent`` succeeded, ``failed`` went dead."""

    day: date
    sent: int = 0
    failed: int = 0


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


class JourneyStatistics:
    """Read-only counts over one organization's journeys."""

    def __init__(self, scope: OrgScope) -> None:
        self.scope = scope

    async def journey(self, journey_id: str) -> JourneyStats:
        """One journey's statistics (``NotFound`` when the organization has no such one)."""
        scope = self.scope
        journey = await scope.journeys.get(journey_id)
        graph: Graph = journey.draft
        if journey.live_version is not None:
            graph = (await scope.journeys.version(journey.id, journey.live_version)).graph
        by_step = await scope.enrollments.step_counts(journey.id)
        failures = await scope.action_runs.failures_by_step(journey.id)
        return JourneyStats(
            journey=journey,
            graph=graph,
            outcomes=await self._outcomes(journey.id, by_step, failures),
            enrollments_by_step=by_step,
            runs_by_step=await scope.action_runs.step_counts(journey.id),
            failures_by_step=failures,
        )

    async def summaries(self) -> list[JourneySummary]:
        """Every journey of the organization with its outcomes, by name: three grouped
        queries however many journeys there are, run at once (each reads the whole
        studio, so the page waits for the slowest rather than for their sum)."""
        scope = self.scope
        journeys, counts, with_failed, dead = await asyncio.gather(
            scope.journeys.list(),
            scope.enrollments.journey_counts(),
            scope.enrollments.with_dead_runs_by_journey(),
            scope.action_runs.dead_by_journey(),
        )
        summaries = []
        for journey in journeys:
            totals, failing = zeros(ENROLLMENT_STATUSES), zeros(ENROLLMENT_STATUSES)
            for status in ENROLLMENT_STATUSES:
                totals[status] = counts.get((journey.id, status), 0)
                failing[status] = with_failed.get((journey.id, status), 0)
            summaries.append(
                JourneySummary(
                    id=journey.id,
                    name=journey.name,
                    status=journey.status,
                    version=journey.live_version,
                    outcomes=Outcomes(
                        enrollments=totals,
                        with_failed_actions=failing,
                        failed_actions=dead.get(journey.id, 0),
                    ),
                )
            )
        return sorted(summaries, key=lambda s: s.name.casefold())

    async def figures(self, timezone: str, *, now: datetime | None = None) -> StudioFigures:
        """The overview's headline numbers, ``today`` being the local day in ``timezone``
        (the studio's)."""
        scope = self.scope
        now = now or scope.action_runs.clock.now()
        zone = ZoneInfo(timezone)
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        # Independent counts over the whole studio: asked at once.
        journeys, in_flight, due, failures = await asyncio.gather(
            scope.journeys.list(),
            scope.enrollments.couples_active(),
            scope.action_runs.due_before(_midnight(tomorrow, zone)),
            scope.action_runs.dead_since(now - timedelta(hours=24)),
        )
        return StudioFigures(
            live_journeys=sum(1 for j in journeys if j.status == "live"),
            couples_in_flight=in_flight,
            actions_due_today=due,
            failures_last_day=failures,
        )

    async def at_each_step(self, journey_id: str) -> dict[str, int]:
        """Couples at each step of a journey now (active enrollments, every version), by
        step id; steps nobody is at are absent."""
        counts: dict[str, int] = {}
        for (_version, step_id, status), n in (
            await self.scope.enrollments.step_counts(journey_id)
        ).items():
            if status == "active" and step_id is not None:
                counts[step_id] = counts.get(step_id, 0) + n
        return counts

    async def runs_per_day(
        self, timezone: str, *, days: int = 14, now: datetime | None = None
    ) -> list[RunsOnDay]:
        """Action runs finished on each of the last ``days`` local days in ``timezone``
        (the studio's), today included, oldest first; every day present."""
        zone = ZoneInfo(timezone)
        today = (now or self.scope.action_runs.clock.now()).astimezone(zone).date()
        first = today - timedelta(days=days - 1)
        calendar = [first + timedelta(days=i) for i in range(days)]
        # Local midnights, so a day is 23 or 25 hours long across a DST change.
        bounds = [_midnight(d, zone) for d in [*calendar, today + timedelta(days=1)]]
        found = await self.scope.action_runs.finished_by_period(bounds)
        return [
            RunsOnDay(
                day=day,
                sent=found.get((i, ActionRunStatus.SUCCEEDED), 0),
                failed=found.get((i, ActionRunStatus.DEAD), 0),
            )
            for i, day in enumerate(calendar)
        ]

    async def _outcomes(
        self,
        journey_id: str,
        by_step: dict[tuple[int, str | None, str], int],
        failures: dict[str | None, Failures],
    ) -> Outcomes:
        totals = zeros(ENROLLMENT_STATUSES)
        for (_version, _step_id, status), n in by_step.items():
            totals[status] = totals.get(status, 0) + n
        with_failed = await self.scope.enrollments.with_dead_runs(journey_id)
        return Outcomes(
            enrollments=totals,
            with_failed_actions={**zeros(ENROLLMENT_STATUSES), **with_failed},
            failed_actions=sum(f.count for f in failures.values()),
        )
