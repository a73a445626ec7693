"""Stripe events that mean money arrived, as ``payment.received`` events.

``checkout.session.completed`` (once paid), ``payment_intent.succeeded`` and
``invoice.paid`` each carry an amount in the currency's smallest unit; the event gets
it in major units (``"150.00"``) with the ISO currency code, as the
``payment_received`` trigger reads them. The couple is named by the object's metadata
(``aisle_contact_id``), its Stripe customer, or the email Stripe holds for the payer.

One payment can be reported by two events (a checkout and its payment intent, an
invoice and its payment intent), and Stripe delivers every event at least once. The
idempotency key therefore names the payment, not the event: the invoice when the
object names one, else the payment intent, else the object itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from aisle import InboundEvent, WebhookRefused

__all__ = ["PAYMENT_EVENTS", "major_units", "parse"]

# https://docs.stripe.com/currencies#special-cases
_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


class _Data(msgspec.Struct):
    object: dict[str, Any]


class _Event(msgspec.Struct):
    id: str
    type: str
    created: int
    data: _Data
    livemode: bool = False


class _Payment(msgspec.Struct, frozen=True, kw_only=True):
    amount: int | None
    currency: str | None
    email: str | None
    payment_intent: str | None
    invoice: str | None


def _text(value: Any) -> str | None:
    # Expandable fields arrive as an id, or as the object when expanded.
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _payment_intent(obj: Mapping[str, Any]) -> _Payment:
    amount = _int(obj.get("amount_received"))
    return _Payment(
        amount=amount if amount is not None else _int(obj.get("amount")),
        currency=_text(obj.get("currency")),
        email=_text(obj.get("receipt_email")),
        payment_intent=_text(obj.get("id")),
        invoice=_text(obj.get("invoice")),
    )


def _checkout_session(obj: Mapping[str, Any]) -> _Payment | None:
    if obj.get("payment_status") != "paid":
        # Delayed methods (bank debits) pay later, reported by payment_intent.succeeded;
        # "no_payment_required" is no payment at all.
        return None
    details = obj.get("customer_details")
    email = _text(details.get("email")) if isinstance(details, Mapping) else None
    return _Payment(
        amount=_int(obj.get("amount_total")),
        currency=_text(obj.get("currency")),
        email=email or _text(obj.get("customer_email")),
        payment_intent=_text(obj.get("payment_intent")),
        invoice=_text(obj.get("invoice")),
    )


def _invoice(obj: Mapping[str, Any]) -> _Payment:
    return _Payment(
        amount=_int(obj.get("amount_paid")),
        currency=_text(obj.get("currency")),
        email=_text(obj.get("customer_email")),
        payment_intent=_text(obj.get("payment_intent")),
        invoice=_text(obj.get("id")),
    )


PAYMENT_EVENTS: Mapping[str, Callable[[Mapping[str, Any]], _Payment | None]] = {
    "checkout.session.completed": _checkout_session,
    "payment_intent.succeeded": _payment_intent,
    "invoice.paid": _invoice,
}
"""The Stripe event types that become ``payment.received``; others are acknowledged
and ignored."""


def major_units(amount: int, currency: str) -> str:
    """``15000`` GBP pence as ``"150.00"``; zero- and three-decimal currencies kept exact."""
    code = currency.lower()
    places = 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2
    return str(Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def parse(headers: Mapping[str, str], body: bytes) -> Sequence[InboundEvent]:
    """The ``payment.received`` event a verified Stripe delivery carries, if any."""
    try:
        event = msgspec.json.decode(body, type=_Event)
    except msgspec.DecodeError as exc:
        raise WebhookRefused(f"the body is not a Stripe event: {exc}") from None
    read = PAYMENT_EVENTS.get(event.type)
    obj = event.data.object
    payment = read(obj) if read is not None else None
    if payment is None:
        return []
    if payment.amount is None or payment.currency is None:
        raise WebhookRefused(f"{event.type} {event.id} carries no amount or currency")
    object_id = _text(obj.get("id")) or event.id
    if payment.invoice:
        key = f"invoice:{payment.invoice}"
    elif payment.payment_intent:
        key = f"payment_intent:{payment.payment_intent}"
    else:
        key = f"{obj.get('object') or 'object'}:{object_id}"
    raw_metadata = obj.get("metadata")
    metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, Mapping) else {}
    contact = {
        "aisle_contact_id": _text(metadata.get("aisle_contact_id")),
        "email": payment.email,
    }
    payload: dict[str, Any] = {
        "amount": major_units(payment.amount, payment.currency),
        "currency": payment.currency.upper(),
        "provider": "stripe",
        "livemode": event.livemode,
        "stripe_event_id": event.id,
        "stripe_event_type": event.type,
        "stripe_object_id": object_id,
        "stripe_payment_intent": payment.payment_intent,
        "stripe_invoice": payment.invoice,
        "stripe_customer": _text(obj.get("customer")),
        # A studio that takes a step's payment names the enrollment it is for.
        "enrollment_id": _text(metadata.get("aisle_enrollment_id")),
    }
    return [
        InboundEvent(
            type="payment.received",
            external_id=object_id,
            payload={k: v for k, v in payload.items() if v is not None},
            idempotency_key=key,
            contact={k: v for k, v in contact.items() if v is not None},
            contact_external_id=_text(obj.get("customer")),
            occurred_at=datetime.fromtimestamp(event.created, tz=UTC),
        )
    ]
