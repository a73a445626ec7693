"""The dashboard's routes: sign in with an API token, the overview, sign out.

Signing in exchanges an API token for a signed, HttpOnly session cookie; every page
re-checks that the token is still usable, so revoking the token ends the session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from aisle.api.context import ApiContext
from aisle.domain.api_token import ApiToken
from aisle.domain.organization import Organization
from aisle.storage.errors import NotFound
from aisle.storage.store import Store
from aisle_dashboard.csrf import DashboardCSRF
from aisle_dashboard.overview import journey_rows
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import (
    COOKIE_NAME,
    SESSION_LIFETIME,
    Session,
    SessionSigner,
    derive_key,
)

__all__ = ["create_router"]

_STATIC_DIR = Path(__file__).parent / "static"
_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)


class LoginForm(msgspec.Struct):
    token: str = ""


def _context(request: Request[Any, Any, Any]) -> tuple[ApiContext, Store]:
    ctx: ApiContext = request.app.state.aisle
    return ctx, ctx.require_store()


def _signer(ctx: ApiContext) -> SessionSigner:
    return SessionSigner(derive_key(ctx.settings.secret_key, "session"))


async def _signed_in(
    request: Request[Any, Any, Any],
) -> tuple[Store, Organization, ApiToken] | None:
    """The session's organization and token, or ``None`` when signed out or revoked."""
    ctx, store = _context(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    now = store.clock.now()
    session = _signer(ctx).loads(cookie, now)
    if session is None:
        return None
    try:
        token = await store.for_org(session.organization_id).tokens.get(session.token_id)
        organization = await store.organizations.get(session.organization_id)
    except NotFound:
        return None
    return (store, organization, token) if token.usable(now) else None


@get("/", name="dashboard:overview")
async def overview(request: Request[Any, Any, Any]) -> Response[Any]:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _NOT_SIGNED_IN
    store, organization, token = signed_in
    return page(
        request,
        "overview.html",
        organization=organization,
        role=token.role,
        active="overview",
        journeys=await journey_rows(store.for_org(organization)),
    )


@get("/login", name="dashboard:login")
async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "login.html", error=None)


@post("/login", status_code=303)
async def login(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    ctx, store = _context(request)
    token = await store.system.authenticate(data.token.strip())
    if token is None:
        return page(
            request,
            "login.html",
            status_code=401,
            error="That token is unknown, revoked or expired.",
        )
    now = store.clock.now()
    session = Session(token.id, token.organization_id, now + SESSION_LIFETIME)
    response: Response[Any] = Redirect(f"{BASE}/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        _signer(ctx).dumps(session),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=BASE,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )
    return response


@post("/logout", status_code=303)
async def logout() -> Response[Any]:
    response: Response[Any] = Redirect(f"{BASE}/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path=BASE)
    return response


def create_router() -> Router:
    """A fresh router for one app (the CSRF middleware keeps per-app state)."""
    static = create_static_files_router(
        path="/static", directories=[_STATIC_DIR], name="dashboard:static", include_in_schema=False
    )
    return Router(
        path=BASE,
        route_handlers=[overview, login_form, login, logout, static],
        middleware=[DashboardCSRF],
        include_in_schema=False,
    )
