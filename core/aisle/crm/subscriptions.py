"""REST-hook subscriptions: a connection's inbound URL, subscribed in the CRM for the
provider's ``webhook_events`` while the connection is enabled.

A CRM that takes subscriptions over its API (the ``subscriptions`` capability) is asked
to post to ``<AISLE_PUBLIC_URL>/api/v1/inbound/crm/<connection id>`` when a connection
is created or enabled, and to stop when it is disabled or deleted. The hook ids go in
the connection's ``settings["subscriptions"]``. A CRM that refuses (or cannot be
reached) leaves the connection usable for syncs: the failure is its ``status``
(``subscription_failed``) and ``last_error``, and enabling it again retries.
"""

from __future__ import annotations

import logging
from typing import Any

from aisle.crm.deps import CRMDeps
from aisle.crm.sync import with_retries
from aisle.domain.crm_connection import CRMConnection
from aisle.storage.store import OrgScope

__all__ = [
    "INBOUND_PATH",
    "SUBSCRIPTIONS",
    "SUBSCRIPTION_FAILED",
    "inbound_url",
    "subscribe",
    "unsubscribe",
]

log = logging.getLogger(__name__)

INBOUND_PATH = "/api/v1/inbound/crm/{connection_id}"
"""Where a connection's webhooks are posted (the inbound route's path)."""

SUBSCRIPTIONS = "subscriptions"
"""The connection setting holding ``{"url": …, "ids": […]}`` of its subscribed hooks."""

SUBSCRIPTION_FAILED = "subscription_failed"
"""A connection's status when the CRM did not take its hooks."""


def inbound_url(deps: CRMDeps, connection: CRMConnection) -> str | None:
    """The URL the CRM posts this connection's webhooks to: absolute under
    ``AISLE_PUBLIC_URL``, else the path on this server; ``None`` when the provider
    takes no webhooks (or is not installed)."""
    provider = deps.runtime.registry.crm_providers.get(connection.provider)
    if provider is None or "webhooks" not in provider.capabilities:
        return None
    path = INBOUND_PATH.format(connection_id=connection.id)
    public = deps.runtime.settings.public_url
    return f"{public}{path}" if public else path


def _subscribed(connection: CRMConnection) -> list[str]:
    value: Any = connection.settings.get(SUBSCRIPTIONS) or {}
    return [str(i) for i in value.get("ids", ())] if isinstance(value, dict) else []


def _safe(exc: BaseException) -> str:
    # HTTP clients' exception texts hold URLs, never headers: no secret goes with them.
    return f"{type(exc).__name__}: {exc}"[:300]


async def subscribe(deps: CRMDeps, scope: OrgScope, connection: CRMConnection) -> CRMConnection:
    """Subscribe the provider's hooks to the connection's inbound URL, when the provider
    takes subscriptions, the connection is enabled, ``AISLE_PUBLIC_URL`` is set and no
    hooks are subscribed yet; returns the connection as it now is. Never raises for the
    CRM's answer: a failure is recorded on the connection."""
    provider = deps.runtime.registry.crm_providers.get(connection.provider)
    url = inbound_url(deps, connection)
    if (
        provider is None
        or "subscriptions" not in provider.capabilities
        or not connection.enabled
        or not deps.runtime.settings.public_url
        or url is None
        or _subscribed(connection)
    ):
        return connection
    events = list(provider.webhook_events)
    try:
        credentials = await deps.credentials(scope, connection)
        async with deps.client(provider, credentials) as client:
            ids = await with_retries(deps, lambda: client.subscribe(url, events))
    except Exception as exc:
        log.info("subscribing CRM connection %s failed: %s", connection.id, type(exc).__name__)
        return await scope.crm_connections.update(
            connection.id,
            status=SUBSCRIPTION_FAILED,
            last_error=f"subscribing the CRM's webhooks failed: {_safe(exc)}",
        )
    settings = {**connection.settings, SUBSCRIPTIONS: {"url": url, "ids": list(ids)}}
    cleared = connection.status == SUBSCRIPTION_FAILED
    return await scope.crm_connections.update(
        connection.id,
        settings=settings,
        status="subscribed" if cleared else None,
        last_error="" if cleared else None,
    )


async def unsubscribe(deps: CRMDeps, scope: OrgScope, connection: CRMConnection) -> CRMConnection:
    """Remove the connection's subscribed hooks from the CRM and forget them; a CRM that
    cannot be reached is recorded on the connection (its hooks then post to a URL that
    answers 404, the connection being disabled or deleted)."""
    ids = _subscribed(connection)
    provider = deps.runtime.registry.crm_providers.get(connection.provider)
    if not ids or provider is None:
        return connection
    try:
        credentials = await deps.credentials(scope, connection)
        async with deps.client(provider, credentials) as client:
            await with_retries(deps, lambda: client.unsubscribe(ids))
    except Exception as exc:
        log.info("unsubscribing CRM connection %s failed: %s", connection.id, type(exc).__name__)
        return await scope.crm_connections.update(
            connection.id,
            status=SUBSCRIPTION_FAILED,
            last_error=f"removing the CRM's webhooks failed: {_safe(exc)}",
        )
    settings = {k: v for k, v in connection.settings.items() if k != SUBSCRIPTIONS}
    return await scope.crm_connections.update(connection.id, settings=settings)
