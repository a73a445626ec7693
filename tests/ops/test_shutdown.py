"""SIGTERM to the process kinds: current work finishes within the grace, nothing stays
claimed, and a restart loses nothing (real processes, PostgreSQL or SQLite, Redis)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from aisle.jobs import run_scheduler_async
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage import Store
from tests.jobs.test_worker_sigkill import Receiver, _until, receiver

__all__ = ["receiver"]  # the fixture, imported to be used here

WORKER = Path(__file__).parents[1] / "jobs" / "probe_worker.py"


async def _worker(
    settings: Settings, url: str, *, probe: float, grace: float
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "AISLE_DATABASE_URL": settings.database_url,
        "AISLE_REDIS_URL": settings.redis_url or "",
        "AISLE_SECRET_KEY": settings.secret_key,
        "AISLE_DATA_DIR": settings.data_dir,
        "AISLE_QUEUE_NAMESPACE": settings.queue_namespace,
        "AISLE_WORKER_THREADS": "2",
        "AISLE_SHUTDOWN_GRACE_SECONDS": str(grace),
        "PROBE_URL": url,
        "PROBE_SECONDS": str(probe),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        # The probe worker with aisle's logging, so a failure shows how it stopped.
        "import aisle.logs, runpy; aisle.logs.configure(); "
        f"runpy.run_path({str(WORKER)!r}, run_name='__main__')",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _terminate(process: asyncio.subprocess.Process, limit: float) -> float:
    """SIGTERM ``process``; the seconds it took to exit (0 expected)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), limit)
    assert process.returncode == 0, err.decode()[-3000:]
    return time.monotonic() - started


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("grace", [10.0, 0.5], ids=["finishes", "gives-back"])
async def test_sigterm_to_a_worker_finishes_the_attempt_or_gives_its_claim_back(
    store: Store,
    settings: Settings,
    redis_url: str,
    redis_namespace: str,
    receiver: tuple[Receiver, str],
    grace: float,
) -> None:
    state, url = receiver
    settings = settings.with_changes(
        redis_url=redis_url, queue_namespace=redis_namespace, poll_interval_seconds=0.1
    )
    org = await store.organizations.create(slug="s", name="S")
    scope = store.for_org(org.id)
    run, _ = await scope.action_runs.create(
        executor="probe", config={}, idempotency_key="k", max_attempts=5
    )
    stop = asyncio.Event()
    scheduler = asyncio.create_task(
        run_scheduler_async(settings, registry=load_registry(entry_points=False), stop=stop)
    )
    worker = await _worker(settings, url, probe=2.0, grace=grace)
    again = None
    try:
        await _until(state.begins, 30, "the worker to begin the attempt")
        took = await _terminate(worker, 30)
        after = await scope.action_runs.get(run.id)
        if grace > 2.0:
            # The attempt under way finished before the worker exited: done once.
            assert took < grace
            assert after.status == "succeeded" and after.attempts == 1
            assert state.commits() == ["k"]
        else:
            # Cut short past the grace: the claim is given back at once, not left to expire.
            assert took < grace + 5
            assert after.status == "pending" and after.claimed_by is None, after
            assert after.attempts == 0
            assert state.commits() == []
            again = await _worker(settings, url, probe=0.1, grace=grace)

            async def succeeded() -> bool:
                done = await scope.action_runs.get(run.id)
                return done.status == "succeeded"

            await _until(succeeded, 30, "another worker to finish the run")
            assert state.applied == {"k": 1}
            assert not await scope.log.list(action_run_id=run.id, kind="action.lost")
        print(f"worker SIGTERM (grace {grace:g} s, attempt 2 s): exited in {took:.2f} s")
    finally:
        stop.set()
        await scheduler
        for process in (worker, again):
            if process is not None and process.returncode is None:
                await _terminate(process, 30)
    running = [r for r in await scope.action_runs.list(limit=100) if r.status == "running"]
    assert running == []


@pytest.mark.slow
@pytest.mark.redis
async def test_sigterm_to_a_scheduler_ends_its_pass_and_exits_promptly(
    settings: Settings, redis_url: str, redis_namespace: str
) -> None:
    env = {
        **os.environ,
        "AISLE_DATABASE_URL": settings.database_url,
        "AISLE_REDIS_URL": redis_url,
        "AISLE_SECRET_KEY": settings.secret_key,
        "AISLE_DATA_DIR": settings.data_dir,
        "AISLE_QUEUE_NAMESPACE": redis_namespace,
        "AISLE_SHUTDOWN_GRACE_SECONDS": "5",
    }
    aisle = str(Path(sys.executable).with_name("aisle"))
    process = await asyncio.create_subprocess_exec(
        aisle, "scheduler", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while b"aisle scheduler started" not in await process.stderr.readline():
            pass
    took = await _terminate(process, 10)
    assert took < 5
