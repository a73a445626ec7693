"""A journey's statistics: enrollments by status and, per step, where clients are and how
its actions went, failures included.

A ``completed`` count alone reads as success; these statistics also count the
enrollments that completed with dead action runs, and every step's dead runs with the
latest error, so no client of the API can mistake a failure for success.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from aisle.api.deps import Call
from aisle.api.routes.enrollments import FailedActionsOut, failed_actions_out
from aisle.domain.action_run import ActionRunStatus
from aisle.domain.enrollment import EnrollmentStatus
from aisle.domain.journey import Graph

__all__ = ["JourneyStatsController"]

_ENROLLMENT_STATUSES: tuple[str, ...] = get_args(EnrollmentStatus)
_RUN_STATUSES: tuple[str, ...] = get_args(ActionRunStatus)


class StepStatsOut(msgspec.Struct, kw_only=True):
    step_id: str | None
    label: str
    enrollments: dict[str, int]
    """Enrollments whose current (or, once finished, last) step this is, by status."""
    actions: dict[str, int]
    """The step's action runs by status (``dead``: out of attempts or a permanent error)."""
    failed_actions: FailedActionsOut
    """The step's dead runs and the latest one's error."""


class JourneyStatsOut(msgspec.Struct, kw_only=True):
    journey_id: str
    generated_at: datetime
    enrollments: dict[str, int]
    """Enrollments by status, every status present."""
    with_failed_actions: dict[str, int]
    """Of those, the enrollments with at least one dead action run, by status: a
    ``completed`` enrollment counted here finished without doing everything it should."""
    failed_actions: int
    """Dead action runs of the journey in all."""
    steps: list[StepStatsOut]


def _zeros(statuses: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(statuses, 0)


class JourneyStatsController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["journeys"]

    @get("/stats", summary="Enrollments and action outcomes per step, failures included")
    async def journey_stats(self, call: Call, journey_id: FromPath[str]) -> JourneyStatsOut:
        journey = await call.scope.journeys.get(journey_id)
        graph: Graph = journey.draft
        if journey.live_version is not None:
            graph = (await call.scope.journeys.version(journey.id, journey.live_version)).graph
        enrollment_counts = await call.scope.enrollments.step_counts(journey.id)
        run_counts = await call.scope.action_runs.step_counts(journey.id)
        failures = await call.scope.action_runs.failures_by_step(journey.id)
        with_failed = await call.scope.enrollments.with_dead_runs(journey.id)

        step_ids: list[str | None] = [s.id for s in graph.steps]
        for step_id in [k[1] for k in enrollment_counts] + [k[0] for k in run_counts]:
            if step_id not in step_ids:
                step_ids.append(step_id)
        steps = {
            step_id: StepStatsOut(
                step_id=step_id,
                label=(found.label if (found := graph.step(step_id)) else "") if step_id else "",
                enrollments=_zeros(_ENROLLMENT_STATUSES),
                actions=_zeros(_RUN_STATUSES),
                failed_actions=failed_actions_out(failures.get(step_id)),
            )
            for step_id in step_ids
        }
        totals = _zeros(_ENROLLMENT_STATUSES)
        for (_version, step_id, status), n in enrollment_counts.items():
            steps[step_id].enrollments[status] = steps[step_id].enrollments.get(status, 0) + n
            totals[status] = totals.get(status, 0) + n
        for (step_id, status), n in run_counts.items():
            steps[step_id].actions[status] = n
        return JourneyStatsOut(
            journey_id=journey.id,
            generated_at=call.store.clock.now(),
            enrollments=totals,
            with_failed_actions={**_zeros(_ENROLLMENT_STATUSES), **with_failed},
            failed_actions=sum(f.count for f in failures.values()),
            steps=list(steps.values()),
        )
