"""Webhook endpoints disabled after answering ``410 Gone``: list them, re-enable one.

The ``webhook`` executor remembers a 410 and every later run to that URL fails at once
without a request (:mod:`aisle.services.webhook_endpoints`). When the receiver is back,
an admin re-enables the endpoint here; runs that died meanwhile are retried through
``POST /action-runs/{id}/retry``.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.services.webhook_endpoints import DisabledEndpoint, WebhookEndpoints

__all__ = ["WebhookEndpointController"]


class DisabledEndpointList(msgspec.Struct, kw_only=True):
    items: list[DisabledEndpoint]


def _endpoints(call: ApiCall) -> WebhookEndpoints:
    return WebhookEndpoints(call.store, call.scope, call.caller)


class WebhookEndpointController(Controller):
    path = "/webhook-endpoints/disabled"
    tags = ["action runs"]

    @get("/", summary="List webhook endpoints disabled after 410 Gone (admins)")
    async def list_disabled(self, call: Call) -> DisabledEndpointList:
        return DisabledEndpointList(items=await _endpoints(call).disabled())

    @delete(
        "/{endpoint_id:str}",
        summary="Re-enable a disabled webhook endpoint (admins)",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def enable(self, call: Call, endpoint_id: FromPath[str]) -> None:
        await _endpoints(call).enable(endpoint_id)
