"""Embedded mode: the jobs loop inside the serving process, woken by new work."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aisle.jobs import EmbeddedJobs, JobDeps
from aisle.runtime import Runtime
from aisle.storage.database import Database


async def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        assert loop.time() < deadline, "the embedded jobs did not get there in time"
        await asyncio.sleep(0.02)


async def _close_without_a_leak(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Close ``db`` as shutdown does; a connection the jobs kept makes the pool's graceful
    close time out (shortened here), which ``Database.close`` logs as a warning."""
    monkeypatch.setattr("aisle.storage.database.POOL_CLOSE_TIMEOUT", 2.0)
    with caplog.at_level(logging.WARNING, logger="aisle.storage.database"):
        await db.close()
    leaked = [r.getMessage() for r in caplog.records if r.name == "aisle.storage.database"]
    assert not leaked, f"a pool connection was still out after EmbeddedJobs.stop(): {leaked}"


async def test_embedded_jobs_execute_new_runs_and_stop_cleanly(
    runtime: Runtime,
    recorder: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await runtime.store.organizations.create(slug="s", name="S")
    scope = runtime.for_org(org.id)
    jobs = EmbeddedJobs(JobDeps.of(runtime))
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
    await _close_without_a_leak(runtime.store.db, caplog, monkeypatch)


@pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_stopping_during_a_pass_gives_every_pool_connection_back(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stop lands at a different point of the loop's pass each time (the scheduler
    # pass, the relay, a run being executed); stopping used to cancel the pass, and a
    # cancellation right after a transaction took its connection kept it for good.
    org = await runtime.store.organizations.create(slug="s", name="S")
    scope = runtime.for_org(org.id)
    for n in range(20):
        jobs = EmbeddedJobs(JobDeps.of(runtime))
        await jobs.start()
        await scope.action_runs.create(executor="webhook", config={}, idempotency_key=f"k{n}")
        jobs.notify()
        await asyncio.sleep(0.001 * (n % 5))
        await jobs.stop()
    await _close_without_a_leak(runtime.store.db, caplog, monkeypatch)
