"""CSRF protection for the dashboard's forms: Litestar's CSRF middleware, keyed per app.

Litestar's :class:`~litestar.middleware.csrf.CSRFMiddleware` needs its secret when it
is built, but the dashboard is registered (through a hook) before the app's settings
exist; so it is built on the first request, from the app's ``AISLE_SECRET_KEY``.
"""

from __future__ import annotations

from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from aisle.api.context import ApiContext
from aisle_dashboard.paths import BASE
from aisle_dashboard.session import derive_key

__all__ = ["CSRF_COOKIE", "DashboardCSRF", "csrf_token"]

CSRF_COOKIE = "aisle_csrf"


class DashboardCSRF:
    """ASGI middleware: CSRF cookie on safe requests, token check on every form post."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            ctx: ApiContext = scope["litestar_app"].state.aisle
            settings = ctx.settings
            config = CSRFConfig(
                secret=derive_key(settings.secret_key, "csrf").hex(),
                cookie_name=CSRF_COOKIE,
                cookie_path=BASE,
                cookie_httponly=True,
                cookie_samesite="strict",
            )
            self._inner = CSRFMiddleware(self.app, config)
        await self._inner(scope, receive, send)


def csrf_token(scope: Any) -> str:
    """The token to embed in this response's forms (set by :class:`DashboardCSRF`)."""
    token = ScopeState.from_scope(scope).csrf_token
    return token if isinstance(token, str) else ""
