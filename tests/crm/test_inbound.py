"""Inbound CRM webhooks: verified, thin payloads fetched, matched or created, deduplicated."""

from __future__ import annotations

import logging

import pytest

from aisle.contracts.crm import WebhookRefused
from aisle.crm import CRMDeps, receive_crm_webhook
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.storage.errors import NotFound
from aisle.storage.store import OrgScope
from aisle.testing import FakeCRMServer
from tests.crm.synccrm import WEBHOOK_SECRET, signed


async def test_thin_payment_hook_fetches_matches_and_dedupes(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection, fake: FakeCRMServer
) -> None:
    (client_id,) = fake.seed("contacts", [{"email": "ada@example.com"}])
    (payment_id,) = fake.seed("payments", [{"amount": 1500, "currency": "GBP"}])
    couple = await deps.runtime.create_contact(
        studio.org_id, Contact(email="ada@example.com", external_ids={"synccrm": client_id})
    )
    headers, body = signed(
        {"event": "payment.created", "id": payment_id, "client_id": client_id}, "msg_1"
    )

    first = await receive_crm_webhook(deps, connection.id, headers, body)
    again = await receive_crm_webhook(deps, connection.id, headers, body)

    (outcome,) = first.events
    assert (outcome.type, outcome.contact_id, outcome.duplicate) == (
        "payment_received",
        couple.id,
        False,
    )
    event = (await studio.events.get(outcome.event_id)).event
    assert event.payload["record"]["fields"]["amount"] == 1500
    assert again.events[0].duplicate is True
    assert again.events[0].event_id == outcome.event_id


async def test_unknown_couple_is_created_from_the_email(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection, fake: FakeCRMServer
) -> None:
    (payment_id,) = fake.seed("payments", [{"amount": 10}])
    headers, body = signed(
        {"event": "payment.created", "id": payment_id, "contact": {"email": "Bo@Example.com"}},
        "msg_2",
    )
    (outcome,) = (await receive_crm_webhook(deps, connection.id, headers, body)).events
    assert outcome.contact_created is True
    contact = await studio.contacts.get(outcome.contact_id or "")
    assert contact.email == "Bo@example.com"


async def test_forged_hook_is_refused_and_logged_without_the_secret(
    deps: CRMDeps,
    studio: OrgScope,
    connection: CRMConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers, body = signed({"event": "payment.created", "id": "1"}, "msg_3")
    caplog.set_level(logging.INFO)
    with pytest.raises(WebhookRefused, match="signature"):
        await receive_crm_webhook(deps, connection.id, headers, body + b" ")
    entries = await studio.log.list(limit=10)
    assert any(e.kind == "crm.webhook_refused" for e in entries)
    assert WEBHOOK_SECRET not in caplog.text
    assert WEBHOOK_SECRET not in str([e.message for e in entries])
    assert await studio.events.list() == []


async def test_unknown_connection_is_not_found(deps: CRMDeps) -> None:
    headers, body = signed({"event": "x", "id": "1"}, "msg_4")
    with pytest.raises(NotFound):
        await receive_crm_webhook(deps, "no-such-connection", headers, body)
