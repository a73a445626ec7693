"""What a CRM provider offers the sync engine, and how one is registered.

Providers describe a remote system; the provider-agnostic sync engine in core drives
them. Every call receives decrypted credentials and an httpx client created by
:func:`aisle.http_client`, never from the provider itself.

A provider claims at least one way in or out (``capabilities``) and backs each claim:

``pull``
    ``client`` lists records kind by kind (``pull_kinds``), page by page, from a cursor
    the engine stores between runs.
``push``
    ``client`` creates and updates records (the ``crm_update`` step, Aisle-wins fields).
``webhooks``
    ``verify_webhook`` and ``parse_webhook`` turn what the CRM (or a Zap) posts to the
    connection's inbound URL into :class:`InboundEvent`\\ s.
``subscriptions``
    ``client`` subscribes and unsubscribes the CRM's REST hooks for the connection.
``csv_import`` / ``csv_export``
    ``csv_formats`` names the CRM's CSV files and their columns; the engine streams them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import msgspec

from aisle.contracts.registrations import EmptyConfig, Registration

__all__ = [
    "CRM_CAPABILITIES",
    "CRMClient",
    "CRMProvider",
    "CSVFormat",
    "ExternalRecord",
    "InboundEvent",
    "Page",
    "RateLimited",
    "WebhookRefused",
]

CRM_CAPABILITIES: Mapping[str, str] = {
    "pull": "lists records page by page (CRMClient.list_records, fetch_record)",
    "push": "creates and updates records (CRMClient.push_record)",
    "webhooks": "verifies and parses the CRM's webhooks (verify_webhook, parse_webhook)",
    "subscriptions": "subscribes the CRM's REST hooks (CRMClient.subscribe, unsubscribe)",
    "csv_import": "imports the CRM's CSV exports (csv_formats)",
    "csv_export": "exports CSV files the CRM imports (csv_formats)",
}
"""What a provider may declare in ``CRMProvider.capabilities``."""

_WAYS = frozenset({"pull", "push", "webhooks", "csv_import", "csv_export"})


class ExternalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One record as the remote system holds it, before field mapping.

    ``contact_ids`` are the remote ids of the contacts a non-contact record belongs to
    (a job's clients, an event's job's clients): the engine applies the record's mapped
    fields to those contacts. A contact record leaves it empty.
    """

    id: str
    kind: str
    fields: Mapping[str, Any]
    updated_at: datetime | None = None
    contact_ids: tuple[str, ...] = ()


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a listing; ``next_cursor`` is ``None`` on the last page.

    ``total`` is the number of records the whole listing holds, when the remote says
    (progress bars use it); ``cursor`` is what the engine stores to resume the *next*
    run incrementally once the listing has been read to the end (for example the
    newest ``updated`` timestamp seen), ``None`` when the remote offers no change filter.
    """

    records: Sequence[ExternalRecord]
    next_cursor: str | None = None
    total: int | None = None
    cursor: str | None = None


class InboundEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event parsed from a provider's webhook, ready to become an Aisle event.

    ``type`` is the Aisle event type as triggers see it (``payment.received``, which
    the ``payment_received`` trigger listens for; ``contract.signed``…).
    ``idempotency_key`` is stable for one delivery of one remote event, so a replay is a
    no-op. ``contact`` holds remote contact fields (remote names, as in
    ``field_mapping``) that identify the couple (``email`` at least, when the payload
    has it); ``contact_external_id`` is the couple's id in the CRM when known. A thin
    payload names ``fetch_kind``: the engine fetches the ``external_id`` record of that
    kind with the connection's client and passes it on as ``payload["record"]``.
    """

    type: str
    external_id: str
    payload: Mapping[str, Any]
    idempotency_key: str
    contact: Mapping[str, Any] = {}
    contact_external_id: str | None = None
    fetch_kind: str | None = None
    occurred_at: datetime | None = None


class CSVFormat(msgspec.Struct, frozen=True, kw_only=True):
    """One CSV file the CRM exports or imports (its clients, leads or jobs).

    ``columns`` maps Aisle contact fields (``email``, ``partners.0.first_name``,
    ``custom.stage``) to the column headers the CRM writes; a studio may override them
    per connection. ``key`` is the column that identifies a row across re-imports.
    """

    name: str
    label: str
    columns: Mapping[str, str]
    key: str
    date_format: str = "%Y-%m-%d"


