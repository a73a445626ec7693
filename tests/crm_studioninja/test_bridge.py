"""Studio Ninja's Zaps end to end: a connection that imports CSV files also receives its
Zaps' deliveries (a payment becomes payment.received for the couple, a replay is a
no-op, a bad signature is refused and logged), and one without a secret refuses them."""

from __future__ import annotations

import logging

import msgspec
import pytest

from aisle import WebhookRefused
from aisle.crm import CRMDeps, receive_crm_webhook
from aisle.crm.connections import ConnectionService
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle.testing.config_schema import parse_config
from aisle.testing.zapier import ZapSender
from aisle_crm_studioninja import STUDIONINJA
from aisle_crm_studioninja.bridge import BRIDGE, Credentials

SECRET = "whsec_c3R1ZGlvLW5pbmphLWJyaWRnZS1zZWNyZXQtMDEy"
HEADER_SECRET = "sn-header-secret-7f3a9c2e51d84b60"
PAYMENT = {
    "id": "sn_inv_31",
    "client_id": "sn_cl_4",
    "email": "june@example.com",
    "amount": "1200.00",
    "currency": "AUD",
}


@pytest.fixture
def deps(store: Store, settings: Settings) -> CRMDeps:
    return CRMDeps.of(Runtime(store, load_registry(), settings))


@pytest.fixture
async def studio(deps: CRMDeps) -> OrgScope:
    org = await deps.store.organizations.create(slug="sn", name="SN Studio", settings={})
    return deps.for_org(org.id)


async def _connect(deps: CRMDeps, studio: OrgScope, credentials: dict[str, str]) -> CRMConnection:
    return await ConnectionService(deps, studio, Operator(actor="test", role="admin")).create(
        provider="studioninja", name="Studio Ninja", credentials=credentials, direction="both"
    )


async def test_a_payment_zap_reaches_the_couple_once(deps: CRMDeps, studio: OrgScope) -> None:
    connection = await _connect(deps, studio, {"webhook_secret": SECRET})
    couple = await deps.runtime.create_contact(studio.org_id, Contact(email="june@example.com"))
    first = await receive_crm_webhook(
        deps,
        connection.id,
        *ZapSender(SECRET, "standard_webhooks").delivery("payment_received", PAYMENT),
    )
    # Zapier's "replay task" posts the same fields under a new webhook-id.
    again = await receive_crm_webhook(
        deps,
        connection.id,
        *ZapSender(SECRET, "standard_webhooks").delivery("payment_received", PAYMENT),
    )
    [outcome], [repeated] = first.events, again.events
    assert (outcome.type, outcome.contact_id, outcome.duplicate) == (
        "payment.received",
        couple.id,
        False,
    )
    assert (repeated.duplicate, repeated.event_id) == (True, outcome.event_id)
    event = (await studio.events.get(outcome.event_id)).event
    assert (event.payload["amount"], event.payload["currency"]) == ("1200.00", "AUD")


async def test_a_secret_header_zap_is_accepted(deps: CRMDeps, studio: OrgScope) -> None:
    connection = await _connect(
        deps, studio, {"webhook_secret": HEADER_SECRET, "signing": "secret_header"}
    )
    fields = {"id": "sn_cl_9", "email": "lee@example.com", "first_name": "Lee"}
    result = await receive_crm_webhook(
        deps,
        connection.id,
        *ZapSender(HEADER_SECRET, "secret_header").delivery("client_created", fields),
    )
    [outcome] = result.events
    assert (outcome.type, outcome.duplicate) == ("crm.client_created", False)


async def test_a_forged_zap_is_refused_and_logged(
    deps: CRMDeps, studio: OrgScope, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    connection = await _connect(deps, studio, {"webhook_secret": SECRET})
    headers, body = ZapSender(SECRET, "standard_webhooks").delivery("payment_received", PAYMENT)
    with pytest.raises(WebhookRefused, match="signature"):
        await receive_crm_webhook(deps, connection.id, headers, body.replace(b"1200.00", b"12.00"))
    [entry] = [e for e in await studio.log.list(limit=10) if e.kind == "crm.webhook_refused"]
    assert SECRET not in caplog.text and SECRET not in entry.message
    assert await studio.events.list() == []


async def test_a_csv_only_connection_refuses_zaps(deps: CRMDeps, studio: OrgScope) -> None:
    connection = await _connect(deps, studio, {})
    delivery = ZapSender(SECRET, "standard_webhooks").delivery("payment_received", PAYMENT)
    with pytest.raises(WebhookRefused, match="no webhook secret"):
        await receive_crm_webhook(deps, connection.id, *delivery)
    assert await studio.events.list() == []


def test_every_trigger_becomes_its_event_keyed_by_its_record() -> None:
    zaps = ZapSender(SECRET, "standard_webhooks")
    seen = {}
    for trigger in BRIDGE.triggers:
        headers, body = zaps.delivery(trigger.name, {"id": "r1", "client_id": "c1"})
        assert STUDIONINJA.verify_webhook is not None and STUDIONINJA.parse_webhook is not None
        assert STUDIONINJA.verify_webhook(headers, body, SECRET) is True
        [event] = STUDIONINJA.parse_webhook(headers, body)
        seen[trigger.name] = (event.type, event.idempotency_key)
    assert seen == {
        "client_created": ("crm.client_created", "client_created:r1"),
        "lead_created": ("crm.lead_created", "lead_created:r1"),
        "job_confirmed": ("crm.project_booked", "job_confirmed:r1"),
        "payment_received": ("payment.received", "payment_received:r1"),
    }


@pytest.mark.parametrize(
    "credentials",
    [
        {"webhook_secret": "not-a-whsec-secret"},
        {"webhook_secret": SECRET, "signing": "secret_header"},
        {"webhook_secret": "short", "signing": "secret_header"},
        {"webhook_secret": ""},
        {"signing": "carrier_pigeon"},
    ],
)
def test_bad_bridge_credentials_are_refused(credentials: dict[str, str]) -> None:
    with pytest.raises((ValueError, msgspec.ValidationError)):
        parse_config(Credentials, credentials)


def test_credentials_hide_the_secret() -> None:
    assert SECRET not in repr(parse_config(Credentials, {"webhook_secret": SECRET}))
