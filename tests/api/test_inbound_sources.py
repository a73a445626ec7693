"""Issue 13 item 6: Stripe deliveries through the inbound URL, on both databases.

A studio owner stores the endpoint's signing secret; a Stripe ``payment_intent.succeeded``
signed with Stripe's scheme advances the couple's enrollment waiting for a payment; a
forged, changed or old delivery is refused (400) and logged without the secret; a
replay is a 200 that does nothing. The inbound URL answers an unknown organization and
a studio without the source alike.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.storage.studio_secrets import StudioSecretTable
from aisle_payments_stripe.testing import signed_headers, stripe_event
from tests.api.conftest import Org, open_client
from tests.api.helpers import edge, node
from tests.api.test_lifecycle_api import Api
from tests.conftest import TEST_SECRET_KEY

SECRET = "whsec_stripeEndpointSecret0123456789"
FORGER = "whsec_someoneElsesEndpoint987654321"


@pytest.fixture
def app(store: Store, registry: Registry, tmp_path: Path) -> Litestar:
    settings = Settings(
        data_dir=str(tmp_path / "data"), database_url=store.db.url, secret_key=TEST_SECRET_KEY
    )
    return create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(app):
        yield c


def _intent(pi: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "gbp",
        "customer": None,
        "metadata": {},
        "receipt_email": None,
        **extra,
    }


async def _deposit_journey(api: Api) -> str:
    flow = {
        "nodes": [node("deposit", "wait", 0, 0, label="Deposit"), node("booked", "end", 250, 0)],
        "edges": [
            edge("paid", "deposit", "booked", "payment_received", min_amount="500", currency="GBP")
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={"name": "Booking", "flow": flow, "settings": {"start_step": "deposit"}},
    )
    await api("POST", f"/journeys/{journey['id']}/publish", 201, json={})
    return str(journey["id"])


def _url(org: Org | str, source: str = "stripe") -> str:
    org_id = org if isinstance(org, str) else org.id
    return f"/api/v1/inbound/sources/{source}/{org_id}"


async def _deliver(
    client: httpx.AsyncClient, org: Org | str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(_url(org), content=body, headers=headers)


async def test_a_signed_payment_advances_the_couple_and_a_replay_or_forgery_does_nothing(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    owner = Api(client, org_a)
    set_up = await owner("PUT", "/settings/sources/stripe", json={"signing_secret": SECRET})
    assert set_up["secret_set"] is True and SECRET not in str(set_up)
    assert set_up["inbound_url_path"] == _url(org_a)
    journey = await _deposit_journey(owner)
    couple = await owner("POST", "/contacts", 201, json={"email": "ada@example.com"})
    other = await owner("POST", "/contacts", 201, json={"email": "grace@example.com"})
    enrollments = {}
    for contact in (couple, other):
        enrolled = await owner(
            "POST", "/enrollments", 201, json={"contact_id": contact["id"], "journey_id": journey}
        )
        assert enrolled["step_id"] == "deposit"
        enrollments[contact["id"]] = enrolled["id"]

    body = stripe_event(
        "payment_intent.succeeded",
        _intent("pi_deposit", 50000, metadata={"aisle_contact_id": couple["id"]}),
        event_id="evt_deposit",
    )
    headers = signed_headers(body, SECRET)
    paid = await _deliver(client, org_a, body, headers)
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"accepted": 1, "replayed": 0, "unmatched": 0}
    done = await owner("GET", f"/enrollments/{enrollments[couple['id']]}")
    assert done["status"] == "completed"
    events = await owner("GET", "/log", params={"contact_id": couple["id"], "kind": "edge."})
    assert [e["kind"] for e in events["items"]] == ["edge.taken"]

    # The same delivery again (a replay within the tolerance), and Stripe's own retry
    # signed anew: both answered 200, neither taken again.
    for again in (headers, signed_headers(body, SECRET)):
        replay = await _deliver(client, org_a, body, again)
        assert replay.status_code == 200, replay.text
        assert replay.json() == {"accepted": 0, "replayed": 1, "unmatched": 0}
    replays = await owner("GET", "/log", params={"kind": "source.delivery_replayed"})
    assert len(replays["items"]) == 2

    # A forged payment for the other couple, a changed amount, an old signature.
    theirs = stripe_event(
        "payment_intent.succeeded",
        _intent("pi_forged", 90000, metadata={"aisle_contact_id": other["id"]}),
        event_id="evt_forged",
    )
    changed = body.replace(b"50000", b"90000")
    refusals = [
        (theirs, signed_headers(theirs, FORGER), "does not match"),
        (changed, headers, "does not match"),
        (theirs, signed_headers(theirs, SECRET, timestamp=int(time.time()) - 600), "300 s old"),
        (theirs, {"content-type": "application/json"}, "no Stripe-Signature"),
    ]
    for sent, sent_headers, reason in refusals:
        refused = await _deliver(client, org_a, sent, sent_headers)
        assert refused.status_code == 400, refused.text
        assert reason in refused.json()["detail"] and SECRET not in refused.text
    still = await owner("GET", f"/enrollments/{enrollments[other['id']]}")
    assert still["status"] == "active" and still["step_id"] == "deposit"
    logged = await owner("GET", "/log", params={"kind": "source.delivery_refused"})
    assert len(logged["items"]) == len(refusals)
    assert all(SECRET not in str(e) and FORGER not in str(e) for e in logged["items"])
    assert {e["data"]["source"] for e in logged["items"]} == {"stripe"}


async def test_a_checkout_finds_the_couple_by_email_and_an_unknown_payer_is_kept(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    owner = Api(client, org_a)
    await owner("PUT", "/settings/sources/stripe", json={"signing_secret": SECRET})
    couple = await owner(
        "POST",
        "/contacts",
        201,
        json={"partners": [{"first_name": "Ada", "email": "ada.l@example.com"}]},
    )
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "amount_total": 120000,
        "currency": "gbp",
        "customer_details": {"email": "Ada.L@Example.com"},
        "payment_intent": "pi_checkout",
        "payment_status": "paid",
        "metadata": {},
    }
    body = stripe_event("checkout.session.completed", session, event_id="evt_cs")
    taken = await _deliver(client, org_a, body, signed_headers(body, SECRET))
    assert taken.json() == {"accepted": 1, "replayed": 0, "unmatched": 0}
    # Its payment intent's own event is the same payment: not counted twice.
    twin = stripe_event("payment_intent.succeeded", _intent("pi_checkout", 120000), event_id="e2")
    same = await _deliver(client, org_a, twin, signed_headers(twin, SECRET))
    assert same.json() == {"accepted": 0, "replayed": 1, "unmatched": 0}
    received = await owner("GET", "/log", params={"contact_id": couple["id"]})
    assert received is not None

    stranger = stripe_event(
        "payment_intent.succeeded",
        _intent("pi_stranger", 100, receipt_email="who@example.com"),
        event_id="evt_stranger",
    )
    kept = await _deliver(client, org_a, stranger, signed_headers(stranger, SECRET))
    assert kept.json() == {"accepted": 1, "replayed": 0, "unmatched": 1}
    unmatched = await owner("GET", "/log", params={"kind": "source.event_unmatched"})
    assert len(unmatched["items"]) == 1

    ignored = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    nothing = await _deliver(client, org_a, ignored, signed_headers(ignored, SECRET))
    assert nothing.json() == {"accepted": 0, "replayed": 0, "unmatched": 0}


async def test_the_inbound_url_tells_nothing_about_other_organizations(
    client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    await Api(client, org_a)("PUT", "/settings/sources/stripe", json={"signing_secret": SECRET})
    body = stripe_event("payment_intent.succeeded", _intent("pi_1", 100))
    headers = signed_headers(body, SECRET)
    unset = await _deliver(client, org_b, body, headers)
    missing = await _deliver(client, "01NOSUCHORGANIZATION", body, headers)
    assert unset.status_code == missing.status_code == 404
    assert unset.json()["detail"] == missing.json()["detail"]
    unknown = await client.post(_url(org_a, "paypal"), content=body, headers=headers)
    assert unknown.status_code == 404 and "stripe" in unknown.json()["detail"]
    # Signed with org A's secret, posted to org B (which set its own): refused there.
    await Api(client, org_b)("PUT", "/settings/sources/stripe", json={"signing_secret": FORGER})
    crossed = await _deliver(client, org_b, body, headers)
    assert crossed.status_code == 400
    b_log = await Api(client, org_b)("GET", "/log", params={"kind": "source."})
    a_log = await Api(client, org_a)("GET", "/log", params={"kind": "source."})
    assert len(b_log["items"]) == 1 and a_log["items"] == []


async def test_owners_set_the_secret_which_is_never_answered_nor_stored_in_clear(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    listed = await Api(client, org_a, "viewer")("GET", "/settings/sources")
    assert [s["name"] for s in listed["items"]] == ["stripe"]
    assert listed["items"][0]["secret_set"] is False
    schema = listed["items"][0]["secret_schema"]
    assert schema["$defs"]["StripeSecret"]["required"] == ["signing_secret"]
    await Api(client, org_a, "admin")(
        "PUT", "/settings/sources/stripe", 403, json={"signing_secret": SECRET}
    )
    owner = Api(client, org_a)
    bad = await owner("PUT", "/settings/sources/stripe", 422, json={"signing_secret": "sk_live_x"})
    assert bad["errors"][0]["field"] == "signing_secret" and "sk_live_x" not in str(bad)
    await owner("PUT", "/settings/sources/stripe", 422, json={"signing_secret": SECRET, "x": 1})
    await owner("PUT", "/settings/sources/paypal", 404, json={"signing_secret": SECRET})
    stored = await owner("PUT", "/settings/sources/stripe", json={"signing_secret": SECRET})
    assert stored["secret_fingerprint"].startswith("sha256:")
    read = await owner("GET", "/settings/sources/stripe")
    assert read["secret_set"] is True and SECRET not in str(read)
    rows = await StudioSecretTable.select().where(StudioSecretTable.organization_id == org_a.id)
    assert rows and all(SECRET not in str(row) for row in rows)
    await owner("DELETE", "/settings/sources/stripe", 204)
    body = stripe_event("payment_intent.succeeded", _intent("pi_1", 100))
    gone = await _deliver(client, org_a, body, signed_headers(body, SECRET))
    assert gone.status_code == 404
