"""What admins do to action runs by hand: retry a dead one, cancel one. Both logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisle.contracts.log import LogKind
from aisle.domain.action_run import ActionRun
from aisle.storage.automation_log import run_refs

if TYPE_CHECKING:
    from aisle.runtime.service import Runtime

__all__ = ["cancel_run", "retry_run"]


async def retry_run(
    runtime: Runtime, org_id: str, run_id: str, *, actor: str = "system"
) -> ActionRun:
    """Queue a dead (or cancelled) run again now, with a fresh set of attempts."""
    scope = runtime.for_org(org_id)
    run = await scope.action_runs.get(run_id)
    executor = runtime.registry.action_executors.get(run.executor)
    budget = executor.max_attempts if executor is not None else 1
    async with runtime.store.transaction():
        run = await scope.action_runs.reschedule(run_id, max_attempts=run.attempts + budget)
        await scope.log.append(
            LogKind.ACTION_RETRIED,
            message=f"{run.executor} queued again by {actor} (up to {budget} more attempts)",
            actor=actor,
            **run_refs(run),
        )
    if runtime.on_work is not None:
        runtime.on_work()
    return run


async def cancel_run(
    runtime: Runtime, org_id: str, run_id: str, *, actor: str = "system"
) -> ActionRun:
    """Cancel a run that has not finished (an attempt in flight has its result discarded)."""
    scope = runtime.for_org(org_id)
    async with runtime.store.transaction():
        run = await scope.action_runs.cancel(run_id)
        await scope.log.append(
            LogKind.ACTION_CANCELLED,
            message=f"{run.executor} cancelled by {actor}",
            actor=actor,
            **run_refs(run),
        )
    return run
