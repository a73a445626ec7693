"""CSV import: streamed in pages, idempotent, each bad row alone, previews write nothing."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator

import pytest

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.csv_import import CSVImports
from aisle.domain.crm_connection import CRMConnection
from aisle.services.errors import Refused
from aisle.storage.store import OrgScope
from tests.crm.conftest import ADMIN

HEADER = "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name,Address,Notes\r\n"
NOTES = "Met at the open day; wants the full-day package, a second shooter and an album. " * 2


def client_rows(count: int, start: int = 0) -> Iterator[bytes]:
    yield HEADER.encode()
    for n in range(start, start + count):
        yield (
            f"Ana{n},Silva{n},ana{n}@example.com,07400 1{n % 100000:05d},Ben{n},Costa{n},"
            f'"{n} Orchard Lane, Kew, Richmond, London TW9 3AB","{NOTES}"\r\n'
        ).encode()


class RowStream(io.RawIOBase):
    """A CSV file produced as it is read: nothing of it is ever held whole."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._left = nxt
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def file_of(lines: list[str]) -> io.BytesIO:
    return io.BytesIO("\r\n".join(lines).encode() + b"\r\n")


@pytest.fixture
async def files(deps: CRMDeps, studio: OrgScope) -> CRMConnection:
    return await ConnectionService(deps, studio, ADMIN).create(
        provider="studioninja", name="Files", credentials={}, direction="both"
    )


