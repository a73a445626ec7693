"""Inbound CRM webhooks: verified, parsed, fetched when thin, matched to a couple and
ingested as Aisle events, each once.

The HTTP route (``POST /api/v1/inbound/crm/{connection_id}``) is unauthenticated by
nature: the connection id names the studio, the provider's verification proves the
sender. A refusal is logged with its reason (never the secret) and raised as
:class:`~aisle.contracts.crm.WebhookRefused`; the route answers it without detail.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from aisle.contracts.crm import CRMProvider, InboundEvent, WebhookRefused
from aisle.contracts.log import LogKind
from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.crm.mapping import InvalidRecord, apply_values, extract, split_mapping
from aisle.domain.addresses import InvalidAddress, normalize_email
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.runtime.service import Runtime
from aisle.storage.credentials import CredentialError
from aisle.storage.crm import CRMSystem
from aisle.storage.errors import NotFound
from aisle.storage.store import OrgScope

__all__ = ["InboundOutcome", "InboundResult", "receive_crm_webhook", "webhook_secret"]

log = logging.getLogger(__name__)


class InboundOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One parsed event: the Aisle event it became, or the one it repeats."""

    event_id: str
    type: str
    idempotency_key: str
    duplicate: bool
    contact_id: str | None = None
    contact_created: bool = False


class InboundResult(msgspec.Struct, frozen=True, kw_only=True):
    organization_id: str
    connection_id: str
    events: tuple[InboundOutcome, ...] = ()


def webhook_secret(credentials: Any) -> str:
    """The secret a connection verifies webhooks with: its credentials' ``webhook_secret``
    (empty when the provider's webhooks are unsigned)."""
    value = getattr(credentials, "webhook_secret", None)
    if value is None and isinstance(credentials, Mapping):
        value = credentials.get("webhook_secret")
    return str(value or "")


async def receive_crm_webhook(
    runtime: Runtime | CRMDeps,
    connection_id: str,
    headers: Mapping[str, str],
    body: bytes,
) -> InboundResult:
    """Verify, parse and ingest one webhook delivery for the connection ``connection_id``.

    :raises NotFound: no enabled connection with that id takes webhooks.
    :raises WebhookRefused: verification failed (logged with the reason).
    :raises CredentialError: the connection exists but this server has no credential key
        to read it with (logged).
    """
    base = runtime.runtime if isinstance(runtime, CRMDeps) else runtime
    # The connection is looked up before the cipher is built: a server missing its key
    # must still tell an unknown URL from a studio's connection it cannot read.
    connection = await CRMSystem(base.store.db, base.store.clock).connection(connection_id)
    provider = base.registry.crm_providers.get(connection.provider) if connection else None
    if (
        connection is None
        or provider is None
        or not connection.enabled
        or "webhooks" not in provider.capabilities
        or provider.verify_webhook is None
        or provider.parse_webhook is None
    ):
        raise NotFound("CRM connection taking webhooks", connection_id)
    scope = base.for_org(connection.organization_id)
    try:
        deps = runtime if isinstance(runtime, CRMDeps) else CRMDeps.of(runtime)
    except CredentialError as exc:
        await _log_refusal(scope, connection, str(exc))
        raise
    try:
        credentials = await deps.credentials(scope, connection)
    except UnusableConnection as exc:
        reason = f"the connection's credentials are unusable: {exc}"
        raise await _refused(scope, connection, reason) from None
    try:
        verified = provider.verify_webhook(headers, body, webhook_secret(credentials))
    except WebhookRefused as exc:
        raise await _refused(scope, connection, str(exc)) from None
    except Exception as exc:  # a provider's verifier failing on garbage is a refusal
        reason = f"verification failed: {type(exc).__name__}"
        raise await _refused(scope, connection, reason) from None
    if not verified:
        raise await _refused(scope, connection, "the signature does not verify")
    try:
        events = list(provider.parse_webhook(headers, body))
    except Exception as exc:
        reason = f"the payload does not parse: {type(exc).__name__}"
        raise await _refused(scope, connection, reason) from None
    outcomes = []
    for event in events:
        outcome = await _ingest(deps, scope, connection, provider, credentials, event)
        if outcome is not None:
            outcomes.append(outcome)
    return InboundResult(
        organization_id=connection.organization_id,
        connection_id=connection.id,
        events=tuple(outcomes),
    )


