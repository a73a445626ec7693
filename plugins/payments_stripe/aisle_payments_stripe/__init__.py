"""Stripe as an Aisle event source: a studio's paid checkouts, payment intents and
invoices become ``payment.received`` events for the couple who paid.

This plugin is the template for event-source plugins: a secret Struct
(:mod:`.signature`), ``verify`` and ``parse`` (:mod:`.payments`), and one hook.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import EventSource, hookimpl
from aisle_payments_stripe.payments import parse
from aisle_payments_stripe.signature import StripeSecret, verify

__all__ = ["STRIPE", "aisle_event_sources"]

STRIPE = EventSource(
    name="stripe",
    label="Stripe",
    description="Payments taken with Stripe move couples on (checkouts, payment intents, "
    "invoices).",
    secret=StripeSecret,
    verify=verify,
    parse=parse,
    event_types=frozenset({"payment.received"}),
    setup="In Stripe's Dashboard (Developers → Webhooks) add an endpoint with your inbound "
    "URL and the events checkout.session.completed, payment_intent.succeeded and "
    "invoice.paid, then paste its signing secret (whsec_…) into Aisle.",
)


@hookimpl
def aisle_event_sources() -> Iterable[EventSource]:
    return [STRIPE]
