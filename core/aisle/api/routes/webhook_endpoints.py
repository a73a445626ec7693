"""Webhook endpoints disabled after answering ``410 Gone``: list them, re-enable one.

The ``webhook`` executor remembers a 410 in its executor memory under
``disabled:<url>`` (``aisle_actions.webhook.endpoint_key``), and every later run to
that URL fails at once without a request. When the receiver is back, an admin
re-enables the endpoint here; runs that died meanwhile are retried through
``POST /action-runs/{id}/retry``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.roles import ensure_role
from aisle.contracts.log import LogKind
from aisle.storage.errors import NotFound

__all__ = ["DISABLED_PREFIX", "WEBHOOK_EXECUTOR", "WebhookEndpointController"]

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


class DisabledEndpointList(msgspec.Struct, kw_only=True):
    items: list[DisabledEndpoint]


def endpoint_id(key: str) -> str:
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


async def _disabled(call: ApiCall) -> list[DisabledEndpoint]:
    entries = await call.scope.executor_memory.entries(WEBHOOK_EXECUTOR, DISABLED_PREFIX)
    return [_endpoint(key, value, at) for key, value, at in entries]


class WebhookEndpointController(Controller):
    path = "/webhook-endpoints/disabled"
    tags = ["action runs"]

    @get("/", summary="List webhook endpoints disabled after 410 Gone (admins)")
    async def list_disabled(self, call: Call) -> DisabledEndpointList:
        ensure_role(call.caller, "admin", "listing disabled webhook endpoints")
        return DisabledEndpointList(items=await _disabled(call))

    @delete(
        "/{endpoint_id:str}",
        summary="Re-enable a disabled webhook endpoint (admins)",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def enable(self, call: Call, endpoint_id: FromPath[str]) -> None:
        found = next((e for e in await _disabled(call) if e.id == endpoint_id), None)
        if found is None:
            raise NotFound("disabled webhook endpoint", endpoint_id)
        ensure_role(call.caller, "admin", "re-enabling a webhook endpoint")
        async with call.store.transaction():
            await call.scope.executor_memory.remember(
                WEBHOOK_EXECUTOR, DISABLED_PREFIX + found.url, None
            )
            await call.scope.log.append(
                LogKind.WEBHOOK_ENDPOINT_ENABLED,
                actor=call.caller.actor,
                message=f"webhook endpoint {found.url} re-enabled (it had answered 410 Gone)",
                data={"endpoint_id": found.id, "url": found.url, "run_id": found.run_id},
            )