async def test_an_import_creates_then_a_reimport_changes_nothing(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    imports = CSVImports(deps, studio, ADMIN)
    body = b"".join(client_rows(2500))
    first = await imports.run(files.id, "clients", io.BytesIO(body), size=len(body))
    assert first.status == "succeeded", first.errors[:3]
    assert first.trigger == "csv_import"
    assert first.counts["created"] == 2500
    assert first.seen == first.total == 2500
    assert await studio.contacts.count() == 2500
    ana = (await studio.contacts.find_many(emails=["ana7@example.com"]))[0]
    assert [p.first_name for p in ana.partners] == ["Ana7", "Ben7"]
    assert ana.phone == "+447400100007"
    assert ana.external_ids == {"studioninja": "ana7@example.com"}

    again = await imports.run(files.id, "clients", io.BytesIO(body), size=len(body))
    assert again.status == "succeeded"
    assert again.counts["unchanged"] == 2500
    assert sum(again.counts.values()) == again.counts["unchanged"]
    assert await studio.contacts.count() == 2500


async def test_a_changed_row_updates_only_that_couple(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    imports = CSVImports(deps, studio, ADMIN)
    head = "First Name,Last Name,Email,Phone"
    await imports.run(files.id, "clients", file_of([head, "Ana,Silva,a@x.com,", "Bo,Li,b@x.com,"]))
    run = await imports.run(
        files.id, "clients", file_of([head, "Anna,Silva,a@x.com,", "Bo,Li,b@x.com,"])
    )
    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 1)
    ana = (await studio.contacts.find_many(emails=["a@x.com"]))[0]
    assert ana.partners[0].first_name == "Anna"


async def test_a_bad_row_fails_alone_with_its_row_number(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    lines = [
        "First Name,Last Name,Email,Phone,Event Date",
        "Ana,Silva,ana@example.com,,14/02/2027",
        "Bo,Li,not-an-email,,01/03/2027",
        "Cy,Ng,cy@example.com,,31/02/2027",
        "Di,Ow,,,01/05/2027",
        "Ed,Yu,ed@example.com,,2027-06-01",
    ]
    run = await CSVImports(deps, studio, ADMIN).run(files.id, "leads", file_of(lines))
    assert run.status == "partial"
    assert (run.counts["created"], run.counts["failed"]) == (2, 3)
    failed = {e["row"]: e for e in run.errors}
    assert sorted(failed) == [3, 4, 5]
    assert failed[3]["field"] == "email"
    assert failed[4]["field"] == "wedding_date" and "31/02/2027" in failed[4]["reason"]
    assert failed[5]["field"] == "Email" and "key" in failed[5]["reason"]
    ed = (await studio.contacts.find_many(emails=["ed@example.com"]))[0]
    assert ed.wedding_date is not None and ed.wedding_date.isoformat() == "2027-06-01"
    ana = (await studio.contacts.find_many(emails=["ana@example.com"]))[0]
    assert ana.wedding_date is not None and ana.wedding_date.isoformat() == "2027-02-14"


async def test_repeated_emails_in_one_page_land_on_one_couple(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    lines = [
        "Job,Job Type,Main Shoot Date,Location,Client First Name,Client Last Name,Client Email",
        "Ana & Ben wedding,Wedding,14/02/2027,Kew,Ana,Silva,ana@example.com",
        "Ana & Ben engagement,Engagement,,Kew,Ana,Silva,ana@example.com",
    ]
    run = await CSVImports(deps, studio, ADMIN).run(files.id, "jobs", file_of(lines))
    assert run.status == "succeeded", run.errors
    assert run.counts["created"] == 1
    [ana] = await studio.contacts.find_many(emails=["ana@example.com"])
    assert ana.custom["job_name"] == "Ana & Ben engagement"
    # A jobs file keeps its keys apart from the couple's id in Studio Ninja.
    assert "studioninja" not in ana.external_ids


async def test_a_preview_maps_the_first_rows_and_writes_nothing(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    lines = [
        "First Name,Last Name,Email,Phone,Event Date,Lead Source",
        "Ana,Silva,ana@example.com,07911 123456,14/02/2027,Instagram",
        "Bo,Li,nope,,2027-13-01,",
        "Cy,Ng,cy@example.com,,,",
    ]
    preview = await CSVImports(deps, studio, ADMIN).preview(
        files.id, "leads", file_of(lines), rows=2
    )
    assert [r.row for r in preview.rows] == [2, 3]
    assert preview.rows[0].values["phone"] == "+447911123456"
    assert preview.rows[0].values["wedding_date"] == "2027-02-14"
    assert preview.rows[0].values["custom.lead_source"] == "Instagram"
    assert preview.rows[0].errors == []
    assert {e["field"] for e in preview.rows[1].errors} == {"email", "wedding_date"}
    assert preview.missing_columns == ["Job Type", "Status"]
    assert await studio.contacts.count() == 0
    assert await studio.sync_runs.list() == []


async def test_columns_are_overridden_per_connection_and_per_import(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    imports = CSVImports(deps, studio, ADMIN)
    await imports.save_columns(files.id, "clients", {"email": "E-mail", "phone": ""})
    lines = ["First Name,Last Name,E-mail,Phone,Tag", "Ana,Silva,ana@example.com,07911 123456,VIP"]
    preview = await imports.preview(
        files.id, "clients", file_of(lines), columns={"custom.tag": "Tag"}
    )
    # The key follows its field (email) to the renamed column; phone is no longer read.
    assert preview.rows[0].key == "ana@example.com"
    assert preview.rows[0].values["email"] == "ana@example.com"
    assert preview.rows[0].values["custom.tag"] == "VIP"
    assert "phone" not in preview.rows[0].values
    run = await imports.run(files.id, "clients", file_of(lines))
    assert run.counts["created"] == 1
    with pytest.raises(Refused) as refused:
        await imports.preview(files.id, "clients", file_of(lines), columns={"age": "Tag"})
    assert refused.value.errors[0].field == "columns.age"
    with pytest.raises(Refused) as refused:
        await imports.preview(files.id, "clients", file_of(lines), columns={"email": ""})
    assert refused.value.errors[0].field == "columns.email"
    with pytest.raises(Refused) as refused:
        await imports.preview(files.id, "clients", file_of(["Name,Mail", "Ana,a@x.com"]))
    assert refused.value.errors[0].field == "columns.E-mail"


async def _peak_of_import(imports: CSVImports, connection: str, rows: int, start: int) -> int:
    """The most memory (bytes, Python's allocations) importing ``rows`` new clients held."""
    size = sum(len(chunk) for chunk in client_rows(rows, start))
    tracemalloc.start()
    try:
        stream = RowStream(client_rows(rows, start))
        run = await imports.run(connection, "clients", stream, size=size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.status == "succeeded", run.errors[:3]
    assert run.counts["created"] == rows
    assert run.seen == run.total == rows
    return peak


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_50000_row_file_streams_in_bounded_memory(
    deps: CRMDeps, studio: OrgScope, files: CRMConnection
) -> None:
    rows = 50_000
    imports = CSVImports(deps, studio, ADMIN)
    # Phone metadata and query builders load once, on first use: not the file's cost.
    await imports.run(files.id, "clients", RowStream(client_rows(10, start=2 * rows)))
    # 10,000 rows already fill the bounded caches (8,192 parsed phone numbers), so what
    # the larger file costs beyond the smaller is what grows with the file.
    small = await _peak_of_import(imports, files.id, rows // 5, start=rows)
    large = await _peak_of_import(imports, files.id, rows, start=0)
    size = sum(len(chunk) for chunk in client_rows(rows))
    assert size > 14_000_000
    # Holding each row would add hundreds of bytes a row: over 12 MB for the 40,000 more.
    assert large < small * 1.3, f"peak {large:,} bytes for {rows:,} rows, {small:,} for a fifth"
    # A page of 1,000 rows and its couples at a time (about 6 MB), never the file.
    assert large < 10_000_000, f"peak {large:,} bytes for a {size:,}-byte file"
