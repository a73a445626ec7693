"""Bearer API tokens: every ``/api/v1`` request is authenticated, then rate limited.

The token is looked up by its SHA-256 hash; an unknown, revoked or expired token (or
one whose user was disabled) gets 401 with ``WWW-Authenticate: Bearer``. A token acts
with its own role or its user's current role, whichever is lower. Failures count per
client address (:mod:`aisle.api.throttle`): past ``AISLE_AUTH_FAILURE_LIMIT`` every
attempt from there gets 429 with ``Retry-After`` until the window ends. Each token
then spends from its own budget (:mod:`aisle.api.ratelimit`); an exhausted budget
gets 429 with ``Retry-After``.

A browser page of the dashboard (the journey canvas) calls the API with its sign-in
session instead of a token: the session's secret in the ``aisle_api_session`` cookie
(scoped to ``/api/v1``, ``SameSite=Strict``, set by the page) plus the page's CSRF token
(:func:`session_csrf_token`) in the ``Aisle-CSRF`` header, or, on a WebSocket, offered
as the subprotocol ``aisle.csrf.<token>``. The cookie alone is refused: a page of
another site can make a browser send cookies, never that header.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Message, Receive, Scope, Send

from aisle.api.context import ApiContext, Caller
from aisle.api.throttle import AuthThrottle
from aisle.services.errors import Refused

__all__ = [
    "SESSION_COOKIE",
    "SESSION_CSRF_HEADER",
    "BearerAuthMiddleware",
    "auth_throttle",
    "context_of",
    "session_csrf_token",
    "throttled",
]

SESSION_COOKIE = "aisle_api_session"
"""The dashboard session's secret, for the API (the dashboard's own cookie stays under
``/dashboard``)."""
SESSION_CSRF_HEADER = "Aisle-CSRF"
WS_CSRF_SUBPROTOCOL = "aisle.csrf."


def context_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiContext:
    ctx: ApiContext = connection.app.state.aisle
    return ctx


WS_TOKEN_SUBPROTOCOL = "aisle.bearer."  # noqa: S105 (a prefix, not a secret)
"""Browsers cannot set headers on a WebSocket: they offer ``aisle.bearer.<token>`` as a
subprotocol instead (next to ``aisle.v1``, the one the server selects)."""


def auth_throttle(ctx: ApiContext) -> AuthThrottle:
    """The failed-authentication throttle, on the app's rate-limit store."""
    config = ctx.config
    return AuthThrottle(ctx.limiter, config.auth_failure_limit, config.auth_failure_window_seconds)


def throttled(throttle: AuthThrottle, retry_after: int) -> Refused:
    return Refused(
        429,
        throttle.detail(retry_after),
        headers={"Retry-After": str(retry_after)},
    )


def context_of_scope(scope: Scope) -> ApiContext:
    ctx: ApiContext = scope["litestar_app"].state.aisle
    return ctx


def session_csrf_token(secret_key: str, session_secret: str) -> str:
    """The CSRF token that goes with a session's cookie: bound to that session, so a
    token seen by one signed-in browser is worth nothing with another's cookie."""
    key = hmac.new(secret_key.encode(), b"aisle-api:session-csrf", hashlib.sha256).digest()
    return hmac.new(key, session_secret.encode(), hashlib.sha256).hexdigest()


def _offered(connection: ASGIConnection[Any, Any, Any, Any], prefix: str) -> str:
    """The value a WebSocket offered as the subprotocol ``<prefix><value>``, or ``""``."""
    if connection.scope["type"] != ScopeType.WEBSOCKET:
        return ""
    offered = cast("Sequence[str]", connection.scope.get("subprotocols") or ())
    for protocol in offered:
        value = str(protocol).removeprefix(prefix)
        if value and value != protocol:
            return value
    return ""


