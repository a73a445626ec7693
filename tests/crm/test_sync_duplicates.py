"""Records of one pulled page naming the same couple twice (the same email, or the same
remote id): the second applies to the couple the first created, in the same page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aisle.contracts.crm import ExternalRecord, Page
from aisle.crm import CRMDeps
from aisle.crm.sync import Tally, pull
from aisle.domain.crm_connection import CRMConnection
from aisle.storage.store import OrgScope
from tests.crm.synccrm import SYNCCRM


class _Pages:
    """A CRM client answering fixed pages, as a CRM whose listing repeats a record."""

    def __init__(self, pages: Mapping[str, Sequence[Sequence[dict[str, Any]]]]) -> None:
        self.pages = pages

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        pages = self.pages.get(kind, [[]])
        index = int(cursor or "0")
        records = [
            ExternalRecord(
                id=str(item["id"]),
                kind=kind,
                fields=item,
                contact_ids=tuple(item.get("client_ids", ())),
            )
            for item in pages[index]
        ]
        more = index + 1 < len(pages)
        return Page(records=records, next_cursor=str(index + 1) if more else None)

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        raise LookupError(external_id)

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        raise NotImplementedError


async def _pull(deps: CRMDeps, scope: OrgScope, connection: CRMConnection, client: _Pages) -> Tally:
    tally = Tally()

    async def progress(*_: object) -> None:
        return None

    await pull(deps, scope, connection, SYNCCRM, client, tally=tally, progress=progress)
    return tally


async def test_two_records_with_one_email_in_a_page_are_one_couple(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection
) -> None:
    client = _Pages(
        {
            "contacts": [
                [
                    {"id": "1", "email": "ada@example.com", "first_name": "Ada"},
                    {"id": "2", "email": "ada@example.com", "phone": "+44 20 7946 0000"},
                    {"id": "3", "email": "bea@example.com", "first_name": "Bea"},
                ]
            ],
            "jobs": [[{"id": "j1", "client_ids": ["2"], "venue": "Kew"}]],
        }
    )

    tally = await _pull(deps, studio, connection, client)

    assert tally.errors == []
    assert tally.counts["created"] == 2 and tally.counts["updated"] == 2
    assert await studio.contacts.count() == 2
    (ada,) = await studio.contacts.find_many(emails=["ada@example.com"])
    assert (ada.partners[0].first_name, ada.phone, ada.venue) == ("Ada", "+442079460000", "Kew")
    # The couple keeps the CRM id of the record that last named it.
    assert ada.external_ids["synccrm"] == "2"
    assert len(await deps.store.system.pending_events(older_than=0, limit=10)) == 2

    again = await _pull(deps, studio, connection, client)
    assert again.counts["created"] == 0 and again.counts["failed"] == 0
    assert await studio.contacts.count() == 2


async def test_one_remote_id_twice_in_a_page_is_one_couple_with_the_later_fields(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection
) -> None:
    client = _Pages(
        {
            "contacts": [
                [
                    {"id": "7", "email": "cy@example.com", "first_name": "Cy"},
                    {"id": "8", "email": "di@example.com", "first_name": "Di"},
                    {"id": "7", "email": "cy.new@example.com", "first_name": "Cyrus"},
                ],
                [{"id": "8", "email": "di@example.com", "first_name": "Dina"}],
            ]
        }
    )

    tally = await _pull(deps, studio, connection, client)

    assert tally.errors == []
    assert tally.counts["created"] == 2
    assert await studio.contacts.count() == 2
    cy = await studio.contacts.by_external_id("synccrm", "7")
    assert cy is not None
    assert (cy.email, cy.partners[0].first_name) == ("cy.new@example.com", "Cyrus")
    di = await studio.contacts.by_external_id("synccrm", "8")
    assert di is not None and di.partners[0].first_name == "Dina"
