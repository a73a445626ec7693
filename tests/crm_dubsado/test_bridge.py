"""Dubsado through Zapier: every trigger becomes its event, replays repeat their keys,
forged or stale deliveries are refused, pushes reach the catch hooks signed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import msgspec
import pytest
import pytest_asyncio

from aisle import WebhookRefused, http_client
from aisle_crm_dubsado import DUBSADO
from aisle_crm_dubsado.fake import FakeDubsadoZapier, dubsado_zaps
from aisle_crm_dubsado.provider import BRIDGE, Credentials

SECRET = "whsec_ZHVic2Fkby1icmlkZ2Utc2VjcmV0LTAxMjM0NTY3"
FIELDS = {
    "id": "ds_1",
    "client_id": "ds_c",
    "email": "kit@example.com",
    "status": "Booked",
    "changed_at": "2026-03-01T09:00:00Z",
}


def test_every_trigger_becomes_its_event_and_a_replay_repeats_the_key() -> None:
    assert DUBSADO.verify_webhook is not None and DUBSADO.parse_webhook is not None
    seen = {}
    for trigger in BRIDGE.triggers:
        first = dubsado_zaps(SECRET).delivery(trigger.name, FIELDS)
        replay = dubsado_zaps(SECRET).delivery(trigger.name, FIELDS)
        assert DUBSADO.verify_webhook(*first, SECRET) is True
        [event], [again] = DUBSADO.parse_webhook(*first), DUBSADO.parse_webhook(*replay)
        assert first[0]["webhook-id"] != replay[0]["webhook-id"]
        assert event.idempotency_key == again.idempotency_key
        assert (event.contact, event.contact_external_id) == ({"email": "kit@example.com"}, "ds_c")
        seen[trigger.name] = event.type
    assert seen == {
        "project_as_lead": "crm.lead_created",
        "project_as_job": "crm.project_booked",
        "payment_received": "payment.received",
        "contract_signed": "crm.contract_signed",
        "project_status_updated": "crm.project_status_changed",
    }


def test_a_bad_signature_is_rejected_and_an_old_timestamp_refused() -> None:
    assert DUBSADO.verify_webhook is not None
    headers, body = dubsado_zaps(SECRET).delivery("contract_signed", FIELDS)
    assert DUBSADO.verify_webhook(headers, body.replace(b"ds_1", b"ds_2"), SECRET) is False
    stale = dubsado_zaps(SECRET).delivery("contract_signed", FIELDS, at=time.time() - 600)
    with pytest.raises(WebhookRefused, match="600 s old"):
        DUBSADO.verify_webhook(*stale, SECRET)


@pytest.fixture
def zapier() -> Iterator[FakeDubsadoZapier]:
    with FakeDubsadoZapier(SECRET) as server:
        yield server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(allow=["127.0.0.1/32"], timeout=10.0) as client:
        yield client


async def test_clients_and_projects_are_pushed_signed_to_their_catch_hooks(
    zapier: FakeDubsadoZapier, http: httpx.AsyncClient
) -> None:
    credentials = msgspec.convert({"webhook_secret": SECRET, **zapier.hook_urls()}, Credentials)
    assert DUBSADO.client is not None
    client = DUBSADO.client(credentials, http)
    client_id = await client.push_record("contacts", None, {"email": "kit@example.com"})
    await client.push_record("contacts", client_id, {"phone": "+14155550100"})
    await client.push_record("projects", None, {"event_date": "2026-10-03"})
    assert [(c.kind, c.payload["action"], c.verified) for c in zapier.catches] == [
        ("contacts", "create_client", True),
        ("contacts", "update_client", True),
        ("projects", "create_project", True),
    ]
    assert zapier.stored("contacts", client_id) == {
        "email": "kit@example.com",
        "phone": "+14155550100",
    }
