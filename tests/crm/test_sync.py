"""The pull engine as a job: first and second syncs, 429s, bad records, held dates,
cancel and a lost worker, against FakeCRMServer over a real socket."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from aisle.clock import TestClock
from aisle.crm import CRMDeps
from aisle.crm.held import HeldChanges
from aisle.crm.runs import SyncRuns, dispatch_queued, execute_sync_run, sweep_sync_runs
from aisle.domain.crm_connection import CRMConnection
from aisle.services.errors import Refused
from aisle.storage.crm import SyncRunRepository
from aisle.storage.store import OrgScope
from aisle.testing import FakeCRMServer
from tests.crm.conftest import ADMIN, Sleeps
from tests.crm.synccrm import API_KEY


def couples(n: int) -> list[dict[str, object]]:
    return [
        {
            "email": f"couple{i}@example.com",
            "first_name": f"Ada{i}",
            "last_name": "Lovelace",
            "phone": "07911 123456" if i % 2 else "+44 20 7946 0000",
            "lead_source": "instagram",
        }
        for i in range(n)
    ]


async def sync(deps: CRMDeps, scope: OrgScope, connection: CRMConnection) -> object:
    run, _ = await SyncRuns(deps, scope, ADMIN).request(connection.id)
    done = await execute_sync_run(deps, scope.org_id, run.id, worker="w1")
    assert done is not None
    return done


async def test_first_sync_then_only_changes(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection, fake: FakeCRMServer
) -> None:
    ids = fake.seed("contacts", couples(1000))
    fake.seed("jobs", [{"client_ids": [ids[0]], "eventDate": "2026-09-12", "venue": "Kew"}])

    first = await sync(deps, studio, connection)

    assert first.status == "succeeded", first.errors[:3]
    assert first.counts == {"created": 1000, "updated": 1, "unchanged": 0, "held": 0, "failed": 0}
    assert first.seen == 1001 and first.phase == "done"
    assert await studio.contacts.count() == 1000
    assert len(await deps.store.system.pending_events(older_than=0, limit=2000)) == 1000
    ada = await studio.contacts.by_external_id("synccrm", ids[0])
    assert ada is not None
    assert (ada.wedding_date, ada.venue, ada.phone) == (date(2026, 9, 12), "Kew", "+442079460000")
    assert ada.partners[0].first_name == "Ada0"
    assert ada.custom == {"lead_source": "instagram"}

    fake.seed(
        "contacts", couples(1)
    )  # one more couple (same email as couple0: adopted? no: new id)
    with fake.lock:
        fake._records["contacts"][ids[5]]["first_name"] = "Bea"
    second = await sync(deps, studio, connection)
    assert second.counts["updated"] == 1
    assert second.counts["unchanged"] == 1001  # 999 couples, the job, couple0's new id
    assert second.counts["created"] == 0  # the new record's email is couple0's: linked to it
    bea = await studio.contacts.by_external_id("synccrm", ids[5])
    assert bea is not None and bea.partners[0].first_name == "Bea"


async def test_429_is_waited_out_and_a_bad_record_fails_alone(
    deps: CRMDeps,
    studio: OrgScope,
    connection: CRMConnection,
    fake: FakeCRMServer,
    sleeps: Sleeps,
) -> None:
    fake.seed("contacts", [*couples(3), {"email": "not an address", "first_name": "X"}])
    fake.rate_limit(times=2, retry_after=7)

    run = await sync(deps, studio, connection)

    assert sleeps.waits == [7.0, 7.0]
    assert run.status == "partial"
    assert run.counts["created"] == 3 and run.counts["failed"] == 1
    (error,) = run.errors
    assert error["field"] == "email" and error["kind"] == "contacts"
    assert "not an email address" in error["reason"]
    history = await SyncRuns(deps, studio, ADMIN).history(connection_id=connection.id)
    assert [r.id for r in history] == [run.id]


async def test_a_wedding_date_change_is_held_then_confirmed_or_rejected(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection, fake: FakeCRMServer
) -> None:
    ids = fake.seed("contacts", couples(2))
    jobs = fake.seed(
        "jobs",
        [
            {"client_ids": [ids[0]], "eventDate": "2026-09-12"},
            {"client_ids": [ids[1]], "eventDate": "2026-10-01"},
        ],
    )
    await sync(deps, studio, connection)
    with fake.lock:
        fake._records["jobs"][jobs[0]]["eventDate"] = "2026-09-19"
        fake._records["jobs"][jobs[1]]["eventDate"] = "2026-10-08"

    run = await sync(deps, studio, connection)

    assert run.counts["held"] == 2
    held = HeldChanges(deps, studio, ADMIN)
    first, second = sorted(await held.list(), key=lambda h: h.new)
    assert (first.field, first.old, first.new) == ("wedding_date", "2026-09-12", "2026-09-19")
    assert "protected" in first.reason
    await held.confirm(first.id)
    await held.reject(second.id)
    a = await studio.contacts.get(first.contact_id)
    b = await studio.contacts.get(second.contact_id)
    assert (a.wedding_date, b.wedding_date) == (date(2026, 9, 19), date(2026, 10, 1))
    with pytest.raises(Refused):
        await held.confirm(second.id)
    again = await sync(deps, studio, connection)
    assert again.counts["held"] == 0  # a rejected change is not held again


async def test_cancel_stops_between_pages(
    deps: CRMDeps,
    studio: OrgScope,
    connection: CRMConnection,
    fake: FakeCRMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.seed("contacts", couples(250))
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    real = SyncRunRepository.progress

    async def cancel_after_first_page(self: SyncRunRepository, run_id: str, **kwargs: Any) -> bool:
        await self.request_cancel(run_id)
        return await real(self, run_id, **kwargs)

    monkeypatch.setattr(SyncRunRepository, "progress", cancel_after_first_page)
    done = await execute_sync_run(deps, studio.org_id, run.id, worker="w1")
    assert done is not None and done.status == "cancelled"
    assert done.counts["created"] == 100


async def test_a_lost_worker_is_resumed_then_failed(
    deps: CRMDeps,
    studio: OrgScope,
    connection: CRMConnection,
    fake: FakeCRMServer,
    clock: TestClock,
) -> None:
    fake.seed("contacts", couples(150))
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    claimed = await studio.sync_runs.claim(run.id, worker="dead")
    assert claimed is not None
    clock.advance(timedelta(seconds=deps.lease_seconds + 1))

    assert await sweep_sync_runs(deps) == 1
    assert (await studio.sync_runs.get(run.id)).status == "queued"
    handed: list[tuple[str, str]] = []
    assert await dispatch_queued(deps, lambda o, r: handed.append((o, r))) == 1
    assert handed == [(studio.org_id, run.id)]
    done = await execute_sync_run(deps, studio.org_id, run.id, worker="w2")
    assert done is not None and done.status == "succeeded" and done.counts["created"] == 150

    stuck, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    for _ in range(deps.max_resumes):
        assert await studio.sync_runs.claim(stuck.id, worker="dead") is not None
        clock.advance(timedelta(seconds=deps.lease_seconds + 1))
        await sweep_sync_runs(deps)
    final = await studio.sync_runs.get(stuck.id)
    assert final.status == "failed"
    assert "stopped answering" in final.errors[-1]["reason"]


async def test_credentials_are_never_in_clear(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection
) -> None:
    stored = await studio.crm_connections.credentials(connection.id)
    assert API_KEY not in stored
    assert API_KEY not in repr(connection) and API_KEY not in str(connection.settings)
    rows = await deps.store.db.execute("SELECT * FROM crm_connections")
    assert API_KEY not in str(rows)
