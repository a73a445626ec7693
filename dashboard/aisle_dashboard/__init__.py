"""Aisle's dashboard: server-rendered pages mounted through the ``aisle_routes`` hook."""

from __future__ import annotations

from collections.abc import Iterable

from aisle import RouteRegistration, hookimpl

__all__ = ["aisle_routes"]


@hookimpl
def aisle_routes() -> Iterable[RouteRegistration]:
    return []
