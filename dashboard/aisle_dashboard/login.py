"""Signing in (a user's email and password, or an API token) and out.

A sign-in starts a server-side session named by an HttpOnly cookie; every page re-reads
it with its user or token, so signing out, revoking the token, changing the user's role
or password, or disabling them ends it. Failed sign-ins count against the per-address
budget the API's bad tokens spend (``AISLE_AUTH_FAILURE_LIMIT``) and, for a password,
against one per account too, so guessing one studio's password from many addresses
stops as well.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from aisle.api.auth import auth_throttle
from aisle.services.sessions import PasswordSignIn
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import (
    COOKIE_NAME,
    SESSION_LIFETIME,
    app_context,
    clear_session_cookie,
    set_session_cookie,
)

__all__ = ["LOGIN_HANDLERS"]


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    studio: str = ""
    token: str = ""


def _form(
    request: Request[Any, Any, Any], *, status_code: int = 200, **context: Any
) -> Response[str]:
    context.setdefault("error", None)
    context.setdefault("email", "")
    context.setdefault("studios", ())
    context.setdefault("token_error", False)
    return page(request, "login.html", status_code=status_code, **context)


@get("/login", name="dashboard:login")
async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return _form(request)


@post("/login", status_code=303)
async def login(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    ctx = app_context(request)
    by_token = bool(data.token) and not data.email
    email = data.email.strip()
    address = request.client.host if request.client else None
    account = None if by_token else email
    throttle = auth_throttle(ctx)
    retry_after = await throttle.retry_after(address, account)
    if retry_after is not None:
        refused = _form(
            request,
            status_code=429,
            email=email,
            token_error=by_token,
            error=f"Too many failed sign-ins. Try again in {retry_after} seconds.",
        )
        refused.headers["Retry-After"] = str(retry_after)
        return refused
    # A session carried into the sign-in is not reused (no fixation): it ends there.
    replacing = request.cookies.get(COOKIE_NAME, "")
    signed: PasswordSignIn | None
    if by_token:
        secret = await ctx.sign_ins.sign_in(
            data.token.strip(), lifetime=SESSION_LIFETIME, replacing=replacing
        )
        signed = PasswordSignIn(secret=secret) if secret is not None else None
    else:
        signed = await ctx.sign_ins.sign_in_with_password(
            email,
            data.password,
            lifetime=SESSION_LIFETIME,
            studio=data.studio,
            replacing=replacing,
        )
    if signed is None:
        await throttle.failed(address, account)
        error = (
            "That token is unknown, revoked or expired."
            if by_token
            else "That email and password do not match an account."
        )
        return _form(request, status_code=401, email=email, token_error=by_token, error=error)
    if signed.secret is None:
        return _form(request, email=email, studios=signed.studios)
    response: Response[Any] = Redirect(f"{BASE}/", status_code=303)
    set_session_cookie(response, signed.secret, secure=request.url.scheme == "https")
    return response


@post("/logout", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """Sign out: the session ends server-side, so a copy of the cookie stops working."""
    await app_context(request).sign_ins.end(request.cookies.get(COOKIE_NAME, ""))
    response: Response[Any] = Redirect(f"{BASE}/login", status_code=303)
    clear_session_cookie(response)
    return response


LOGIN_HANDLERS = (login_form, login, logout)
