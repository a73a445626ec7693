"""``GET /healthz``: liveness for load balancers and ``aisle serve``'s own check."""

from __future__ import annotations

import msgspec
from litestar import get

__all__ = ["Health", "healthz"]


class Health(msgspec.Struct, frozen=True):
    status: str
    version: str


@get(
    "/healthz",
    tags=["meta"],
    summary="Liveness check",
    exclude_from_auth=True,
    sync_to_thread=False,
)
def healthz() -> Health:
    """Answer 200 while the process serves requests."""
    from aisle import __version__

    return Health(status="ok", version=__version__)
