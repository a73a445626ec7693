"""The crm_sync job in the embedded default: a scheduler pass's sweeper runs due syncs."""

from __future__ import annotations

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.jobs.crm_sync import SWEEPER_NAME, crm_sync_jobs
from aisle.storage.store import OrgScope
from aisle.testing import FakeCRMServer
from tests.crm.conftest import ADMIN, credentials
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
