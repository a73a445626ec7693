"""Writing one engine transition: enrollment state, outbox rows and log lines together.

Callers hold a transaction (``store.transaction()``); everything here joins it, so a
transition is stored entirely or not at all.
"""

from __future__ import annotations

from typing import Any

from aisle import metrics
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.domain.enrollment_record import Enrollment
from aisle.engine.effects import Transition
from aisle.storage.store import OrgScope

__all__ = ["write_transition"]


async def write_transition(
    scope: OrgScope,
    transition: Transition,
    *,
    contact_id: str,
    journey_id: str,
    version: int,
    registry: Registry,
    new: bool = False,
    event_id: str | None = None,
    actor: str = "system",
) -> Enrollment | None:
    """Persist ``transition`` for an enrollment (``new``: create the enrollment row).

    Returns the created enrollment when ``new``; action runs whose idempotency key
    already exists (a replayed visit) are not queued again.
    """
    state = transition.state
    metrics.TRANSITIONS.labels("start" if new else "step").inc()
    created: Enrollment | None = None
    if new:
        created = await scope.enrollments.create(
            contact_id=contact_id, journey_id=journey_id, version=version, state=state
        )
    else:
        await scope.enrollments.save(state)
    log: list[dict[str, Any]] = []
    for action in transition.actions:
        executor = registry.action_executors.get(action.executor)
        run, queued = await scope.action_runs.create(
            executor=action.executor,
            config=dict(action.config),
            idempotency_key=action.idempotency_key,
            max_attempts=executor.max_attempts if executor is not None else 1,
            not_before=action.not_before,
            contact_id=contact_id,
            enrollment_id=state.enrollment_id,
            journey_id=journey_id,
            journey_version=version,
            step_id=action.step_id,
        )
        if queued:
            log.append(
                dict(
                    kind=LogKind.ACTION_QUEUED,
                    message=f"{action.executor} queued"
                    + ("" if executor is not None else " (no such executor installed)"),
                    action_run_id=run.id,
                    step_id=action.step_id,
                    data={"executor": action.executor, "idempotency_key": action.idempotency_key},
                )
            )
    refs = dict(
        contact_id=contact_id,
        enrollment_id=state.enrollment_id,
        journey_id=journey_id,
        journey_version=version,
        event_id=event_id,
        actor=actor,
    )
    entries = [
        dict(
            kind=record.kind,
            at=record.at,
            step_id=record.step_id,
            edge_id=record.edge_id,
            message=record.message,
            data=dict(record.data),
            **refs,
        )
        for record in transition.log
    ]
    entries += [{**refs, **entry} for entry in log]
    await scope.log.append_many(entries)
    return created
