"""``aisle scheduler`` + ``aisle worker`` as real processes on Redis: a queued action run
is relayed, executed and marked succeeded; both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from aisle.contracts.registry import Registry
from aisle.domain import Contact, Graph, JourneySettings, Step
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store

from .processes import AISLE, clean_env, run_aisle

pytestmark = [pytest.mark.slow, pytest.mark.redis]

TO_DO = Graph(
    steps=(
        Step(
            id="shot_list",
            type="vendor_action",
            label="Prepare the shot list",
            config={"vendor_type": "photographer", "title": "Prepare the shot list"},
        ),
    ),
    settings=JourneySettings(start_step="shot_list"),
)


async def test_worker_and_scheduler_need_redis(tmp_path: Path) -> None:
    for name in ("worker", "scheduler"):
        ran = await run_aisle(name, "--data-dir", str(tmp_path), env=clean_env())
        assert ran.returncode == 2
        assert f"aisle {name} needs AISLE_REDIS_URL" in ran.stderr


async def test_a_queued_run_goes_through_scheduler_redis_and_worker(
    store: Store,
    registry: Registry,
    settings: Settings,
    redis_url: str,
    redis_namespace: str,
    tmp_path: Path,
) -> None:
    org = await store.organizations.create(slug="procs", name="Processes")
    scope = store.for_org(org)
    journey = await scope.journeys.create(name="To-do", draft=TO_DO)
    await scope.journeys.publish(journey.id, TO_DO)
    runtime = Runtime(store, registry, settings)
    contact = await runtime.create_contact(org.id, Contact(email="couple@example.com"))
    enrollment = await runtime.enroll(org.id, contact_id=contact.id, journey_id=journey.id)
    (run,) = await scope.action_runs.list(enrollment_id=enrollment.id)
    assert (run.executor, run.status) == ("task", "pending")

    env = clean_env(
        AISLE_DATABASE_URL=store.db.url,
        AISLE_REDIS_URL=redis_url,
        AISLE_SECRET_KEY=settings.secret_key,
        AISLE_DATA_DIR=str(tmp_path),
        AISLE_POLL_INTERVAL_SECONDS="0.1",
        AISLE_QUEUE_NAMESPACE=redis_namespace,
        AISLE_WORKER_THREADS="2",
    )
    processes = [
        await asyncio.create_subprocess_exec(
            AISLE,
            name,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("worker", "scheduler")
    ]
    try:
        async with asyncio.timeout(60):
            while (await scope.action_runs.get(run.id)).status != "succeeded":
                assert all(p.returncode is None for p in processes), "a process died"
                await asyncio.sleep(0.2)
        (task,) = await scope.tasks.list(contact_id=contact.id)
        assert task.title == "Prepare the shot list"
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in processes:
            async with asyncio.timeout(30):
                _, err = await process.communicate()
            codes.append((process.returncode, err.decode()[-2000:]))
    assert [code for code, _ in codes] == [0, 0], codes
