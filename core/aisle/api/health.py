"""Liveness and readiness for load balancers and orchestrators.

``/livez`` (and ``/healthz``, kept for what already checks it) answers while the
process serves requests; it never touches a dependency, so a database outage does not
get every API process restarted. ``/readyz`` probes the database and, when configured,
Redis, each within a second, and answers 503 naming the one that failed.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from aisle.api.context import ApiContext
from aisle.api.problems import problem_response
from aisle.services.errors import FieldError, Refused
from aisle.services.probes import check_dependencies

__all__ = ["Health", "healthz", "livez", "readyz"]


class Health(msgspec.Struct, frozen=True):
    status: str
    version: str


def _alive() -> Health:
    from aisle import __version__

    return Health(status="ok", version=__version__)


@get(
    "/livez", tags=["meta"], summary="Liveness check", exclude_from_auth=True, sync_to_thread=False
)
def livez() -> Health:
    """Answer 200 while the process serves requests."""
    return _alive()


@get(
    "/healthz",
    tags=["meta"],
    summary="Liveness check (the same as /livez)",
    exclude_from_auth=True,
    sync_to_thread=False,
)
def healthz() -> Health:
    """Answer 200 while the process serves requests."""
    return _alive()


@get("/readyz", tags=["meta"], summary="Readiness check", exclude_from_auth=True)
async def readyz(request: Request[Any, Any, Any]) -> Response[Any]:
    """200 when the database (and Redis, when configured) answer within a second; else
    503 naming each dependency that did not."""
    ctx: ApiContext = request.app.state.aisle
    failures = await check_dependencies(ctx.store, ctx.settings.redis_url)
    if not failures:
        return Response(_alive())
    names = ", ".join(f.dependency for f in failures)
    return problem_response(
        request,
        Refused(
            503,
            f"not ready: {names} unavailable",
            slug="dependency_unavailable",
            errors=[FieldError(message=f.reason, field=f.dependency) for f in failures],
            headers={"Retry-After": "1"},
        ),
    )
