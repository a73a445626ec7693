"""The dashboard's session cookie: a random secret naming a server-side session.

The cookie carries only the secret; the session itself (its token or user, its
organization, when it ends) lives in the ``sessions`` table, which keeps only the
secret's hash (:mod:`aisle.services.sessions`). Each request re-reads it, so signing
out, revoking the token, disabling the user or changing their role ends it at once,
and a copy of the cookie dies with it.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from litestar import Request, Response

from aisle.api.context import ApiContext
from aisle.services.sessions import Session
from aisle_dashboard.paths import BASE

__all__ = [
    "COOKIE_NAME",
    "SESSION_LIFETIME",
    "app_context",
    "clear_session_cookie",
    "derive_key",
    "set_session_cookie",
    "signed_in",
]

COOKIE_NAME = "aisle_session"
SESSION_LIFETIME = timedelta(hours=12)


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A key for one purpose, so the CSRF key differs from the credential key."""
    if not secret_key:
        raise ValueError("the dashboard needs AISLE_SECRET_KEY (settings.secret_key) to sign in")
    return hmac.new(secret_key.encode(), f"aisle-dashboard:{purpose}".encode(), "sha256").digest()


def set_session_cookie(response: Response[Any], secret: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=BASE,
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookie(response: Response[Any]) -> None:
    response.delete_cookie(COOKIE_NAME, path=BASE)


def app_context(request: Request[Any, Any, Any]) -> ApiContext:
    """The app's services and settings (the same the API's routes use)."""
    ctx: ApiContext = request.app.state.aisle
    return ctx


async def signed_in(request: Request[Any, Any, Any]) -> Session | None:
    """This browser's live session, or ``None`` when signed out or ended: every page
    asks, and sends ``None`` to the sign-in form."""
    return await app_context(request).sign_ins.find(request.cookies.get(COOKIE_NAME, ""))
