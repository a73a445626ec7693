"""Event sources: services outside Aisle that post events to a studio (payments, forms).

A source is the inbound half of an integration without a CRM connection: each studio
sets the source's secret (Stripe's endpoint signing secret), and the source posts to
``POST /api/v1/inbound/sources/<name>/<organization id>``. There is no API token on
that URL: the signature is the authentication, so Aisle calls :attr:`EventSource.verify`
on the exact bytes received before anything reads them.

What :attr:`EventSource.parse` returns are :class:`~aisle.InboundEvent`\\ s:

- ``type`` is the Aisle event type (``payment.received`` advances a ``payment_received``
  step); ``payload`` what its triggers read (``amount`` in major units as a decimal
  string, ``currency`` as an ISO 4217 code, and the source's own ids).
- ``idempotency_key`` is the same for every delivery of one remote fact (a retried
  delivery, a replay): Aisle prefixes it with the source's name and accepts it once.
- ``contact`` identifies the couple: ``aisle_contact_id`` (an Aisle contact id the
  remote carries, such as Stripe metadata) and/or ``email``; ``contact_external_id``
  is the couple's id at the source (matched against the contact's external id under
  the source's name). An event that matches no couple is kept, attached to no one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aisle.contracts.crm import InboundEvent
from aisle.contracts.registrations import Registration

__all__ = ["SOURCE_CONTACT_FIELDS", "EventSource"]

SOURCE_CONTACT_FIELDS: Mapping[str, str] = {
    "aisle_contact_id": "the Aisle contact id the remote carries (its metadata)",
    "email": "an email address of the couple",
}
"""The keys of ``InboundEvent.contact`` Aisle matches a source's events by, in order
(after ``contact_external_id``)."""


@dataclass(frozen=True, kw_only=True)
class EventSource(Registration):
    """A service that posts events to a studio's inbound URL, verified by a secret.

    ``secret`` is the msgspec Struct a studio fills in once (``PUT
    /api/v1/settings/sources/<name>``); Aisle stores it encrypted and never shows it
    again. ``verify(headers, body, secret)`` receives the request's headers (names
    lower-cased), its exact body and the studio's ``secret`` (an instance of that
    Struct), and raises :class:`~aisle.WebhookRefused` saying why (a bad signature, a
    timestamp too old), never quoting the secret. ``parse(headers, body)`` runs only
    on verified deliveries; an event type the source does not turn into an Aisle event
    gives no events (Aisle answers 200 so that the source does not retry it).
    ``event_types`` are the Aisle event types ``parse`` may return; ``setup`` tells a
    studio, in a sentence or two, where to add the inbound URL at the source.
    """

    secret: type[Any]
    verify: Callable[[Mapping[str, str], bytes, Any], None]
    parse: Callable[[Mapping[str, str], bytes], Sequence[InboundEvent]]
    event_types: frozenset[str] = frozenset()
    setup: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("event source", self.secret)
        for role in ("verify", "parse"):
            if not callable(getattr(self, role)):
                raise TypeError(f"event source {self.name!r}: {role} must be callable")
        if not self.event_types:
            raise ValueError(
                f"event source {self.name!r} names no event_types: declare the Aisle event "
                "types parse returns (payment.received, …)"
            )
