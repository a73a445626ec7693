"""Webhook endpoints disabled after answering ``410 Gone``: listing them and re-enabling
one, as one acting user of one organization.

The ``webhook`` executor remembers a 410 in its executor memory under
``disabled:<url>`` (``aisle_actions.webhook.endpoint_key``), and every later run to
that URL fails at once without a request; re-enabling forgets it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.log import LogKind
from aisle.services.roles import Actor, ensure_role
from aisle.storage.errors import NotFound
from aisle.storage.store import OrgScope, Store

__all__ = [
    "DISABLED_PREFIX",
    "WEBHOOK_EXECUTOR",
    "DisabledEndpoint",
    "WebhookEndpoints",
    "endpoint_id",
]

WEBHOOK_EXECUTOR = "webhook"
DISABLED_PREFIX = "disabled:"


class DisabledEndpoint(msgspec.Struct, kw_only=True):
    id: str
    """A stable id for the URL (use it to re-enable)."""
    url: str
    disabled_at: str | None
    """When the endpoint answered 410 (as the executor recorded it)."""
    status: int | None
    run_id: str | None
    """The action run that met the 410."""
    recorded_at: datetime | None


def endpoint_id(key: str) -> str:
    """The stable id of the executor-memory key ``key`` (the URL is no path segment)."""
    return "whe_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _endpoint(key: str, value: dict[str, Any], at: datetime | None) -> DisabledEndpoint:
    status = value.get("status")
    return DisabledEndpoint(
        id=endpoint_id(key),
        url=key.removeprefix(DISABLED_PREFIX),
        disabled_at=str(value["at"]) if value.get("at") else None,
        status=status if isinstance(status, int) else None,
        run_id=str(value["run_id"]) if value.get("run_id") else None,
        recorded_at=at,
    )


class WebhookEndpoints:
    """The disabled webhook endpoints of ``scope``, seen and re-enabled as ``actor``
    (an admin's act)."""

    def __init__(self, store: Store, scope: OrgScope, actor: Actor) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor

    async def disabled(self) -> list[DisabledEndpoint]:
        ensure_role(self.actor, "admin", "listing disabled webhook endpoints")
        return await self._disabled()

    async def _disabled(self) -> list[DisabledEndpoint]:
        entries = await self.scope.executor_memory.entries(WEBHOOK_EXECUTOR, DISABLED_PREFIX)
        return [_endpoint(key, value, at) for key, value, at in entries]

    async def enable(self, endpoint: str) -> DisabledEndpoint:
        """Re-enable the endpoint with id ``endpoint``: later runs to it send again."""
        found = next((e for e in await self._disabled() if e.id == endpoint), None)
        if found is None:
            raise NotFound("disabled webhook endpoint", endpoint)
        ensure_role(self.actor, "admin", "re-enabling a webhook endpoint")
        async with self.store.transaction():
            await self.scope.executor_memory.remember(
                WEBHOOK_EXECUTOR, DISABLED_PREFIX + found.url, None
            )
            await self.scope.log.append(
                LogKind.WEBHOOK_ENDPOINT_ENABLED,
                actor=self.actor.actor,
                message=f"webhook endpoint {found.url} re-enabled (it had answered 410 Gone)",
                data={"endpoint_id": found.id, "url": found.url, "run_id": found.run_id},
            )
        return found
