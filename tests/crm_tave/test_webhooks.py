"""Tave's REST hooks end to end: subscribed at /rest-hook, delivered thin by the fake to
a local receiver, parsed, fetched by id and completed into Aisle events."""

from __future__ import annotations

import json

import pytest

from aisle import ExternalRecord, InboundEvent
from aisle.testing import HTTPReceiver
from aisle_crm_tave import TAVE
from aisle_crm_tave.client import TaveClient
from aisle_crm_tave.fake import FakeTave
from aisle_crm_tave.webhooks import complete_event, parse_webhook, verify_webhook


async def deliveries_of(
    tave: FakeTave, client: TaveClient, event: str, target_id: str
) -> list[tuple[dict[str, str], bytes]]:
    with HTTPReceiver() as receiver:
        ids = await client.subscribe(f"{receiver.url}/inbound/crm/c1", TAVE.webhook_events)
        assert tave.deliver(event, target_id) == [200]
        await client.unsubscribe(ids)
        return [(dict(r.headers), r.body) for r in receiver.requests]


async def fetched_event(client: TaveClient, body: bytes) -> InboundEvent | None:
    [event] = parse_webhook({}, body)
    assert event.fetch_kind is not None
    record = await client.fetch_record(event.fetch_kind, event.external_id)
    return complete_event(event, record)


async def test_a_payment_hook_becomes_a_payment_received_for_the_couple(
    tave: FakeTave, client: TaveClient
) -> None:
    [ada] = tave.seed("contacts", [{"email": "ada@example.com"}])
    [job] = tave.seed("jobs", [{"stage": "booked"}])
    tave.link(job, ada)
    [payment] = tave.seed(
        "payments", [{"jobId": job, "amount": 50000, "status": "posted", "received": "2026-02-01"}]
    )
    [(headers, body)] = await deliveries_of(tave, client, "payment.created", payment)
    assert json.loads(body) == {"event": "payment.created", "targetId": payment}
    assert verify_webhook(headers, body, "") is True
    event = await fetched_event(client, body)
    assert event is not None
    assert event.type == "payment.received"  # what the payment_received trigger awaits
    assert event.contact_external_id == ada
    assert (event.payload["amount"], event.payload["currency"]) == ("500.00", "USD")
    assert event.idempotency_key == f"tave:payment.created:{payment}"
    assert tave.subscribed() == {}


async def test_a_scheduled_payment_is_no_payment_received(
    tave: FakeTave, client: TaveClient
) -> None:
    [job] = tave.seed("jobs", [{}])
    [payment] = tave.seed("payments", [{"jobId": job, "amount": 100, "status": "future"}])
    [(_, body)] = await deliveries_of(tave, client, "payment.created", payment)
    assert await fetched_event(client, body) is None


async def test_a_new_contact_hook_names_the_couple_and_carries_the_record(
    tave: FakeTave, client: TaveClient
) -> None:
    [ada] = tave.seed("contacts", [{"email": "ada@example.com"}])
    [(_, body)] = await deliveries_of(tave, client, "contact.created", ada)
    event = await fetched_event(client, body)
    assert event is not None
    assert (event.type, event.contact_external_id) == ("crm.contact_created", ada)
    assert event.payload["record"]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"targetId": "01j9v5r3k8m2q4w6y8a0c2e4g6"}).encode(),
        json.dumps({"event": "job.deleted", "targetId": "01j9v5r3k8m2q4w6y8a0c2e4g6"}).encode(),
        json.dumps({"event": "job.created", "targetId": "../../studio/me"}).encode(),
    ],
)
def test_what_is_no_tave_delivery_is_refused(body: bytes) -> None:
    assert verify_webhook({}, body, "") is False
    assert parse_webhook({}, body) == []


def test_completing_keeps_the_delivery_key() -> None:
    [event] = parse_webhook(
        {}, json.dumps({"event": "job.created", "targetId": "01J9V5R3K8M2Q4W6Y8A0C2E4G6"}).encode()
    )
    record = ExternalRecord(
        id="01j9v5r3k8m2q4w6y8a0c2e4g6", kind="jobs", fields={"stage": "lead"}, contact_ids=("c1",)
    )
    done = complete_event(event, record)
    assert done is not None
    assert (done.idempotency_key, done.contact_external_id) == (event.idempotency_key, "c1")
