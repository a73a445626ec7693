"""Embedded mode: the jobs loop inside the serving process, woken by new work."""

from __future__ import annotations

import asyncio
from typing import Any

from aisle.jobs import EmbeddedJobs
from aisle.runtime import Runtime


async def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        assert loop.time() < deadline, "the embedded jobs did not get there in time"
        await asyncio.sleep(0.02)


async def test_embedded_jobs_execute_new_runs_and_stop_cleanly(
    runtime: Runtime, recorder: Any
) -> None:
    org = await runtime.store.organizations.create(slug="s", name="S")
    scope = runtime.scope(org.id)
    jobs = EmbeddedJobs(runtime)
    await jobs.start()
    try:
        assert runtime.on_work == jobs.notify
        run, _ = await scope.action_runs.create(executor="webhook", config={}, idempotency_key="a")
        jobs.notify()

        async def succeeded() -> bool:
            return (await scope.action_runs.get(run.id)).status == "succeeded"

        await _wait_for(succeeded)
        assert recorder.keys("webhook") == ["a"]
    finally:
        await jobs.stop()
    # Stopped: new work waits for the next start.
    late, _ = await scope.action_runs.create(executor="webhook", config={}, idempotency_key="b")
    await asyncio.sleep(0.2)
    assert (await scope.action_runs.get(late.id)).status == "pending"
    await jobs.start()
    try:

        async def late_done() -> bool:
            return (await scope.action_runs.get(late.id)).status == "succeeded"

        await _wait_for(late_done)
    finally:
        await jobs.stop()
