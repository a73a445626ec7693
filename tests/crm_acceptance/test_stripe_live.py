"""Issue 13 acceptance over a live socket: a Stripe ``payment_intent.succeeded`` signed
with the studio's endpoint secret advances the couple waiting for a deposit; a forged one
is refused (400) and logged; a replay is a 200 that does nothing."""

from __future__ import annotations

import pytest

from aisle_payments_stripe.testing import signed_headers, stripe_event

from .conftest import STRIPE_SECRET, Live, completed, deposit_journey, enroll

pytestmark = pytest.mark.slow


def _intent(pi: str, amount: int, contact_id: str) -> dict[str, object]:
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "gbp",
        "customer": None,
        "metadata": {"aisle_contact_id": contact_id},
        "receipt_email": None,
    }


async def test_a_signed_intent_advances_the_couple_a_forged_one_is_refused(live: Live) -> None:
    studio = await live.open_studio("stripe-studio")
    await studio.api("PUT", "/settings/sources/stripe", json={"signing_secret": STRIPE_SECRET})
    journey = await deposit_journey(studio.api, "GBP")
    couple = await enroll(studio.api, journey, email="ada@example.com")
    other = await enroll(studio.api, journey, email="grace@example.com")
    url = f"{live.url}/api/v1/inbound/sources/stripe/{studio.id}"

    theirs = stripe_event(
        "payment_intent.succeeded",
        _intent("pi_forged", 90000, other["contact_id"]),
        event_id="evt_forged",
    )
    forged = await live.client.post(
        url, content=theirs, headers=signed_headers(theirs, "whsec_notTheStudiosSecret0123")
    )
    assert forged.status_code == 400, forged.text
    assert STRIPE_SECRET not in forged.text

    body = stripe_event(
        "payment_intent.succeeded",
        _intent("pi_deposit", 50000, couple["contact_id"]),
        event_id="evt_deposit",
    )
    paid = await live.client.post(url, content=body, headers=signed_headers(body, STRIPE_SECRET))
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"accepted": 1, "replayed": 0, "unmatched": 0}
    await completed(studio.api, couple["id"])
    replay = await live.client.post(url, content=body, headers=signed_headers(body, STRIPE_SECRET))
    assert replay.json() == {"accepted": 0, "replayed": 1, "unmatched": 0}

    still = await studio.api("GET", f"/enrollments/{other['id']}")
    assert (still["status"], still["step_id"]) == ("active", "deposit")
    refused = await studio.api("GET", "/log", params={"kind": "source.delivery_refused"})
    assert len(refused["items"]) == 1
    assert STRIPE_SECRET not in str(refused["items"])
