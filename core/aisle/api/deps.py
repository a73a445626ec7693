"""Litestar dependency providers: the caller's :class:`~aisle.api.context.Scope`."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from aisle.api.context import ApiContext, Caller, Scope

__all__ = ["Tenant", "dependencies", "provide_scope"]


def provide_scope(request: Request[Any, Any, Any]) -> Scope:
    ctx: ApiContext = request.app.state.aisle
    caller: Caller = request.user
    return Scope(ctx, caller)


dependencies = {"tenant": Provide(provide_scope, sync_to_thread=False)}
"""Declared on the ``/api/v1`` router; handlers take ``tenant: Scope``."""

Tenant = NamedDependency[Scope]
"""Annotate a handler's ``tenant`` parameter with this: the caller's organization."""
