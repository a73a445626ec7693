"""Bearer API tokens: every ``/api/v1`` request is authenticated, then rate limited.

The token is looked up by its SHA-256 hash; an unknown, revoked or expired token (or
one whose user was disabled) gets 401 with ``WWW-Authenticate: Bearer``. A token acts
with its own role or its user's current role, whichever is lower. Failures count per
client address (:mod:`aisle.api.throttle`): past ``AISLE_AUTH_FAILURE_LIMIT`` every
attempt from there gets 429 with ``Retry-After`` until the window ends. Each token
then spends from its own budget (:mod:`aisle.api.ratelimit`); an exhausted budget
gets 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Message, Receive, Scope, Send

from aisle.api.context import ApiContext, Caller
from aisle.api.throttle import AuthThrottle
from aisle.services.errors import Refused

__all__ = ["BearerAuthMiddleware", "auth_throttle", "context_of", "throttled"]


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


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    if not header and connection.scope["type"] == ScopeType.WEBSOCKET:
        offered = cast("Sequence[str]", connection.scope.get("subprotocols") or ())
        for protocol in offered:
            token = str(protocol).removeprefix(WS_TOKEN_SUBPROTOCOL)
            if token and token != protocol:
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
        config = ctx.config
        if config.rate_limit > 0:
            decision = await ctx.limiter.hit(
                f"token:{token.id}", config.rate_limit, config.rate_window_seconds
            )
            connection.scope.setdefault("state", {})["aisle_rate"] = decision
            if not decision.allowed:
                raise Refused(
                    429,
                    f"this token may make {config.rate_limit} requests per "
                    f"{config.rate_window_seconds} s; retry in {decision.reset_seconds} s",
                    headers=decision.headers(config.rate_window_seconds),
                )
        return AuthenticationResult(user=caller, auth=token)
