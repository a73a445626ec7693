"""Request ids, log context and HTTP metrics for every routed request.

Each request gets an ``X-Request-ID`` (the caller's when it sends a sane one, else a new
one), echoed on the response and carried by every log line the request causes, with
its organization once authenticated. Requests are counted by route *template*
(``/api/v1/journeys/{journey_id:str}``), never by raw path, so ids do not explode the
label set.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from aisle import logs, metrics

__all__ = ["ObserveMiddleware"]

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ObserveMiddleware(ASGIMiddleware):
    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        logs.bind(request_id=request_id, organization=lambda: _organization(scope))
        route = scope.get("path_template") or "(unrouted)"
        method = str(scope.get("method", "GET"))
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
                metrics.HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _organization(scope: Scope) -> str | None:
    user: Any = scope.get("user")
    org = getattr(user, "organization_id", None)
    return org if isinstance(org, str) else None
