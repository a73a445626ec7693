"""``GET /metrics``: Prometheus text, outside organization auth.

``AISLE_METRICS``: ``on`` (default), ``off`` (not mounted: 404), or ``token:<secret>`` (the scraper
sends ``Authorization: Bearer <secret>``; anything else is 401).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get

from aisle import metrics
from aisle.api.context import ApiContext
from aisle.api.problems import problem_response
from aisle.env import SettingsError
from aisle.services.errors import Refused
from aisle.services.probes import BacklogCache

__all__ = ["metrics_access", "metrics_endpoint"]

_backlog = BacklogCache()


def metrics_access(environ: Any) -> str | None:
    """``None`` when ``/metrics`` is off, ``""`` when open, else the token it wants."""
    raw = (environ.get("AISLE_METRICS") or "on").strip()
    if raw.lower() == "on":
        return ""
    if raw.lower() == "off":
        return None
    kind, _, token = raw.partition(":")
    if kind.lower() != "token" or len(token) < 16:
        raise SettingsError(
            "AISLE_METRICS must be on, off or token:<secret of at least 16 characters>"
        )
    return token


@get(
    "/metrics",
    tags=["meta"],
    summary="Prometheus metrics",
    exclude_from_auth=True,
    media_type="text/plain",
)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
    """The process's counters and histograms, and the backlog read from the database."""
    ctx: ApiContext = request.app.state.aisle
    wanted = metrics_access(ctx.settings.environ)
    if wanted:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {wanted}".encode()):
            return problem_response(
                request,
                Refused(401, "/metrics needs the AISLE_METRICS token as a bearer token"),
            )
    backlog = await _backlog.get(ctx.store) if ctx.store is not None else None
    return Response(metrics.exposition(backlog), media_type=metrics.CONTENT_TYPE)
