"""aisle.bridges: Zap deliveries verified (signed or by secret header) and parsed into
events that repeat their keys on a replay; pushes signed to catch hooks on real sockets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio

from aisle import (
    BridgeCredentials,
    CatchHook,
    DestinationRefused,
    PermanentError,
    RateLimited,
    WebhookRefused,
    ZapierBridge,
    ZapTrigger,
    http_client,
)
from aisle.testing.zapier import FakeZapier, ZapSender

WHSEC = "whsec_dGVzdC1icmlkZ2Utc2VjcmV0LTAxMjM0NTY3ODlhYmM="
HEADER_SECRET = "plain-shared-secret-0123456789abcdef"

BRIDGE = ZapierBridge(
    app="Studio CRM",
    triggers=(
        ZapTrigger(
            name="client_created",
            label="client created",
            event_type="crm.client_created",
            client_id_field="id",
        ),
        ZapTrigger(name="payment_paid", label="payment paid", event_type="payment.received"),
        ZapTrigger(
            name="stage_changed",
            label="stage changed",
            event_type="crm.stage_changed",
            key_fields=("id", "stage", "changed_at"),
        ),
    ),
    contact_fields={"email": "email", "partners.0.first_name": "first_name"},
    catch_hooks=(
        CatchHook(
            kind="contacts",
            action="create_client",
            label="create client",
            url_field="clients_hook_url",
        ),
    ),
)
PROVIDER = BRIDGE.provider(name="studio_crm", label="Studio CRM", credentials=BridgeCredentials)


class HookCredentials(BridgeCredentials, kw_only=True, forbid_unknown_fields=True):
    clients_hook_url: str | None = None


def signed(trigger: str, fields: dict[str, Any], **kw: Any) -> tuple[dict[str, str], bytes]:
    return ZapSender(WHSEC, "standard_webhooks").delivery(trigger, fields, **kw)


PAYMENT = {"id": "pay_1", "client_id": "cl_9", "email": "Ana@Example.com", "amount": "750.00"}

# -- verification -----------------------------------------------------------------------


def test_a_signed_delivery_verifies() -> None:
    headers, body = signed("payment_paid", PAYMENT)
    assert BRIDGE.verify_webhook(headers, body, WHSEC) is True
    upper = {k.upper(): v for k, v in headers.items()}
    assert BRIDGE.verify_webhook(upper, body, WHSEC) is True


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda h, b: (h, b.replace(b"750.00", b"7500.00")), id="tampered body"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_other"}, b), id="another id"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), id="wrong signature"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "garbage"}, b), id="malformed"),
        pytest.param(lambda h, b: ({"content-type": "application/json"}, b), id="unsigned"),
        pytest.param(lambda h, b: (h, b"\xff\xfe"), id="undecodable body"),
    ],
)
def test_a_forged_signed_delivery_is_rejected(forge: Any) -> None:
    headers, body = forge(*signed("payment_paid", PAYMENT))
    assert BRIDGE.verify_webhook(headers, body, WHSEC) is False


@pytest.mark.parametrize(("offset", "says"), [(-301, "s old"), (-3600, "s old"), (400, "future")])
def test_a_signed_delivery_outside_five_minutes_is_refused_with_the_reason(
    offset: int, says: str
) -> None:
    headers, body = signed("payment_paid", PAYMENT, at=time.time() + offset)
    with pytest.raises(WebhookRefused, match=says) as refused:
        BRIDGE.verify_webhook(headers, body, WHSEC)
    assert WHSEC not in str(refused.value)


def test_a_signed_delivery_within_five_minutes_verifies() -> None:
    headers, body = signed("payment_paid", PAYMENT, at=time.time() - 280)
    assert BRIDGE.verify_webhook(headers, body, WHSEC) is True


def test_the_secret_header_is_compared_and_signatures_do_not_stand_in_for_it() -> None:
    zaps = ZapSender(HEADER_SECRET, "secret_header")
    headers, body = zaps.delivery("payment_paid", PAYMENT)
    assert BRIDGE.verify_webhook(headers, body, HEADER_SECRET) is True
    assert BRIDGE.verify_webhook(headers, body, HEADER_SECRET + "x") is False
    wrong = {**headers, "x-aisle-bridge-secret": HEADER_SECRET[:-1] + "?"}
    assert BRIDGE.verify_webhook(wrong, body, HEADER_SECRET) is False
    # A connection whose Zaps sign accepts no secret header, and the reverse.
    assert BRIDGE.verify_webhook(headers, body, WHSEC) is False
    assert BRIDGE.verify_webhook(*signed("payment_paid", PAYMENT), HEADER_SECRET) is False


def test_a_connection_without_a_secret_refuses() -> None:
    with pytest.raises(WebhookRefused, match="no webhook secret"):
        BRIDGE.verify_webhook(*signed("payment_paid", PAYMENT), "")


# -- parsing ------------------------------------------------------------------------------


def test_a_delivery_becomes_the_triggers_event_with_the_couples_fields() -> None:
    [event] = BRIDGE.parse_webhook(
        *signed("payment_paid", {**PAYMENT, "occurred_at": "2026-05-02T10:00:00Z"})
    )
    assert event.type == "payment.received"
    assert event.external_id == "pay_1"
    assert event.idempotency_key == "payment_paid:pay_1"
    assert event.contact == {"email": "Ana@Example.com"}
    assert event.contact_external_id == "cl_9"
    assert event.payload["amount"] == "750.00"
    assert (
        event.occurred_at is not None
        and event.occurred_at.isoformat() == "2026-05-02T10:00:00+00:00"
    )
    [created] = BRIDGE.parse_webhook(*signed("client_created", {"id": "cl_9", "first_name": "Ana"}))
    assert created.contact_external_id == "cl_9"
    assert created.contact == {"first_name": "Ana"}


def test_a_replay_repeats_the_key_even_under_a_new_webhook_id() -> None:
    first = BRIDGE.parse_webhook(*signed("payment_paid", PAYMENT, message_id="msg_a"))
    replayed = BRIDGE.parse_webhook(*signed("payment_paid", PAYMENT, message_id="msg_b"))
    assert [e.idempotency_key for e in first] == [e.idempotency_key for e in replayed]


def test_each_stage_change_is_its_own_event() -> None:
    keys = {
        BRIDGE.parse_webhook(*signed("stage_changed", {"id": "p1", "stage": s, "changed_at": t}))[
            0
        ].idempotency_key
        for s, t in [("proposal", "1"), ("booked", "2"), ("proposal", "3")]
    }
    assert len(keys) == 3


def test_without_the_record_id_the_webhook_id_keys_the_event() -> None:
    headers, body = signed("payment_paid", {"email": "ana@example.com"}, message_id="msg_77")
    [event] = BRIDGE.parse_webhook(headers, body)
    assert event.idempotency_key == "payment_paid:webhook:msg_77"
    unsigned = ZapSender(HEADER_SECRET, "secret_header").delivery("payment_paid", {})
    with pytest.raises(ValueError, match="'id' or a webhook-id"):
        BRIDGE.parse_webhook(*unsigned)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"trigger": "invoice_sent", "id": "1"}', "unknown trigger 'invoice_sent'"),
        (b'{"id": "1"}', "no 'trigger'"),
        (b'["payment_paid"]', "JSON object"),
    ],
)
def test_a_payload_that_is_no_known_trigger_does_not_parse(body: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        BRIDGE.parse_webhook({}, body)


def test_a_bridge_names_each_trigger_and_hook_once() -> None:
    trigger = BRIDGE.triggers[0]
    with pytest.raises(ValueError, match="name each trigger once"):
        ZapierBridge(app="X", triggers=(trigger, trigger), contact_fields={})
    hook = BRIDGE.catch_hooks[0]
    with pytest.raises(ValueError, match="one catch hook per kind"):
        ZapierBridge(app="X", triggers=(trigger,), contact_fields={}, catch_hooks=(hook, hook))


# -- credentials --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"webhook_secret": "not-a-whsec-secret-at-all-000000"},
        {"webhook_secret": "whsec_!!!"},
        {"webhook_secret": WHSEC, "signing": "secret_header"},
        {"webhook_secret": "short", "signing": "secret_header"},
    ],
)
def test_the_secret_must_suit_the_signing_mode(raw: dict[str, str]) -> None:
    with pytest.raises(msgspec.ValidationError, match="webhook_secret"):
        msgspec.convert(raw, BridgeCredentials)


def test_credentials_show_no_secret_or_hook_url() -> None:
    url = "https://hooks.zapier.com/hooks/catch/1/secretpath/"
    credentials = msgspec.convert(
        {"webhook_secret": WHSEC, "clients_hook_url": url}, HookCredentials
    )
    assert WHSEC not in repr(credentials) and url not in repr(credentials)
    assert "standard_webhooks" in repr(credentials)


# -- pushing ------------------------------------------------------------------------------


@pytest.fixture
def zapier() -> Iterator[FakeZapier]:
    with FakeZapier(BRIDGE, WHSEC) as server:
        yield server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(allow=["127.0.0.1/32"], timeout=10.0) as client:
        yield client


def hooked(zapier: FakeZapier, secret: str = WHSEC) -> HookCredentials:
    return msgspec.convert({"webhook_secret": secret, **zapier.hook_urls()}, HookCredentials)


async def test_a_push_posts_a_signed_create_then_a_signed_update(
    zapier: FakeZapier, http: httpx.AsyncClient
) -> None:
    client = BRIDGE.client(hooked(zapier), http)
    record_id = await client.push_record("contacts", None, {"email": "ana@example.com"})
    assert await client.push_record("contacts", record_id, {"first_name": "Ana"}) == record_id
    create, update = zapier.catches
    assert create.verified and update.verified
    assert create.payload == {
        "action": "create_client",
        "record_id": record_id,
        "email": "ana@example.com",
    }
    assert update.payload["action"] == "update_client"
    assert zapier.stored("contacts", record_id) == {"email": "ana@example.com", "first_name": "Ana"}
    assert create.headers["webhook-id"] != update.headers["webhook-id"]


async def test_a_push_signed_with_another_secret_fails_the_zaps_check(
    zapier: FakeZapier, http: httpx.AsyncClient
) -> None:
    other = "whsec_YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlcg=="
    record_id = await BRIDGE.client(hooked(zapier, other), http).push_record(
        "contacts", None, {"email": "ana@example.com"}
    )
    assert [c.verified for c in zapier.catches] == [False]
    assert zapier.stored("contacts", record_id) is None


async def test_a_repeated_request_posts_the_same_ids(zapier: FakeZapier) -> None:
    ids = []
    for _ in range(2):
        async with http_client(
            allow=["127.0.0.1/32"], headers={"Idempotency-Key": "run-1:attempt"}
        ) as http:
            ids.append(await BRIDGE.client(hooked(zapier), http).push_record("contacts", None, {}))
    assert ids[0] == ids[1]
    assert len({c.headers["webhook-id"] for c in zapier.catches}) == 1


async def test_a_429_is_rate_limited_with_its_retry_after(
    zapier: FakeZapier, http: httpx.AsyncClient
) -> None:
    zapier.rate_limit(times=1, retry_after=42)
    client = BRIDGE.client(hooked(zapier), http)
    with pytest.raises(RateLimited) as limited:
        await client.push_record("contacts", None, {"email": "ana@example.com"})
    assert limited.value.retry_after == 42
    await client.push_record("contacts", None, {"email": "ana@example.com"})


async def test_a_failing_hook_is_named_never_its_url(
    zapier: FakeZapier, http: httpx.AsyncClient
) -> None:
    url = zapier.url + "/hooks/catch/1234567/gone/"
    credentials = msgspec.convert(
        {"webhook_secret": WHSEC, "clients_hook_url": url}, HookCredentials
    )
    with pytest.raises(httpx.HTTPStatusError) as failed:
        await BRIDGE.client(credentials, http).push_record("contacts", None, {})
    assert "create client" in str(failed.value) and "404" in str(failed.value)
    assert "gone" not in str(failed.value) and "gone" not in repr(failed.value)


async def test_pushing_without_the_hook_or_of_another_kind_is_permanent(
    http: httpx.AsyncClient,
) -> None:
    client = BRIDGE.client(msgspec.convert({"webhook_secret": WHSEC}, HookCredentials), http)
    with pytest.raises(PermanentError, match="set clients_hook_url"):
        await client.push_record("contacts", None, {})
    with pytest.raises(PermanentError, match="not 'projects'"):
        await client.push_record("projects", None, {})
    with pytest.raises(PermanentError, match="no public API"):
        await client.list_records("contacts", None)


async def test_catch_hooks_on_private_addresses_are_refused_unless_allowed(
    zapier: FakeZapier,
) -> None:
    async with http_client(allow=[]) as guarded:
        with pytest.raises(DestinationRefused):
            await BRIDGE.client(hooked(zapier), guarded).push_record("contacts", None, {})
    assert zapier.catches == []


def test_the_provider_takes_webhooks_and_pushes() -> None:
    assert PROVIDER.capabilities == {"webhooks", "push"}
    assert PROVIDER.push_kinds == ("contacts",)
    assert PROVIDER.field_mapping == {"email": "email", "partners.0.first_name": "first_name"}
