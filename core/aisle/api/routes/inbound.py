"""Event sources: each studio's source secrets, and the inbound URL sources post to.

``POST /inbound/sources/{source}/{organization_id}`` takes no API token: the source
signs each delivery with the studio's secret, and the signature is checked on the
exact bytes received. It answers 400 to a delivery that is not genuine (what Stripe
expects), 200 to a replay (nothing done), and one 404 for an unknown organization and
a studio that has not set the source up alike. Each inbound URL spends from its own
request budget (``AISLE_RATE_LIMIT``), as a token does.

``POST /inbound/crm/{connection_id}`` takes a CRM connection's webhooks (a Zap's, a
CRM's REST hook) the same way, verified by the connection's provider
(:func:`aisle.crm.inbound.receive_crm_webhook`); a refusal's reason goes to the studio's
automation log, not to the sender.

``/settings/sources`` lists the installed sources; owners set or remove a source's
secret there. The secret is never answered, only whether it is set and its
fingerprint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from aisle.api.context import ApiCall, ApiContext
from aisle.api.deps import Call
from aisle.contracts.crm import WebhookRefused
from aisle.crm.inbound import receive_crm_webhook
from aisle.services.errors import Refused
from aisle.services.inbound import (
    EventSources,
    SourceNotConfigured,
    SourceRefused,
    UnknownSource,
)
from aisle.services.roles import ensure_role
from aisle.storage.credentials import CredentialError
from aisle.storage.studio_secrets import StudioSecret

__all__ = ["InboundController", "SourceSettingsController"]

INBOUND_PATH = "/api/v1/inbound/sources/{source}/{organization_id}"


class DeliveryOut(msgspec.Struct, kw_only=True):
    accepted: int
    """Events taken from this delivery (each processed at once)."""
    replayed: int
    """Events taken before (a retry or a replay): nothing was done again."""
    unmatched: int
    """Accepted events that named no couple of the studio."""


class CRMDeliveryOut(msgspec.Struct, kw_only=True):
    accepted: int
    """Events taken from this delivery."""
    replayed: int
    """Events taken before: nothing was done again."""


class SourceOut(msgspec.Struct, kw_only=True):
    name: str
    label: str
    description: str
    setup: str
    """Where to add the inbound URL at the source."""
    event_types: list[str]
    secret_schema: dict[str, Any]
    """The JSON Schema of what ``PUT /settings/sources/{name}`` takes."""
    inbound_url_path: str
    """Give the source this path on your Aisle host."""
    secret_set: bool
    secret_fingerprint: str | None
    secret_updated_at: datetime | None


class SourceList(msgspec.Struct, kw_only=True):
    items: list[SourceOut]


def _service(ctx: ApiContext) -> EventSources:
    return EventSources(ctx.require_store(), ctx.require_runtime(), ctx.registry, ctx.settings)


def _unknown(name: str, ctx: ApiContext) -> Refused:
    installed = ", ".join(sorted(ctx.registry.event_sources)) or "none"
    return Refused(404, f"no event source {name!r} is installed (installed: {installed})")


def _source_out(ctx: ApiContext, org_id: str, name: str, secret: StudioSecret | None) -> SourceOut:
    source = ctx.registry.event_sources[name]
    return SourceOut(
        name=name,
        label=source.label,
        description=source.description,
        setup=source.setup,
        event_types=sorted(source.event_types),
        secret_schema=msgspec.json.schema(source.secret),
        inbound_url_path=INBOUND_PATH.format(source=name, organization_id=org_id),
        secret_set=secret is not None,
        secret_fingerprint=secret.fingerprint if secret else None,
        secret_updated_at=secret.updated_at if secret else None,
    )


async def _spend(ctx: ApiContext, key: str) -> None:
    """One request from the inbound URL's own budget (429 once spent)."""
    config = ctx.config
    if config.rate_limit <= 0:
        return
    decision = await ctx.limiter.hit(key, config.rate_limit, config.rate_window_seconds)
    if not decision.allowed:
        raise Refused(
            429,
            f"this inbound URL takes {config.rate_limit} deliveries per "
            f"{config.rate_window_seconds} s; retry in {decision.reset_seconds} s",
            headers=decision.headers(config.rate_window_seconds),
        )


