"""The canvas service for one API call: its organization, its caller, and collaboration
reached through :class:`aisle.collab.CanvasLink`."""

from __future__ import annotations

from aisle.api.context import ApiCall
from aisle.canvas.service import CanvasService
from aisle.collab import CanvasLink

__all__ = ["canvas_for"]


def canvas_for(call: ApiCall) -> CanvasService:
    """The canvas of the caller's organization, edited as the caller."""
    return CanvasService(
        call.store,
        call.scope,
        call.caller,
        registry=call.registry,
        limits=call.config.graph_limits,
        collab=CanvasLink(call.store, call.scope, call.caller, call.ctx.collab),
        issues_cache=call.ctx.issues_cache,
    )
