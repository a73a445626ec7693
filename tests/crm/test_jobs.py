"""The crm_sync job in the embedded default: a scheduler pass's sweeper runs due syncs,
and ``aisle serve``'s embedded jobs run a requested sync."""

from __future__ import annotations

import pytest

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.runs import SyncRuns
from aisle.http import ALLOW_SETTING
from aisle.jobs import EmbeddedJobs, JobDeps
from aisle.jobs.crm_sync import SWEEPER_NAME, crm_sync_jobs
from aisle.runtime import Runtime
from aisle.storage.store import OrgScope
from aisle.testing import FakeCRMServer
from tests.crm.conftest import ADMIN, credentials, over, until
from tests.crm.test_sync import couples


async def test_a_scheduled_connection_syncs_in_process(
    deps: CRMDeps, studio: OrgScope, fake: FakeCRMServer
) -> None:
    fake.seed("contacts", couples(5))
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="synccrm", name="Nightly", credentials=credentials(fake), schedule_seconds=3600
    )
    runtime = deps.runtime
    async with crm_sync_jobs(runtime, worker="embedded", deps=deps):
        assert await runtime.sweepers[SWEEPER_NAME](runtime.store) == 2  # queued, handed out
    assert SWEEPER_NAME not in runtime.sweepers
    (run,) = await studio.sync_runs.list(connection_id=connection.id)
    assert (run.trigger, run.status, run.counts["created"]) == ("schedule", "succeeded", 5)
    after = await studio.crm_connections.get(connection.id)
    assert after.next_sync_at is not None and after.last_sync_at is not None
    assert after.next_sync_at > after.last_sync_at


async def test_embedded_jobs_run_a_requested_sync_to_completion(
    crm_runtime: Runtime, studio: OrgScope, fake: FakeCRMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aisle serve``'s jobs: a sync asked for through the service runs in-process at once."""
    monkeypatch.setenv(ALLOW_SETTING, "127.0.0.1/32")  # the fake listens on loopback
    fake.seed("contacts", couples(250))
    deps = CRMDeps.of(crm_runtime)
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="synccrm", name="Main", credentials=credentials(fake)
    )
    jobs = EmbeddedJobs(JobDeps.of(crm_runtime))
    await jobs.start()
    try:
        assert SWEEPER_NAME in crm_runtime.sweepers
        run, created = await SyncRuns(deps, studio, ADMIN).request(connection.id)
        assert created
        run = await until(over, studio, run.id, 30)
    finally:
        await jobs.stop()
    assert SWEEPER_NAME not in crm_runtime.sweepers
    assert (run.status, run.counts["created"], run.seen, run.total) == ("succeeded", 250, 250, 250)
    assert run.worker == jobs.worker
    assert len(await studio.contacts.list(limit=500)) == 250
