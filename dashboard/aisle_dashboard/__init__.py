"""Aisle's dashboard: server-rendered pages mounted through the ``aisle_routes`` hook."""

from __future__ import annotations

from collections.abc import Iterable

from aisle import RouteRegistration, hookimpl
from aisle_dashboard.paths import BASE
from aisle_dashboard.routes import APP_HANDLERS, create_router

__all__ = ["aisle_routes"]


@hookimpl
def aisle_routes() -> Iterable[RouteRegistration]:
    return [
        RouteRegistration(
            name="dashboard",
            label="Dashboard",
            description="Sign in with a password or an API token; journeys with their "
            "enrollment counts; the API reference.",
            handlers=[create_router(), *APP_HANDLERS],
            path=BASE,
        )
    ]