class RateLimited(Exception):
    """The remote asked us to slow down; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class WebhookRefused(Exception):
    """An inbound webhook failed verification; the message says why, never the secret."""


class CRMClient(Protocol):
    """The calls a provider's client answers; a provider declares which it supports."""

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        """Return one page of ``kind`` records; ``cursor`` is ``None`` for the first page
        of a full listing, a previous ``next_cursor``, or a stored ``Page.cursor``."""
        ...

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        """Return one record by id (thin webhooks carry only the id)."""
        ...

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        """Create or update a record; returns its external id."""
        ...

    async def subscribe(self, target_url: str, events: Sequence[str]) -> list[str]:
        """Subscribe the CRM's hooks for ``events`` to ``target_url``; returns their ids."""
        ...

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        """Remove the subscriptions :meth:`subscribe` returned."""
        ...


@dataclass(frozen=True, kw_only=True)
class CRMProvider(Registration):
    """A CRM the studio already uses.

    ``capabilities`` declares what the provider supports (see :data:`CRM_CAPABILITIES`);
    the sync engine offers and the conformance suite checks exactly those.
    ``field_mapping`` maps Aisle contact fields to remote field names: plain names are
    fields of the ``contacts`` kind, ``"<kind>.<field>"`` names are fields of another
    pulled kind applied to that record's ``contact_ids`` (``"jobs.eventDate"``).
    ``pull_kinds`` are listed in order (contacts first). ``change_detection`` says, for
    the studio, how an incremental pull finds changes and what it costs.
    ``webhook_events`` are the remote hook names ``subscribe`` is asked for.
    ``complete_event``, for thin webhooks, builds the Aisle event from the record the
    engine fetched (its payload, the couple's ``contact_external_id``), or returns
    ``None`` when the record shows nothing Aisle acts on (a payment only scheduled);
    without it the engine passes the record on as ``payload["record"]``.
    """

    credentials: type[msgspec.Struct] = EmptyConfig
    capabilities: frozenset[str] = frozenset()
    client: Callable[[Any, Any], CRMClient] | None = None
    field_mapping: Mapping[str, str] = field(default_factory=dict)
    pull_kinds: tuple[str, ...] = ("contacts",)
    change_detection: str = ""
    push_kinds: tuple[str, ...] = ("contacts",)
    verify_webhook: Callable[[Mapping[str, str], bytes, str], bool] | None = None
    parse_webhook: Callable[[Mapping[str, str], bytes], Sequence[InboundEvent]] | None = None
    webhook_events: tuple[str, ...] = ()
    complete_event: Callable[[InboundEvent, ExternalRecord], InboundEvent | None] | None = None
    csv_formats: Mapping[str, CSVFormat] = field(default_factory=dict)
    refresh_credentials: Callable[[Any, Any], Awaitable[Any]] | None = None
    """OAuth2: given the current credentials (a struct with an ``expires_at`` datetime)
    and an outbound HTTP client, new credentials from the token endpoint. The engine
    calls it before a sync or a push when ``expires_at`` is near, and stores the result
    encrypted in place of the old."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("CRM provider", self.credentials)
        unknown = sorted(set(self.capabilities) - set(CRM_CAPABILITIES))
        if unknown:
            raise ValueError(
                f"CRM provider {self.name!r} declares unknown capabilities {unknown}; "
                f"known: {', '.join(CRM_CAPABILITIES)}"
            )
        if not _WAYS & self.capabilities:
            raise ValueError(
                f"CRM provider {self.name!r} claims no way in or out: declare at least one "
                f"of {', '.join(sorted(_WAYS))} in capabilities"
            )
        missing = []
        if {"pull", "push", "subscriptions"} & self.capabilities and self.client is None:
            missing.append("client= (pull, push and subscriptions go through it)")
        if "webhooks" in self.capabilities and (
            self.verify_webhook is None or self.parse_webhook is None
        ):
            missing.append("verify_webhook= and parse_webhook=")
        if {"csv_import", "csv_export"} & self.capabilities and not self.csv_formats:
            missing.append("csv_formats=")
        if "subscriptions" in self.capabilities and not self.webhook_events:
            missing.append("webhook_events=")
        if missing:
            raise ValueError(
                f"CRM provider {self.name!r} declares {sorted(self.capabilities)} but lacks "
                f"{', '.join(missing)}"
            )
