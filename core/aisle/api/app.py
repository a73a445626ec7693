"""The Litestar application factory: :func:`create_app`."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from aisle.api.health import healthz
from aisle.api.problems import exception_handlers
from aisle.plugins.manager import Registry, load_registry

__all__ = ["create_app"]


def create_app(settings: Any = None, registry: Registry | None = None) -> Litestar:
    """Build the HTTP API (``/api/v1``, ``/healthz``, OpenAPI at ``/schema``).

    Route handlers registered by plugins through ``aisle_routes`` (the dashboard) are
    mounted too.
    """
    from aisle import __version__

    registry = registry if registry is not None else load_registry()
    handlers: list[Any] = [healthz]
    for route in registry.routes:
        handlers.extend(route.handlers)
    return Litestar(
        route_handlers=handlers,
        exception_handlers=exception_handlers,
        openapi_config=OpenAPIConfig(title="Aisle", version=__version__, path="/schema"),
        state=None,
    )
