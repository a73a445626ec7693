"""The ``crm_sync`` actor in production: ``aisle scheduler`` sends a requested sync through
Redis to an ``aisle worker`` process that runs it; a worker SIGKILLed mid-run leaves its
run to the scheduler's sweeper, which requeues it and a new worker resumes it from its
stored position (real Redis, real worker processes, the fake CRM on a real socket)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aisle.clock import SystemClock
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.deps import LEASE_SETTING
from aisle.crm.runs import SyncRuns
from aisle.jobs import run_scheduler_async
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle.testing import FakeCRMServer, ReceivedRequest, Reply
from tests.crm.conftest import ADMIN, credentials, over, until
from tests.crm.synccrm import API_KEY
from tests.crm.test_sync import couples

# Production runs PostgreSQL with Redis: several processes writing one SQLite file is
# the embedded default's case, where runs stay in-process.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.parametrize("db", ["postgres"], indirect=True),
]

ROOT = Path(__file__).parents[2]
WORKER = Path(__file__).with_name("sync_worker.py")
COUPLES = 300
PAGE = 10
LEASE_SECONDS = 2.0


class SlowCRM(FakeCRMServer):
    """Lists a page in ``delay`` seconds, so a run is long enough to be killed in."""

    delay = 0.2

    def respond(self, request: ReceivedRequest) -> Reply:
        if request.method == "GET":
            time.sleep(self.delay)
        return super().respond(request)


@pytest.fixture
def slow_fake() -> Iterator[SlowCRM]:
    with SlowCRM(api_key=API_KEY, page_size=PAGE) as server:
        yield server


@pytest.fixture
def process_settings(settings: Settings, redis_url: str, redis_namespace: str) -> Settings:
    return settings.with_changes(
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        poll_interval_seconds=0.1,
        broker_heartbeat_seconds=2.0,
        environ={LEASE_SETTING: str(LEASE_SECONDS)},
    )


@pytest.fixture
async def live(
    store: Store, crm_registry: Registry, process_settings: Settings
) -> tuple[CRMDeps, OrgScope]:
    """The deps and a studio on the real clock the processes share."""
    runtime = Runtime(Store(store.db, SystemClock()), crm_registry, process_settings)
    org = await runtime.store.organizations.create(
        slug="procs", name="Processes", settings={"country": "GB"}
    )
    return CRMDeps.of(runtime), runtime.for_org(org.id)


@pytest.fixture
async def scheduler(process_settings: Settings, crm_registry: Registry) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_scheduler_async(process_settings, registry=crm_registry, stop=stop)
    )
    try:
        yield
    finally:
        stop.set()
        await task


async def _worker(settings: Settings) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AISLE_")},
        "PYTHONPATH": str(ROOT),
        "AISLE_DATABASE_URL": settings.database_url,
        "AISLE_REDIS_URL": settings.redis_url or "",
        "AISLE_SECRET_KEY": settings.secret_key,
        "AISLE_DATA_DIR": settings.data_dir,
        "AISLE_QUEUE_NAMESPACE": settings.queue_namespace,
        "AISLE_BROKER_HEARTBEAT_SECONDS": str(settings.broker_heartbeat_seconds),
        "AISLE_WORKER_THREADS": "2",
        "AISLE_HTTP_ALLOW": "127.0.0.1/32",
        LEASE_SETTING: str(LEASE_SECONDS),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _stop(*processes: asyncio.subprocess.Process | None) -> list[int | None]:
    for process in processes:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
            codes.append(process.returncode)
    return codes


async def test_the_scheduler_sends_a_sync_to_a_worker_process(
    live: tuple[CRMDeps, OrgScope],
    scheduler: None,
    process_settings: Settings,
    slow_fake: SlowCRM,
) -> None:
    deps, studio = live
    slow_fake.delay = 0.0
    slow_fake.seed("contacts", couples(50))
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="synccrm", name="Main", credentials=credentials(slow_fake)
    )
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    worker = await _worker(process_settings)
    try:
        run = await until(over, studio, run.id, 60)
    finally:
        codes = await _stop(worker)
    assert (run.status, run.counts["created"], run.attempts) == ("succeeded", 50, 1)
    assert run.worker is not None and run.worker != "scheduler"
    assert codes == [0]


async def test_a_sigkilled_workers_sync_is_resumed_not_left_running(
    live: tuple[CRMDeps, OrgScope],
    scheduler: None,
    process_settings: Settings,
    slow_fake: SlowCRM,
) -> None:
    deps, studio = live
    slow_fake.seed("contacts", couples(COUPLES))
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="synccrm", name="Main", credentials=credentials(slow_fake)
    )
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    first = await _worker(process_settings)
    second = None
    try:
        await until(lambda r: r.seen >= 5 * PAGE, studio, run.id, 60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed = await studio.sync_runs.get(run.id)
        assert killed.status == "running" and 0 < killed.seen < COUPLES

        # The lease runs out; the sweeper puts the run back in the queue.
        await until(lambda r: r.status != "running", studio, run.id, 30)
        second = await _worker(process_settings)
        run = await until(over, studio, run.id, 90)
    finally:
        await _stop(first, second)

    assert run.status == "succeeded"
    assert run.attempts == 2
    assert run.worker != killed.worker
    assert await studio.contacts.count() == COUPLES  # nobody created twice
    # Resumed where the dead worker's last page left it, not from the start: only the
    # page in flight at the kill may be listed again.
    listed = [r.query.get("page") for r in slow_fake.requests if r.path == "/contacts"]
    assert len(listed) <= COUPLES // PAGE + 2, listed
    assert run.counts["created"] + run.counts["unchanged"] == COUPLES
    (lost,) = await studio.log.list(kind=LogKind.CRM_SYNC_LOST)
    assert "requeued to resume" in lost.message
