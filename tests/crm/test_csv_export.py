"""CSV export: couples streamed as the CRM's file, with crm_update changes queued for it,
and read back by the import unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.csv_export import PENDING_EXECUTOR, CSVExports, pending_key
from aisle.crm.csv_import import CSVImports
from aisle.domain.contact import Contact, Partner
from aisle.domain.crm_connection import CRMConnection
from aisle.services.errors import Refused
from aisle.storage.store import OrgScope
from tests.crm.conftest import ADMIN


@pytest.fixture
async def files(deps: CRMDeps, studio: OrgScope) -> CRMConnection:
    return await ConnectionService(deps, studio, ADMIN).create(
        provider="studioninja", name="Files", credentials={}, direction="both"
    )


async def text_of(exports: CSVExports, connection_id: str, name: str, **kw: object) -> str:
    export = await exports.open(connection_id, name, **kw)  # type: ignore[arg-type]
    return "".join([chunk async for chunk in export.chunks()])


async def test_an_export_streams_every_couple_and_reimports_unchanged(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    couples = [
        Contact(
            email=f"ana{n}@example.com",
            phone="+447911123456" if n % 2 else None,
            partners=(Partner(first_name=f"Ana{n}", last_name="Silva"),),
            wedding_date=date(2027, 2, 14),
        )
        for n in range(2100)
    ]
    await studio.contacts.insert_many(couples)
    exports = CSVExports(deps, studio, ADMIN)
    export = await exports.open(files.id, "leads")
    chunks = [chunk async for chunk in export.chunks()]
    assert len(chunks) == 4  # the header, then one chunk per 1,000 couples
    assert export.rows == 2100
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(rows) == 2100
    assert rows[1]["Event Date"] == "14/02/2027"
    assert rows[1]["Phone"] == "+447911123456" and rows[0]["Phone"] == ""
    assert rows[0]["First Name"] == "Ana0" and rows[0]["Email"] == "ana0@example.com"

    body = "".join(chunks).encode()
    run = await CSVImports(deps, studio, ADMIN).run(files.id, "leads", io.BytesIO(body))
    assert run.status == "succeeded", run.errors[:3]
    # Matched by email, nothing new; every couple gains its Studio Ninja id.
    assert run.counts["created"] == 0
    assert await studio.contacts.count() == 2100
    again = await CSVImports(deps, studio, ADMIN).run(files.id, "leads", io.BytesIO(body))
    assert again.counts["unchanged"] == 2100


async def test_changes_queued_by_crm_update_go_into_the_next_export_once(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    [ana, bo] = await studio.contacts.insert_many(
        [Contact(email="ana@example.com"), Contact(email="bo@example.com")]
    )
    memory = studio.executor_memory
    queued = {"fields": {"custom.lead_status": "Booked", "Job Type": "Elopement"}}
    await memory.remember(PENDING_EXECUTOR, pending_key(files.id, ana.id), queued)
    exports = CSVExports(deps, studio, ADMIN)

    kept = await text_of(exports, files.id, "leads", consume_pending=False)
    assert await memory.recall(PENDING_EXECUTOR, pending_key(files.id, ana.id)) == queued
    export = await exports.open(files.id, "leads")
    text = "".join([chunk async for chunk in export.chunks()])
    assert text == kept
    assert export.pending_written == 1
    rows = {r["Email"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["ana@example.com"]["Status"] == "Booked"
    assert rows["ana@example.com"]["Job Type"] == "Elopement"
    assert rows["bo@example.com"]["Status"] == ""
    # Written once: the next export no longer carries it.
    assert await memory.recall(PENDING_EXECUTOR, pending_key(files.id, ana.id)) is None
    later = {
        r["Email"]: r
        for r in csv.DictReader(io.StringIO(await text_of(exports, files.id, "leads")))
    }
    assert later["ana@example.com"]["Status"] == ""
    assert bo.id != ana.id


async def test_an_export_is_refused_before_a_byte_for_an_unknown_format(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    with pytest.raises(Refused) as refused:
        await CSVExports(deps, studio, ADMIN).open(files.id, "invoices")
    assert refused.value.errors[0].field == "format"
