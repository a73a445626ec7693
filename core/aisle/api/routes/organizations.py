"""Organizations, for the operator: open a studio (with its first owner token), list, read.

These routes take an *operator token* (``aisle operator token create``; stored hashed,
revocable), not a studio's API token: a studio token gets 403, no token 401. Nothing a
studio owns is reachable here beyond its name, slug and timezone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from aisle.api.context import ApiContext
from aisle.api.routes.access import TokenCreated, token_out
from aisle.domain.organization import Organization, Slug
from aisle.services.errors import FieldError, Refused
from aisle.storage.errors import NotFound
from aisle.storage.operator_tokens import OperatorToken

__all__ = ["OrganizationController", "operator_only"]

_ZONES = frozenset(available_timezones())


class OrganizationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    """Lowercase letters, digits and inner hyphens (``golden-hour``); unique, fixed."""
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    timezone: Annotated[str, Meta(max_length=100)] = "UTC"


class OrganizationOut(msgspec.Struct, kw_only=True):
    id: str
    slug: str
    name: str
    timezone: str
    created_at: datetime | None


class OrganizationCreated(OrganizationOut, kw_only=True):
    owner_token: TokenCreated
    """The studio's first owner token: shown once, stored only as a hash."""


class OrganizationList(msgspec.Struct, kw_only=True):
    items: list[OrganizationOut]


def organization_out(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.id, slug=org.slug, name=org.name, timezone=org.timezone, created_at=org.created_at
    )


def _ctx(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiContext:
    ctx: ApiContext = connection.app.state.aisle
    return ctx


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise NotAuthorizedException(
            detail="send an operator token: Authorization: Bearer <token> "
            "(`aisle operator token create` makes one)"
        )
    return credentials.strip()


async def operator_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A guard: the caller holds an unrevoked operator token."""
    store = _ctx(connection).require_store()
    plaintext = _bearer(connection)
    operator = await store.operator_tokens.authenticate(plaintext)
    if operator is None:
        if await store.system.authenticate(plaintext) is not None:
            raise Refused(
                403,
                "organizations are managed by the operator: this is a studio's API token, "
                "and these routes need an operator token (`aisle operator token create`)",
                extra={"required_role": "operator"},
            )
        raise NotAuthorizedException(detail="the operator token is unknown or revoked")
    connection.scope.setdefault("state", {})["aisle_operator"] = operator


def _operator(request: Request[Any, Any, Any]) -> OperatorToken:
    operator: OperatorToken = request.scope["state"]["aisle_operator"]
    return operator


async def _by_slug(ctx: ApiContext, slug: str) -> Organization:
    org = await ctx.require_store().organizations.by_slug(slug)
    if org is None:
        raise NotFound("organization", slug)
    return org


class OrganizationController(Controller):
    path = "/organizations"
    tags = ["organizations (operator)"]
    guards = [operator_only]
    # Operator tokens are not API tokens: the bearer middleware steps aside and the
    # guard authenticates instead.
    opt = {"exclude_from_auth": True}
    security = [{"operator": []}]

    @post(
        "/",
        summary="Open a studio and get its first owner token (operator)",
        status_code=HTTP_201_CREATED,
    )
    async def create_organization(
        self, request: Request[Any, Any, Any], data: JSONBody[OrganizationIn]
    ) -> OrganizationCreated:
        if data.timezone not in _ZONES:
            raise Refused(
                422,
                f"timezone: {data.timezone!r} is not an IANA timezone (e.g. Europe/London)",
                slug="validation",
                title="Invalid request",
                errors=[FieldError(message="unknown timezone", field="timezone")],
            )
        ctx: ApiContext = request.app.state.aisle
        opened = await ctx.require_store().organizations.open_studio(
            slug=data.slug,
            name=data.name,
            timezone=data.timezone,
            actor=f"operator:{_operator(request).id}",
        )
        out = organization_out(opened.organization)
        token = TokenCreated(
            **msgspec.structs.asdict(token_out(opened.owner_token)), token=opened.token
        )
        return OrganizationCreated(**msgspec.structs.asdict(out), owner_token=token)

    @get("/", summary="List organizations (operator)")
    async def list_organizations(self, request: Request[Any, Any, Any]) -> OrganizationList:
        ctx: ApiContext = request.app.state.aisle
        orgs = await ctx.require_store().organizations.list()
        return OrganizationList(items=[organization_out(o) for o in orgs])

    @get("/{slug:str}", summary="Read an organization by slug (operator)")
    async def get_organization(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> OrganizationOut:
        return organization_out(await _by_slug(request.app.state.aisle, slug))