def _session_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The session cookie's secret when the request authenticates with it (no
    ``Authorization`` header, no bearer subprotocol), else ``""``."""
    if connection.headers.get("authorization") or _offered(connection, WS_TOKEN_SUBPROTOCOL):
        return ""
    return connection.cookies.get(SESSION_COOKIE, "")


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    if not header and (token := _offered(connection, WS_TOKEN_SUBPROTOCOL)):
        return token
    scheme, _, credentials = header.partition(" ")
    if not header:
        raise NotAuthorizedException(detail="send an API token: Authorization: Bearer <token>")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise NotAuthorizedException(detail="the Authorization header must be 'Bearer <token>'")
    return credentials.strip()


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return

        async def send_with_rate_headers(message: Message) -> None:
            # The decision is made while authenticating, before the handler runs.
            decision = scope.get("state", {}).get("aisle_rate")
            if message["type"] == "http.response.start" and decision is not None:
                config = context_of_scope(scope).config
                headers = MutableScopeHeaders(message)
                for key, value in decision.headers(config.rate_window_seconds).items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await super().__call__(scope, receive, send_with_rate_headers)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        ctx = context_of(connection)
        address = connection.client.host if connection.client else None
        throttle = auth_throttle(ctx)
        if session_secret := _session_secret(connection):
            return await self._authenticate_session(connection, ctx, throttle, session_secret)
        plaintext = _bearer(connection)  # no token offered: 401, and nothing was guessed
        # Checked before the token, so a guess made while refused is never tried.
        retry_after = await throttle.retry_after(address)
        if retry_after is not None:
            raise throttled(throttle, retry_after)
        token = await ctx.require_store().system.authenticate(plaintext)
        if token is None:
            await throttle.failed(address)
            raise NotAuthorizedException(detail="the API token is unknown, revoked or expired")
        caller = Caller(
            organization_id=token.organization_id,
            role=token.role,
            token_id=token.id,
            user_id=token.user_id,
        )
        await _spend(connection, ctx, f"token:{token.id}", "this token")
        return AuthenticationResult(user=caller, auth=token)

    async def _authenticate_session(
        self,
        connection: ASGIConnection[Any, Any, Any, Any],
        ctx: ApiContext,
        throttle: AuthThrottle,
        secret: str,
    ) -> AuthenticationResult:
        address = connection.client.host if connection.client else None
        retry_after = await throttle.retry_after(address)
        if retry_after is not None:
            raise throttled(throttle, retry_after)
        session = await ctx.sign_ins.find(secret)
        if session is None:
            await throttle.failed(address)
            raise NotAuthorizedException(detail="the dashboard session has ended: sign in again")
        sent = connection.headers.get(SESSION_CSRF_HEADER) or _offered(
            connection, WS_CSRF_SUBPROTOCOL
        )
        expected = session_csrf_token(ctx.settings.secret_key, secret)
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise PermissionDeniedException(
                detail=f"a request with the dashboard session needs the page's "
                f"{SESSION_CSRF_HEADER} header"
            )
        caller = Caller(
            organization_id=session.organization.id,
            role=session.role,
            # A password session has no token; the caller is its user.
            token_id=session.token_id or "",
            user_id=session.user_id,
        )
        # A session spends from its token's budget, or from its user's.
        budget = f"token:{session.token_id}" if session.token_id else f"user:{session.user_id}"
        await _spend(connection, ctx, budget, "this session")
        return AuthenticationResult(user=caller, auth=session)


async def _spend(
    connection: ASGIConnection[Any, Any, Any, Any], ctx: ApiContext, key: str, who: str
) -> None:
    """One request from ``key``'s budget; 429 when it is spent."""
    config = ctx.config
    if config.rate_limit <= 0:
        return
    decision = await ctx.limiter.hit(key, config.rate_limit, config.rate_window_seconds)
    connection.scope.setdefault("state", {})["aisle_rate"] = decision
    if not decision.allowed:
        raise Refused(
            429,
            f"{who} may make {config.rate_limit} requests per "
            f"{config.rate_window_seconds} s; retry in {decision.reset_seconds} s",
            headers=decision.headers(config.rate_window_seconds),
        )
