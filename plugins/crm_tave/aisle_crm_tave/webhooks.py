"""Tave's REST hooks: thin, unsigned deliveries naming only the record's id.

Tave posts ``targetId`` (and the subscribed ``event``) to the subscription's URL; it
signs nothing and a subscription cannot carry a secret or a header (a RestHook holds
only ``event``, ``url`` and ``limitTo``). So nothing in a delivery is trusted but the
id: :func:`parse_webhook` names the record's kind (``fetch_kind``), the engine fetches
it over the API with the studio's key, and :func:`complete_event` builds the Aisle
event from what Tave holds, not from what was posted. A forged delivery can at most
make Aisle re-read a record of the studio's own Tave; the connection's inbound URL,
unguessable per connection, is what keeps strangers from knocking at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aisle import ExternalRecord, InboundEvent
from aisle_crm_tave.records import timestamp

__all__ = [
    "HOOKS",
    "MINOR_UNITS",
    "Hook",
    "complete_event",
    "parse_webhook",
    "verify_webhook",
]

MINOR_UNITS = Decimal(100)
"""Tave's money fields are integers "in the studio's currency": read as its cents."""


@dataclass(frozen=True)
class Hook:
    """A Tave hook event: the kind of record it names, and the Aisle event it becomes."""

    kind: str
    event_type: str


HOOKS: Mapping[str, Hook] = {
    "contact.created": Hook("contacts", "crm.contact_created"),
    "job.created": Hook("jobs", "crm.job_created"),
    "order.booked": Hook("orders", "crm.order_booked"),
    "payment.created": Hook("payments", "payment.received"),
}

_ULID = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$", re.IGNORECASE)
_RECEIVED = "posted"  # the other statuses are scheduled, pending or failed payments


def _delivery(body: bytes) -> tuple[str, str] | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    event, target = message.get("event"), message.get("targetId")
    if not isinstance(event, str) or event not in HOOKS:
        return None
    if not isinstance(target, str) or not _ULID.match(target):
        return None
    return event, target.lower()


def verify_webhook(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether the body is a Tave delivery: a subscribed event and a ULID ``targetId``.

    There is no signature to check (see the module's notes); ``secret`` is unused.
    """
    return _delivery(body) is not None


def parse_webhook(headers: Mapping[str, str], body: bytes) -> Sequence[InboundEvent]:
    """One thin event per delivery; Tave's event and id make its idempotency key."""
    delivery = _delivery(body)
    if delivery is None:
        return []
    event, target = delivery
    hook = HOOKS[event]
    return [
        InboundEvent(
            type=hook.event_type,
            external_id=target,
            payload={"tave_event": event},
            idempotency_key=f"tave:{event}:{target}",
            contact_external_id=target if hook.kind == "contacts" else None,
            fetch_kind=hook.kind,
        )
    ]


def complete_event(event: InboundEvent, record: ExternalRecord) -> InboundEvent | None:
    """The Aisle event for a fetched record; ``None`` for a payment not yet received.

    A payment becomes ``payment.received`` with ``amount`` (a decimal string in the
    studio's currency) and ``currency`` (the studio's ``currencyCode``), as the
    ``payment_received`` trigger reads them; other records travel as ``record``.
    """
    fields = record.fields
    couple = event.contact_external_id or (record.contact_ids[0] if record.contact_ids else None)
    payload: dict[str, Any] = {**event.payload, "record": dict(fields)}
    if record.kind == "payments":
        if fields.get("status", _RECEIVED) != _RECEIVED:
            return None
        amount = Decimal(int(fields.get("amount") or 0)) / MINOR_UNITS
        payload = {
            **event.payload,
            "amount": str(amount.quantize(Decimal("0.01"))),
            "currency": fields.get("currencyCode"),
            "payment_id": record.id,
            "job_id": fields.get("jobId"),
            "received": fields.get("received"),
        }
    return InboundEvent(
        type=event.type,
        external_id=event.external_id,
        payload=payload,
        idempotency_key=event.idempotency_key,
        contact=event.contact,
        contact_external_id=couple,
        occurred_at=timestamp(fields.get("created")) or event.occurred_at,
    )
