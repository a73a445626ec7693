"""The dashboard's routes: sign in with an API token, the overview, sign out.

Signing in exchanges an API token for a server-side session named by an HttpOnly
cookie; every page re-reads the session with its token and user, so signing out,
revoking the token or changing the user's role ends it. Failed sign-ins count against
the same per-address budget as bad API tokens (``AISLE_AUTH_FAILURE_LIMIT``).
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

from aisle.api.auth import auth_throttle
from aisle.api.context import ApiContext
from aisle.services.sessions import Session, SignIns
from aisle.services.stats import JourneyStatistics
from aisle_dashboard.csrf import DashboardCSRF
from aisle_dashboard.overview import journey_rows
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import (
    COOKIE_NAME,
    SESSION_LIFETIME,
    clear_session_cookie,
    set_session_cookie,
)

__all__ = ["create_router"]

_STATIC_DIR = Path(__file__).parent / "static"
_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)


class LoginForm(msgspec.Struct):
    token: str = ""


def _context(request: Request[Any, Any, Any]) -> ApiContext:
    ctx: ApiContext = request.app.state.aisle
    return ctx


def _sign_ins(request: Request[Any, Any, Any]) -> SignIns:
    return _context(request).sign_ins


async def _signed_in(request: Request[Any, Any, Any]) -> Session | None:
    """The live session, or ``None`` when signed out or ended."""
    return await _sign_ins(request).find(request.cookies.get(COOKIE_NAME, ""))


@get("/", name="dashboard:overview")
async def overview(request: Request[Any, Any, Any]) -> Response[Any]:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _NOT_SIGNED_IN
    summaries = await JourneyStatistics(signed_in.scope).summaries()
    return page(
        request,
        "overview.html",
        organization=signed_in.organization,
        role=signed_in.role,
        active="overview",
        journeys=journey_rows(summaries),
    )


@get("/login", name="dashboard:login")
async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "login.html", error=None)


@post("/login", status_code=303)
async def login(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    ctx = _context(request)
    address = request.client.host if request.client else None
    throttle = auth_throttle(ctx)
    retry_after = await throttle.retry_after(address)
    if retry_after is not None:
        refused = page(
            request,
            "login.html",
            status_code=429,
            error=f"Too many failed sign-ins from here. Try again in {retry_after} seconds.",
        )
        refused.headers["Retry-After"] = str(retry_after)
        return refused
    # A session carried into the sign-in is not reused (no fixation): it ends there.
    secret = await ctx.sign_ins.sign_in(
        data.token.strip(),
        lifetime=SESSION_LIFETIME,
        replacing=request.cookies.get(COOKIE_NAME, ""),
    )
    if secret is None:
        await throttle.failed(address)
        return page(
            request,
            "login.html",
            status_code=401,
            error="That token is unknown, revoked or expired.",
        )
    response: Response[Any] = Redirect(f"{BASE}/", status_code=303)
    set_session_cookie(response, secret, secure=request.url.scheme == "https")
    return response


@post("/logout", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """Sign out: the session ends server-side, so a copy of the cookie stops working."""
    await _sign_ins(request).end(request.cookies.get(COOKIE_NAME, ""))
    response: Response[Any] = Redirect(f"{BASE}/login", status_code=303)
    clear_session_cookie(response)
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