async def _refused(scope: OrgScope, connection: CRMConnection, reason: str) -> WebhookRefused:
    await _log_refusal(scope, connection, reason)
    return WebhookRefused(reason)


async def _log_refusal(scope: OrgScope, connection: CRMConnection, reason: str) -> None:
    log.warning(
        "refused a webhook for CRM connection %s (%s): %s",
        connection.id,
        connection.provider,
        reason,
    )
    await scope.log.append(
        LogKind.CRM_WEBHOOK_REFUSED,
        message=f"webhook for {connection.provider} connection {connection.name!r} "
        f"refused: {reason}",
        data={"connection_id": connection.id, "reason": reason},
    )


async def _ingest(
    deps: CRMDeps,
    scope: OrgScope,
    connection: CRMConnection,
    provider: CRMProvider,
    credentials: Any,
    event: InboundEvent,
) -> InboundOutcome | None:
    """The Aisle event ``event`` became, or ``None`` when the provider, seeing the
    fetched record, says it is not one (a scheduled payment is not money received)."""
    key = f"crm:{connection.id}:{event.idempotency_key}"
    seen = await scope.events.by_key(key)
    if seen is not None:
        return InboundOutcome(
            event_id=seen.event.id,
            type=seen.event.type,
            idempotency_key=key,
            duplicate=True,
            contact_id=seen.event.contact_id,
        )
    if event.fetch_kind is not None:
        async with deps.client(provider, credentials) as client:
            record = await client.fetch_record(event.fetch_kind, event.external_id)
        if provider.complete_event is not None:
            completed = provider.complete_event(event, record)
            if completed is None:
                return None
            event = completed
        payload = {**event.payload, "record": msgspec.to_builtins(record)}
    else:
        payload = dict(event.payload)
    contact, created = await _couple(deps, scope, connection, provider, event)
    record_, created_event = await deps.runtime.ingest_event(
        scope,
        type=event.type,
        idempotency_key=key,
        contact_id=contact.id if contact else None,
        payload=payload,
        occurred_at=event.occurred_at,
        source=f"crm:{provider.name}",
    )
    return InboundOutcome(
        event_id=record_.event.id,
        type=event.type,
        idempotency_key=key,
        duplicate=not created_event,
        contact_id=contact.id if contact else None,
        contact_created=created,
    )


async def _couple(
    deps: CRMDeps,
    scope: OrgScope,
    connection: CRMConnection,
    provider: CRMProvider,
    event: InboundEvent,
) -> tuple[Contact | None, bool]:
    """The couple the event is about: by their CRM id, else by email, else created from
    the event's contact fields (when they hold an email)."""
    if event.contact_external_id:
        found = await scope.contacts.by_external_id(provider.name, event.contact_external_id)
        if found is not None:
            return found, False
    mapping = split_mapping(connection.field_mapping, provider.pull_kinds)
    contacts_map = mapping[provider.pull_kinds[0] if provider.pull_kinds else "contacts"]
    try:
        values = extract(event.contact, contacts_map, await deps.phone_region(scope.org_id))
    except InvalidRecord as exc:
        log.info("webhook contact fields of connection %s not usable: %s", connection.id, exc)
        values = {}
    if "email" not in values and isinstance(event.contact.get("email"), str):
        with contextlib.suppress(InvalidAddress):
            values["email"] = normalize_email(event.contact["email"])
    email = values.get("email")
    if not email:
        return None, False
    matches = await scope.contacts.find_many(emails=[email])
    if matches:
        return matches[0], False
    external = {provider.name: event.contact_external_id} if event.contact_external_id else {}
    contact = apply_values(Contact(external_ids=external), values)
    created = await deps.runtime.create_contact(
        scope.org_id, contact, actor=f"crm:{connection.name}", source=f"crm:{provider.name}"
    )
    return created, True