class InboundController(Controller):
    path = "/inbound"
    tags = ["inbound"]
    # The source's signature authenticates: the bearer middleware steps aside.
    opt = {"exclude_from_auth": True}
    security = [{}]

    @post(
        "/sources/{source:str}/{organization_id:str}",
        summary="Receive a signed delivery from an event source (no token: the signature)",
        status_code=200,
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        source: FromPath[str],
        organization_id: FromPath[str],
    ) -> DeliveryOut:
        ctx: ApiContext = request.app.state.aisle
        await _spend(ctx, f"inbound:{source}:{organization_id}")
        body = await request.body()
        try:
            delivery = await _service(ctx).receive(
                source, organization_id, dict(request.headers), body
            )
        except UnknownSource:
            raise _unknown(source, ctx) from None
        except SourceNotConfigured:
            raise Refused(
                404,
                f"no studio takes {source} deliveries at this URL: check the organization "
                f"id, and that the studio set its {source} secret",
            ) from None
        except SourceRefused as exc:
            raise Refused(400, f"delivery refused: {exc}", slug="delivery-refused") from None
        except CredentialError:
            raise Refused(503, "the studio's secret cannot be read on this server") from None
        return DeliveryOut(
            accepted=delivery.accepted, replayed=delivery.replayed, unmatched=delivery.unmatched
        )

    @post(
        "/crm/{connection_id:str}",
        summary="Receive a CRM connection's webhook (no token: the provider verifies it)",
        status_code=200,
    )
    async def receive_crm(
        self, request: Request[Any, Any, Any], connection_id: FromPath[str]
    ) -> CRMDeliveryOut:
        ctx: ApiContext = request.app.state.aisle
        await _spend(ctx, f"inbound:crm:{connection_id}")
        body = await request.body()
        try:
            result = await receive_crm_webhook(
                ctx.require_runtime(), connection_id, dict(request.headers), body
            )
        except WebhookRefused:
            raise Refused(
                400,
                "delivery refused; the studio's automation log says why",
                slug="delivery-refused",
            ) from None
        except CredentialError:
            # The connection exists; the operator's key is missing (a retry after the
            # operator sets it succeeds, so not a 4xx).
            raise Refused(
                503, "the connection's credentials cannot be read on this server"
            ) from None
        replayed = sum(outcome.duplicate for outcome in result.events)
        return CRMDeliveryOut(accepted=len(result.events) - replayed, replayed=replayed)


class SourceSettingsController(Controller):
    path = "/settings/sources"
    tags = ["settings"]

    @get("/", summary="List the event sources and whether each is set up")
    async def list_sources(self, call: Call) -> SourceList:
        service = _service(call.ctx)
        org_id = call.caller.organization_id
        items = [
            _source_out(call.ctx, org_id, name, await service.describe(org_id, name))
            for name in sorted(call.registry.event_sources)
        ]
        return SourceList(items=items)

    @get("/{source:str}", summary="Read an event source's setup for this studio")
    async def get_source(self, call: Call, source: FromPath[str]) -> SourceOut:
        org_id = call.caller.organization_id
        try:
            secret = await _service(call.ctx).describe(org_id, source)
        except UnknownSource:
            raise _unknown(source, call.ctx) from None
        return _source_out(call.ctx, org_id, source, secret)

    @put("/{source:str}", summary="Set an event source's secret (owners; never answered)")
    async def put_source(
        self, call: Call, source: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> SourceOut:
        ensure_role(call.caller, "owner", f"setting the {source} secret")
        return await self._configure(call, source, data)

    @delete("/{source:str}", summary="Remove an event source's secret (owners)")
    async def delete_source(self, call: Call, source: FromPath[str]) -> None:
        ensure_role(call.caller, "owner", f"removing the {source} secret")
        await self._configure(call, source, None)

    async def _configure(
        self, call: ApiCall, source: str, data: dict[str, Any] | None
    ) -> SourceOut:
        org_id = call.caller.organization_id
        try:
            secret = await _service(call.ctx).configure(
                org_id, source, data, actor=call.caller.actor
            )
        except UnknownSource:
            raise _unknown(source, call.ctx) from None
        except CredentialError as exc:
            raise Refused(503, f"the {source} secret cannot be stored: {exc}") from None
        return _source_out(call.ctx, org_id, source, secret)
