"""What a CRM provider offers the sync engine, and how one is registered.

Providers describe a remote system; the provider-agnostic sync engine in core drives
them. Every call receives decrypted credentials and an httpx client created by
:func:`aisle.http_client`, never from the provider itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import msgspec

from aisle.contracts.registrations import EmptyConfig, Registration

__all__ = [
    "CRMClient",
    "CRMProvider",
    "ExternalRecord",
    "InboundEvent",
    "Page",
    "RateLimited",
]


class ExternalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One record as the remote system holds it, before field mapping."""

    id: str
    kind: str
    fields: Mapping[str, Any]
    updated_at: datetime | None = None


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a listing; ``next_cursor`` is ``None`` on the last page."""

    records: Sequence[ExternalRecord]
    next_cursor: str | None = None


class InboundEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event parsed from a provider's webhook, ready to become an Aisle event."""

    type: str
    external_id: str
    payload: Mapping[str, Any]
    idempotency_key: str


class RateLimited(Exception):
    """The remote asked us to slow down; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class CRMClient(Protocol):
    """The calls a provider's client answers; a provider declares which it supports."""

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        """Return one page of ``kind`` records changed since ``cursor``."""
        ...

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        """Create or update a record; returns its external id."""
        ...


@dataclass(frozen=True, kw_only=True)
class CRMProvider(Registration):
    """A CRM the studio already uses.

    ``capabilities`` declares what the provider supports (``"pull"``, ``"push"``,
    ``"webhooks"``, ``"csv_import"``, ``"csv_export"``); the sync engine and the
    conformance suite skip what is not declared.
    """

    credentials: type[msgspec.Struct] = EmptyConfig
    capabilities: frozenset[str] = frozenset()
    client: Callable[[Any, Any], CRMClient] | None = None
    field_mapping: Mapping[str, str] = field(default_factory=dict)
    verify_webhook: Callable[[Mapping[str, str], bytes, str], bool] | None = None
    parse_webhook: Callable[[Mapping[str, str], bytes], Sequence[InboundEvent]] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("CRM provider", self.credentials)
