"""Event sources' deliveries in, and each studio's source secrets: one service for both.

A delivery is verified with the studio's secret before anything reads it, parsed into
events, matched to a couple and ingested through the runtime, each event once (its
idempotency key, prefixed with the source's name). A refusal is logged in the
studio's automation log and the process log, naming the reason and never the secret.

Whether an organization exists is not told to the caller: an unknown organization
and a studio that has not set up the source get the same answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.crm import InboundEvent, WebhookRefused
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.contracts.sources import EventSource
from aisle.domain.addresses import InvalidAddress, normalize_email
from aisle.domain.contact import Contact
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.store import OrgScope, Store
from aisle.storage.studio_secrets import StudioSecret

__all__ = [
    "Delivery",
    "EventSources",
    "SourceNotConfigured",
    "SourceRefused",
    "UnknownSource",
    "secret_name",
]

log = logging.getLogger(__name__)

_EMAIL_CANDIDATES = 20
"""Contacts whose search text holds the payer's email that are compared exactly."""


class UnknownSource(LookupError):
    """No installed plugin provides an event source of that name."""


class SourceNotConfigured(LookupError):
    """The organization has not set the source's secret (or does not exist)."""


class SourceRefused(Exception):
    """The delivery failed verification or could not be read; the message says why."""


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """What one delivery did: events accepted, replays of ones taken before, and the
    accepted ones that matched no couple."""

    accepted: int = 0
    replayed: int = 0
    unmatched: int = 0
    event_ids: list[str] = msgspec.field(default_factory=list)


def secret_name(source: str) -> str:
    """The studio secret holding ``source``'s secret."""
    return f"source_{source}"


class EventSources:
    """Source secrets per studio, and deliveries in (verified, deduplicated, ingested)."""

    def __init__(self, store: Store, runtime: Runtime, registry: Registry, settings: Settings):
        self.store = store
        self.runtime = runtime
        self.registry = registry
        self.settings = settings

    def source(self, name: str) -> EventSource:
        found = self.registry.event_sources.get(name)
        if found is None:
            raise UnknownSource(name)
        return found

    # -- the studio's secret ---------------------------------------------------------

    async def describe(self, org_id: str, name: str) -> StudioSecret | None:
        self.source(name)
        return await self.store.for_org(org_id).secrets.describe(secret_name(name))

    async def configure(
        self, org_id: str, name: str, secret: Mapping[str, Any] | None, *, actor: str
    ) -> StudioSecret | None:
        """Store the source's secret (``None`` removes it), encrypted, and log that.

        :raises msgspec.ValidationError: ``secret`` does not fit the source's Struct.
        :raises CredentialError: the operator's credential key is not set up.
        """
        source = self.source(name)
        value = None
        if secret is not None:
            decoded = msgspec.convert(secret, source.secret)
            value = msgspec.json.encode(decoded).decode()
        # Removing needs no key: a server whose key is gone can still forget a secret.
        cipher = CredentialCipher.from_settings(self.settings) if value is not None else None
        scope = self.store.for_org(org_id)
        async with self.store.transaction():
            await scope.secrets.put(secret_name(name), value, cipher)
            await scope.log.append(
                LogKind.SETTINGS_CHANGED,
                actor=actor,
                message=f"{source.label or name} secret {'set' if value else 'removed'}",
                data={"fields": [f"sources.{name}"]},
            )
        self.runtime.forget_organization(org_id)
        return await scope.secrets.describe(secret_name(name))

    # -- deliveries --------------------------------------------------------------------

    async def receive(
        self, name: str, org_id: str, headers: Mapping[str, str], body: bytes
    ) -> Delivery:
        """Verify, parse, deduplicate, match and ingest one delivery.

        :raises UnknownSource: no such source is installed.
        :raises SourceNotConfigured: the organization has not set it up (or is unknown).
        :raises SourceRefused: the delivery is not genuine, or not readable.
        :raises CredentialError: the operator's credential key cannot decrypt the secret.
        """
        source = self.source(name)
        scope = self.store.for_org(org_id)
        ciphertext = await scope.secrets.ciphertext(secret_name(name))
        if ciphertext is None:
            raise SourceNotConfigured(name)
        stored = CredentialCipher.from_settings(self.settings).decrypt(ciphertext)
        secret = msgspec.json.decode(str(stored), type=source.secret)
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            source.verify(lowered, body, secret)
            events = source.parse(lowered, body)
        except WebhookRefused as exc:
            await self._refused(scope, source, str(exc))
            raise SourceRefused(str(exc)) from None
        delivery = Delivery()
        for event in events:
            delivery = await self._ingest(scope, source, event, delivery)
        return delivery

    async def _refused(self, scope: OrgScope, source: EventSource, reason: str) -> None:
        log.warning(
            "%s delivery refused for organization %s: %s", source.name, scope.org_id, reason
        )
        await scope.log.append(
            LogKind.SOURCE_DELIVERY_REFUSED,
            message=f"{source.label or source.name} delivery refused: {reason}",
            actor=f"source:{source.name}",
            data={"source": source.name, "reason": reason},
        )

    async def _ingest(
        self, scope: OrgScope, source: EventSource, event: InboundEvent, delivery: Delivery
    ) -> Delivery:
        key = f"{source.name}:{event.idempotency_key}"
        contact = await _match(scope, source, event)
        payload = {**event.payload, "source": source.name, "external_id": event.external_id}
        record, created = await self.runtime.ingest_event(
            scope,
            type=event.type,
            idempotency_key=key,
            contact_id=contact.id if contact else None,
            payload=payload,
            occurred_at=_aware(event.occurred_at),
            source=f"source:{source.name}",
        )
        actor = f"source:{source.name}"
        if not created:
            await scope.log.append(
                LogKind.SOURCE_DELIVERY_REPLAYED,
                message=f"{source.label or source.name} sent {event.type} "
                f"{event.external_id} again: already taken, nothing done",
                actor=actor,
                data={"source": source.name, "idempotency_key": key},
                contact_id=record.event.contact_id,
            )
            log.info("%s replay of %s ignored (%s)", source.name, key, scope.org_id)
            return msgspec.structs.replace(delivery, replayed=delivery.replayed + 1)
        if contact is None:
            await scope.log.append(
                LogKind.SOURCE_EVENT_UNMATCHED,
                message=f"{source.label or source.name} {event.type} {event.external_id} "
                "matched no couple: kept, attached to no one",
                actor=actor,
                data={"source": source.name, "event_id": record.event.id},
            )
        return msgspec.structs.replace(
            delivery,
            accepted=delivery.accepted + 1,
            unmatched=delivery.unmatched + (contact is None),
            event_ids=[*delivery.event_ids, record.event.id],
        )


async def _match(scope: OrgScope, source: EventSource, event: InboundEvent) -> Contact | None:
    """The couple an event names: its Aisle id, its id at the source, then its email."""
    contact_id = event.contact.get("aisle_contact_id")
    if isinstance(contact_id, str) and contact_id:
        found = await scope.contacts.find(contact_id)
        if found is not None:
            return found
    if event.contact_external_id:
        found = await scope.contacts.by_external_id(source.name, event.contact_external_id)
        if found is not None:
            return found
    email = event.contact.get("email")
    if not isinstance(email, str) or not email:
        return None
    try:
        wanted = normalize_email(email)
    except InvalidAddress:
        return None
    for candidate in await scope.contacts.list(search=wanted, limit=_EMAIL_CANDIDATES):
        emails = [candidate.email, *(p.email for p in candidate.partners)]
        if any(e and e.lower() == wanted.lower() for e in emails):
            return candidate
    return None


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo is not None else None
