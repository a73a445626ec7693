"""The Stripe event source: Aisle's conformance suite, and how each payment event reads."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from aisle import WebhookRefused
from aisle.testing import EventSourceSuite, Signer
from aisle_payments_stripe import STRIPE
from aisle_payments_stripe.payments import major_units
from aisle_payments_stripe.signature import StripeSecret
from aisle_payments_stripe.testing import signed_headers, stripe_event

SECRET = "whsec_suiteSecret0123456789abcdef"  # noqa: S105 (a test endpoint's secret)


def _intent(pi: str, amount: int = 15000, currency: str = "gbp", **extra: Any) -> dict[str, Any]:
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "customer": "cus_Q1",
        "metadata": {},
        "receipt_email": None,
        **extra,
    }


class TestStripeSource(EventSourceSuite):
    @pytest.fixture
    def source(self) -> Any:
        return STRIPE

    @pytest.fixture
    def secret(self) -> Mapping[str, Any]:
        return {"signing_secret": SECRET}

    @pytest.fixture
    def wrong_secret(self) -> Mapping[str, Any]:
        return {"signing_secret": "whsec_anotherEndpoint9876543210"}

    @pytest.fixture
    def sign(self) -> Signer:
        def sign(body: bytes, secret: Mapping[str, Any], timestamp: int) -> Mapping[str, str]:
            return signed_headers(body, secret["signing_secret"], timestamp=timestamp)

        return sign

    @pytest.fixture
    def deliveries(self) -> Sequence[bytes]:
        return [
            stripe_event("payment_intent.succeeded", _intent("pi_A"), event_id="evt_A"),
            stripe_event("payment_intent.succeeded", _intent("pi_B"), event_id="evt_B"),
        ]


def _parse(type: str, obj: Mapping[str, Any], event_id: str = "evt_1") -> list[Any]:
    body = stripe_event(type, obj, event_id=event_id, created=1_760_000_000)
    return list(STRIPE.parse(signed_headers(body, SECRET), body))


def test_a_payment_intent_is_a_payment_in_major_units() -> None:
    (event,) = _parse(
        "payment_intent.succeeded",
        _intent("pi_1", 123456, metadata={"aisle_contact_id": "c_9"}, receipt_email="a@b.co"),
    )
    assert event.type == "payment.received"
    assert event.payload["amount"] == "1234.56"
    assert event.payload["currency"] == "GBP"
    assert event.payload["stripe_payment_intent"] == "pi_1"
    assert event.payload["stripe_customer"] == "cus_Q1"
    assert event.contact == {"aisle_contact_id": "c_9", "email": "a@b.co"}
    assert event.contact_external_id == "cus_Q1"
    assert event.idempotency_key == "payment_intent:pi_1"
    assert event.occurred_at is not None and event.occurred_at.timestamp() == 1_760_000_000


def test_a_paid_checkout_takes_the_customers_email_and_names_its_payment_intent() -> None:
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "amount_total": 50000,
        "currency": "eur",
        "customer": None,
        "customer_details": {"email": "Couple@Example.com"},
        "payment_intent": "pi_7",
        "payment_status": "paid",
        "metadata": {"aisle_enrollment_id": "en_3"},
    }
    (event,) = _parse("checkout.session.completed", session)
    assert (event.payload["amount"], event.payload["currency"]) == ("500.00", "EUR")
    assert event.contact == {"email": "Couple@Example.com"}
    assert event.payload["enrollment_id"] == "en_3"
    # The same payment as its payment intent's own event: counted once.
    assert (
        event.idempotency_key
        == _parse("payment_intent.succeeded", _intent("pi_7"))[0].idempotency_key
    )


def test_an_unpaid_checkout_is_no_payment_yet() -> None:
    session = {"id": "cs_2", "amount_total": 100, "currency": "usd", "payment_status": "unpaid"}
    assert _parse("checkout.session.completed", session) == []


def test_a_paid_invoice_is_a_payment_keyed_by_the_invoice() -> None:
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "amount_paid": 250000,
        "currency": "jpy",
        "customer": "cus_Z",
        "customer_email": "pay@example.com",
    }
    (event,) = _parse("invoice.paid", invoice)
    assert (event.payload["amount"], event.payload["currency"]) == ("250000", "JPY")
    assert event.idempotency_key == "invoice:in_1"
    assert event.contact == {"email": "pay@example.com"}


def test_other_event_types_give_no_events() -> None:
    assert _parse("customer.created", {"id": "cus_1", "object": "customer"}) == []


def test_a_payment_without_amount_is_refused() -> None:
    with pytest.raises(WebhookRefused, match="no amount"):
        _parse("invoice.paid", {"id": "in_2", "currency": "gbp"})


@pytest.mark.parametrize(
    ("amount", "currency", "major"),
    [(1, "gbp", "0.01"), (500, "JPY", "500"), (1234, "kwd", "1.234"), (0, "usd", "0.00")],
)
def test_major_units(amount: int, currency: str, major: str) -> None:
    assert major_units(amount, currency) == major


def test_a_signature_from_the_future_with_a_wrong_scheme_is_refused() -> None:
    body = stripe_event("payment_intent.succeeded", _intent("pi_1"))
    headers = {"stripe-signature": f"t={int(time.time())},v0=abc"}
    with pytest.raises(WebhookRefused, match="no v1 signature"):
        STRIPE.verify(headers, body, StripeSecret(signing_secret=SECRET))
