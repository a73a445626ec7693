"""A journey's statistics: enrollments by status and, per step, where clients are and how
its actions went, failures included.

A ``completed`` count alone reads as success; these statistics also count the
enrollments that completed with dead action runs, and every step's dead runs with the
latest error, so no client of the API can mistake a failure for success.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from aisle.api.deps import Call
from aisle.api.routes.enrollments import FailedActionsOut, failed_actions_out
from aisle.services.stats import ENROLLMENT_STATUSES, RUN_STATUSES, JourneyStatistics, zeros

__all__ = ["JourneyStatsController"]


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


class JourneyStatsController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["journeys"]

    @get("/stats", summary="Enrollments and action outcomes per step, failures included")
    async def journey_stats(self, call: Call, journey_id: FromPath[str]) -> JourneyStatsOut:
        stats = await JourneyStatistics(call.scope).journey(journey_id)
        graph = stats.graph
        step_ids: list[str | None] = [s.id for s in graph.steps]
        for step_id in [k[1] for k in stats.enrollments_by_step] + [
            k[0] for k in stats.runs_by_step
        ]:
            if step_id not in step_ids:
                step_ids.append(step_id)
        steps = {
            step_id: StepStatsOut(
                step_id=step_id,
                label=(found.label if (found := graph.step(step_id)) else "") if step_id else "",
                enrollments=zeros(ENROLLMENT_STATUSES),
                actions=zeros(RUN_STATUSES),
                failed_actions=failed_actions_out(stats.failures_by_step.get(step_id)),
            )
            for step_id in step_ids
        }
        for (_version, step_id, status), n in stats.enrollments_by_step.items():
            steps[step_id].enrollments[status] = steps[step_id].enrollments.get(status, 0) + n
        for (step_id, status), n in stats.runs_by_step.items():
            steps[step_id].actions[status] = n
        outcomes = stats.outcomes
        return JourneyStatsOut(
            journey_id=stats.journey.id,
            generated_at=call.store.clock.now(),
            enrollments=outcomes.enrollments,
            with_failed_actions=outcomes.with_failed_actions,
            failed_actions=outcomes.failed_actions,
            steps=list(steps.values()),
        )
