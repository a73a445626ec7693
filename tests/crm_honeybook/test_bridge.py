"""HoneyBook through Zapier end to end: a studio's connection receives its Zaps'
deliveries (a payment becomes payment.received for the couple, a replay is a no-op, a
bad signature or an old timestamp is refused and logged) and pushes to its catch hooks."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import msgspec
import pytest
import pytest_asyncio

from aisle import WebhookRefused, http_client
from aisle.crm import CRMDeps, receive_crm_webhook
from aisle.crm.connections import ConnectionService
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle_crm_honeybook import HONEYBOOK
from aisle_crm_honeybook.fake import FakeHoneyBookZapier, honeybook_zaps
from aisle_crm_honeybook.provider import BRIDGE, Credentials

SECRET = "whsec_aG9uZXlib29rLWJyaWRnZS1zZWNyZXQtMDEyMzQ1"
PAYMENT = {
    "id": "hb_pay_31",
    "client_id": "hb_cl_4",
    "email": "june@example.com",
    "amount": "1200.00",
    "currency": "USD",
    "project_id": "hb_pr_9",
}


@pytest.fixture
def zapier() -> Iterator[FakeHoneyBookZapier]:
    with FakeHoneyBookZapier(SECRET) as server:
        yield server


@pytest.fixture
def deps(store: Store, settings: Settings) -> CRMDeps:
    runtime = Runtime(store, load_registry(), settings)
    return CRMDeps.of(runtime, http=lambda: http_client(allow=["127.0.0.1/32"], timeout=10.0))


@pytest.fixture
async def studio(deps: CRMDeps) -> OrgScope:
    org = await deps.store.organizations.create(slug="hb", name="HB Studio", settings={})
    return deps.for_org(org.id)


@pytest.fixture
async def connection(deps: CRMDeps, studio: OrgScope, zapier: FakeHoneyBookZapier) -> CRMConnection:
    return await ConnectionService(deps, studio, Operator(actor="test", role="admin")).create(
        provider="honeybook",
        name="HoneyBook",
        credentials={"webhook_secret": SECRET, **zapier.hook_urls()},
        direction="both",
    )


async def test_a_payment_zap_reaches_the_couple_once(
    deps: CRMDeps, studio: OrgScope, connection: CRMConnection
) -> None:
    couple = await deps.runtime.create_contact(studio.org_id, Contact(email="june@example.com"))
    headers, body = honeybook_zaps(SECRET).delivery("payment_paid", PAYMENT)
    first = await receive_crm_webhook(deps, connection.id, headers, body)
    # Zapier's "replay task" posts the same fields under a new webhook-id.
    replay = honeybook_zaps(SECRET).delivery("payment_paid", PAYMENT)
    again = await receive_crm_webhook(deps, connection.id, *replay)
    [outcome], [repeated] = first.events, again.events
    assert (outcome.type, outcome.contact_id, outcome.duplicate) == (
        "payment.received",
        couple.id,
        False,
    )
    assert (repeated.duplicate, repeated.event_id) == (True, outcome.event_id)
    event = (await studio.events.get(outcome.event_id)).event
    assert (event.payload["amount"], event.payload["currency"]) == ("1200.00", "USD")
    assert len(await studio.events.list()) == 2  # contact.created and the payment


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(
            lambda: (lambda h, b: (h, b.replace(b"1200.00", b"12.00")))(
                *honeybook_zaps(SECRET).delivery("payment_paid", PAYMENT)
            ),
            "signature",
            id="bad signature",
        ),
        pytest.param(
            lambda: honeybook_zaps(SECRET).delivery("payment_paid", PAYMENT, at=time.time() - 3600),
            "s old",
            id="old timestamp",
        ),
    ],
)
async def test_a_forged_or_stale_zap_is_refused_and_logged(
    deps: CRMDeps,
    studio: OrgScope,
    connection: CRMConnection,
    caplog: pytest.LogCaptureFixture,
    forge: object,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO)
    headers, body = forge()  # type: ignore[operator]
    with pytest.raises(WebhookRefused, match=reason):
        await receive_crm_webhook(deps, connection.id, headers, body)
    [entry] = [e for e in await studio.log.list(limit=10) if e.kind == "crm.webhook_refused"]
    assert reason in entry.message
    assert SECRET not in caplog.text and SECRET not in entry.message
    assert await studio.events.list() == []


def test_every_trigger_becomes_its_event_keyed_by_its_record() -> None:
    zaps = honeybook_zaps(SECRET)
    fields = {
        "id": "r1",
        "client_id": "c1",
        "stage": "Proposal",
        "changed_at": "t1",
        "starts_at": "2026-06-01T15:00:00Z",
    }
    seen = {}
    for trigger in BRIDGE.triggers:
        headers, body = zaps.delivery(trigger.name, fields)
        assert HONEYBOOK.verify_webhook is not None and HONEYBOOK.parse_webhook is not None
        assert HONEYBOOK.verify_webhook(headers, body, SECRET) is True
        [event] = HONEYBOOK.parse_webhook(headers, body)
        seen[trigger.name] = (event.type, event.idempotency_key)
    assert seen == {
        "client_created": ("crm.client_created", "client_created:r1"),
        "project_booked": ("crm.project_booked", "project_booked:r1"),
        "project_stage_changed": (
            "crm.project_stage_changed",
            "project_stage_changed:r1:Proposal:t1",
        ),
        "payment_paid": ("payment.received", "payment_paid:r1"),
        "meeting_scheduled": ("crm.meeting_scheduled", "meeting_scheduled:r1:2026-06-01T15:00:00Z"),
    }


def test_a_zap_without_a_code_step_sends_the_secret_header() -> None:
    secret = "hb-header-secret-0123456789abcdef"
    credentials = msgspec.convert(
        {"webhook_secret": secret, "signing": "secret_header"}, Credentials
    )
    headers, body = honeybook_zaps(secret, "secret_header").delivery("payment_paid", PAYMENT)
    assert HONEYBOOK.verify_webhook is not None
    assert HONEYBOOK.verify_webhook(headers, body, credentials.webhook_secret) is True
    assert HONEYBOOK.verify_webhook({"content-type": "application/json"}, body, secret) is False


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(allow=["127.0.0.1/32"], timeout=10.0) as client:
        yield client


async def test_clients_and_projects_are_pushed_signed_to_their_catch_hooks(
    zapier: FakeHoneyBookZapier, http: httpx.AsyncClient
) -> None:
    credentials = msgspec.convert({"webhook_secret": SECRET, **zapier.hook_urls()}, Credentials)
    assert HONEYBOOK.client is not None
    client = HONEYBOOK.client(credentials, http)
    client_id = await client.push_record("contacts", None, {"email": "june@example.com"})
    project_id = await client.push_record("projects", None, {"event_date": "2026-09-12"})
    assert [(c.kind, c.payload["action"], c.verified) for c in zapier.catches] == [
        ("contacts", "create_client", True),
        ("projects", "create_project", True),
    ]
    assert zapier.stored("contacts", client_id) == {"email": "june@example.com"}
    assert zapier.stored("projects", project_id) == {"event_date": "2026-09-12"}
