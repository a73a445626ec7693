"""Litestar dependency providers: the caller's :class:`~aisle.api.context.ApiCall`."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from aisle.api.context import ApiCall, ApiContext, Caller

__all__ = ["Call", "dependencies", "provide_call"]


def provide_call(request: Request[Any, Any, Any]) -> ApiCall:
    ctx: ApiContext = request.app.state.aisle
    caller: Caller = request.user
    return ApiCall(ctx, caller)


dependencies = {"call": Provide(provide_call, sync_to_thread=False)}
"""Declared on the ``/api/v1`` router; handlers take ``call: ApiCall``."""

Call = NamedDependency[ApiCall]
"""Annotate a handler's ``call`` parameter with this: the caller and their organization."""
