"""The ``crm_sync`` job: CRM sync runs executed in-process (embedded default) or by a
dramatiq actor (production), swept and dispatched by every scheduler pass.

:func:`crm_sync_jobs` puts the CRM sweeper on a runtime for as long as it is entered:
each scheduler pass takes back runs whose worker died, queues due scheduled syncs and
hands queued runs out: to ``dispatch`` (the actor's ``send``) when given, else to
asyncio tasks of this process. :func:`declare_crm_actor` declares the actor a worker
executes and the scheduler sends to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from aisle.crm.deps import CRMDeps
from aisle.crm.runs import Dispatch, dispatch_queued, execute_sync_run, sweep_sync_runs
from aisle.runtime.service import Runtime
from aisle.storage.store import Store

__all__ = ["CRM_ACTOR_NAME", "CRM_QUEUE_NAME", "SWEEPER_NAME", "crm_sync_jobs", "declare_crm_actor"]

log = logging.getLogger(__name__)

CRM_ACTOR_NAME = "crm_sync"
CRM_QUEUE_NAME = "aisle_crm"
SWEEPER_NAME = "crm_sync"
_ONE_DAY_MS = 24 * 3600 * 1000


def declare_crm_actor(
    broker: RedisBroker, handler: Callable[[str, str], Awaitable[None]]
) -> dramatiq.Actor[Any, Any]:
    """Declare ``crm_sync(org_id, run_id)`` on ``broker``, calling ``handler``.

    No dramatiq retries: a run whose worker died is found by its stale heartbeat and
    requeued by the sweeper, which resumes it from its stored position.
    """

    async def crm_sync(org_id: str, run_id: str) -> None:
        await handler(org_id, run_id)

    decorate = dramatiq.actor(
        broker=broker,
        actor_name=CRM_ACTOR_NAME,
        queue_name=CRM_QUEUE_NAME,
        max_retries=0,
        time_limit=_ONE_DAY_MS,
    )
    actor: dramatiq.Actor[Any, Any] = decorate(crm_sync)
    return actor


@contextlib.asynccontextmanager
async def crm_sync_jobs(
    runtime: Runtime,
    *,
    worker: str,
    dispatch: Dispatch | None = None,
    deps: CRMDeps | None = None,
    grace: float = 10.0,
) -> AsyncIterator[CRMDeps]:
    """Sweep and dispatch CRM sync runs on every scheduler pass of ``runtime`` while
    entered; without ``dispatch`` runs execute as tasks here (stopped after ``grace``
    seconds on exit, to be resumed from their stored position)."""
    deps = deps or CRMDeps.of(runtime)
    running: set[asyncio.Task[Any]] = set()

    def in_process(org_id: str, run_id: str) -> None:
        task = asyncio.create_task(
            execute_sync_run(deps, org_id, run_id, worker=worker), name=f"aisle-crm-{run_id}"
        )
        running.add(task)
        task.add_done_callback(running.discard)

    async def sweeper(store: Store) -> int:
        del store  # the deps carry the same store
        swept = await sweep_sync_runs(deps)
        handed = await dispatch_queued(
            deps, dispatch or in_process, redispatch_after=deps.lease_seconds
        )
        return swept + handed

    runtime.sweepers[SWEEPER_NAME] = sweeper
    try:
        yield deps
    finally:
        runtime.sweepers.pop(SWEEPER_NAME, None)
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
