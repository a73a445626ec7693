"""Tave listings: a studio's 1,000 couples with their jobs and events, incremental runs,
paging, rate limits and refused keys, against the fake Workspace API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from aisle import ExternalRecord, RateLimited
from aisle_crm_tave import FIELD_MAPPING
from aisle_crm_tave.client import TaveClient
from aisle_crm_tave.credentials import Credentials
from aisle_crm_tave.errors import TaveNotFound, TaveRefused
from aisle_crm_tave.fake import FakeTave

COUPLES = 1000


async def pull(
    client: TaveClient, kind: str, cursor: str | None = None
) -> tuple[list[ExternalRecord], str | None, int]:
    """Every page of ``kind`` from ``cursor``: records, the stored cursor, pages read."""
    records: list[ExternalRecord] = []
    stored: str | None = None
    pages = 0
    while True:
        page = await client.list_records(kind, cursor)
        pages += 1
        records.extend(page.records)
        stored = page.cursor or stored
        if page.next_cursor is None:
            return records, stored, pages
        cursor = page.next_cursor


def seed_studio(tave: FakeTave, couples: int) -> dict[str, Any]:
    """``couples`` people, each on one job with a wedding and an engagement session."""
    people = tave.seed(
        "contacts",
        [
            {
                "email": f"couple{n}@example.com",
                "firstName": f"Ada{n}",
                "lastName": "Lovelace",
                "cellPhone.e164": "+12025550100",
            }
            for n in range(couples)
        ],
    )
    jobs = tave.seed(
        "jobs",
        [
            {
                "eventDate": f"2027-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                "stage": "booked" if n % 2 else "lead",
                "jobTypeName": "Wedding",
                "leadSourceName": "Instagram",
            }
            for n in range(couples)
        ],
    )
    tave.seed(
        "job_contacts",
        [{"jobId": j, "contactId": p, "client": True} for j, p in zip(jobs, people, strict=True)],
    )
    weddings = tave.seed(
        "events",
        [
            {
                "jobId": j,
                "name": "Wedding",
                "startDate": "2027-06-12",
                "timezoneName": "Europe/London",
                "location.address.name": f"Hall {n}",
            }
            for n, j in enumerate(jobs)
        ],
    )
    tave.seed(
        "events",
        [{"jobId": j, "name": "Engagement", "location.address.name": "A park"} for j in jobs],
    )
    for job, wedding in zip(jobs, weddings, strict=True):
        tave.update("jobs", job, {"primarySessionId": wedding})
    return {"people": people, "jobs": jobs, "weddings": weddings}


def mapped(records: list[ExternalRecord], kind: str) -> dict[str, dict[str, Any]]:
    """Aisle fields per couple, as the engine applies the default mapping."""
    prefix = "" if kind == "contacts" else f"{kind}."
    fields = {
        aisle: remote.removeprefix(prefix)
        for aisle, remote in FIELD_MAPPING.items()
        if (remote.startswith(prefix) if prefix else remote.split(".")[0] not in ("jobs", "events"))
    }
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        for couple in record.contact_ids if prefix else (record.id,):
            slot = out.setdefault(couple, {})
            slot.update({a: record.fields[r] for a, r in fields.items() if r in record.fields})
    return out


async def test_a_thousand_couples_map_with_their_jobs_and_events(
    tave: FakeTave, client: TaveClient
) -> None:
    seeded = seed_studio(tave, COUPLES)
    contacts, _, pages = await pull(client, "contacts")
    jobs, _, _ = await pull(client, "jobs")
    events, _, _ = await pull(client, "events")
    assert pages == COUPLES // 100
    assert len(contacts) == COUPLES and len(jobs) == COUPLES and len(events) == 2 * COUPLES
    couples: dict[str, dict[str, Any]] = {}
    for kind, records in (("contacts", contacts), ("jobs", jobs), ("events", events)):
        for couple, values in mapped(records, kind).items():
            couples.setdefault(couple, {}).update(values)
    n = 7
    assert couples[seeded["people"][n]] == {
        "email": f"couple{n}@example.com",
        "phone": "+12025550100",
        "partners.0.first_name": f"Ada{n}",
        "partners.0.last_name": "Lovelace",
        "wedding_date": "2027-08-08",
        "custom.stage": "booked",
        "custom.job_type": "Wedding",
        "custom.lead_source": "Instagram",
        "venue": f"Hall {n}",  # the primary session's, never the engagement park
        "timezone": "Europe/London",
    }
    assert len(couples) == COUPLES
    # The job links came from one listing of /job-contact, not one lookup per job.
    per_job = [r for r in tave.requests if r.path == "/job-contact" and "jobId" in r.query]
    assert per_job == []


async def test_listing_reports_the_total_and_sends_what_the_document_names(
    tave: FakeTave, client: TaveClient
) -> None:
    tave.seed("contacts", [{"email": f"c{n}@example.com"} for n in range(250)])
    page = await client.list_records("contacts", None)
    assert page.total == 250 and len(page.records) == 100 and page.next_cursor
    [request] = tave.requests
    assert request.path == "/address-book"
    assert request.query == {"page": "1", "pageSize": "100", "sortBy": "modified desc"}
    assert request.headers["x-api-key"] == "tave-key-0123456789abcdef"


async def test_vendors_companies_and_locations_are_no_couples(
    tave: FakeTave, client: TaveClient
) -> None:
    couple, vendor, _venue = tave.seed(
        "contacts",
        [
            {"email": "ada@example.com"},
            {"email": "florist@example.com", "vendorRoleId": "01j9v5r3k8m2q4w6y8a0c2e4g6"},
            {"kind": "location", "name": "The Hall"},
        ],
    )
    records, _, _ = await pull(client, "contacts")
    assert [r.id for r in records] == [couple]
    with pytest.raises(TaveNotFound):
        await client.fetch_record("contacts", vendor)


async def test_an_incremental_run_reads_only_what_changed(
    tave: FakeTave, client: TaveClient, http: httpx.AsyncClient
) -> None:
    seeded = seed_studio(tave, 300)
    _, cursor, _ = await pull(client, "contacts")
    _, job_cursor, _ = await pull(client, "jobs")
    assert cursor is not None and job_cursor is not None
    tave.tick(60)
    tave.update("contacts", seeded["people"][5], {"email": "new5@example.com"})
    tave.update("jobs", seeded["jobs"][9], {"eventDate": "2028-01-01"})
    tave.requests.clear()
    again = TaveClient(Credentials(api_key="tave-key-0123456789abcdef", base_url=tave.url), http)
    contacts, next_cursor, pages = await pull(again, "contacts", cursor)
    jobs, _, _ = await pull(again, "jobs", job_cursor)
    assert [c.fields["email"] for c in contacts] == ["new5@example.com"]
    assert pages == 1
    assert [(j.id, j.fields["eventDate"], j.contact_ids) for j in jobs] == [
        (seeded["jobs"][9], "2028-01-01", (seeded["people"][9],))
    ]
    # One page per kind and one link lookup for the changed job: 3 requests.
    assert len(tave.requests) == 3
    # Nothing changed since: one request reads the top page and finds nothing new.
    assert next_cursor is not None
    tave.tick(60)
    unchanged, _, pages = await pull(again, "contacts", next_cursor)
    assert (unchanged, pages) == ([], 1)


async def test_changes_in_the_listings_own_second_are_read_again(
    tave: FakeTave, client: TaveClient
) -> None:
    """Tave's timestamps have whole seconds: a change in the second a listing ran in may
    follow it, so that second is read again next time (never lost)."""
    tave.tick(7200)  # the fake's clock is now ahead of the Date its answers carry
    [ada] = tave.seed("contacts", [{"email": "ada@example.com"}])
    _, cursor, _ = await pull(client, "contacts")
    [bea] = tave.seed("contacts", [{"email": "bea@example.com"}])
    again, _, _ = await pull(client, "contacts", cursor)
    assert {c.id for c in again} == {ada, bea}


async def test_429_is_rate_limited_with_the_delay_asked(tave: FakeTave, client: TaveClient) -> None:
    tave.rate_limit(times=1, retry_after=12)
    with pytest.raises(RateLimited) as limited:
        await client.list_records("contacts", None)
    assert limited.value.retry_after == 12
    assert (await client.list_records("contacts", None)).records == []


async def test_a_refused_key_is_an_error_naming_tave_not_the_key(
    tave: FakeTave, http: httpx.AsyncClient
) -> None:
    wrong = TaveClient(Credentials(api_key="not-the-key-42", base_url=tave.url), http)
    with pytest.raises(TaveRefused) as refused:
        await wrong.list_records("jobs", None)
    assert refused.value.status == 401
    assert "not-the-key-42" not in str(refused.value) and "Unauthorized" in str(refused.value)


@pytest.mark.parametrize("kind", ["contacts", "jobs", "events", "payments", "orders"])
async def test_every_kind_is_fetched_by_id(tave: FakeTave, client: TaveClient, kind: str) -> None:
    fields: Mapping[str, Any] = {"email": "a@example.com"} if kind == "contacts" else {}
    [external_id] = tave.seed(kind, [fields])
    record = await client.fetch_record(kind, external_id)
    assert (record.id, record.kind) == (external_id, kind)


async def test_pushing_creates_and_updates_address_book_people(
    tave: FakeTave, client: TaveClient
) -> None:
    created = await client.push_record(
        "contacts", None, {"email": "ada@example.com", "cellPhone.e164": "+12025550100"}
    )
    stored = tave.stored("contacts", created)
    assert stored is not None
    assert (stored["kind"], stored["cellPhone.e164"]) == ("person", "+12025550100")
    await client.push_record("contacts", created, {"firstName": "Ada"})
    stored = tave.stored("contacts", created)
    assert stored is not None and stored["firstName"] == "Ada"
    assert [r.method for r in tave.requests] == ["POST", "PUT"]
    assert tave.requests[1].path == f"/address-book/{created}"
