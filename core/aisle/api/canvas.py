"""The canvas service for one API call: its organization, its caller, and collaboration
reached through :mod:`aisle.api.collab.hooks`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aisle.api.collab.hooks import announce_flow_log, enforce_fences, node_locks
from aisle.api.context import ApiCall
from aisle.canvas.service import CanvasService, ChangedElement

__all__ = ["canvas_for"]


class _CallCollab:
    """:class:`aisle.canvas.CanvasCollab` for one API call."""

    def __init__(self, call: ApiCall) -> None:
        self._call = call

    async def enforce_fences(
        self, journey_id: str, changes: Iterable[ChangedElement], fences: Mapping[str, int]
    ) -> None:
        await enforce_fences(self._call, journey_id, changes, fences)

    async def announce_flow_log(
        self, journey_id: str, entries: Iterable[Mapping[str, Any]]
    ) -> None:
        await announce_flow_log(self._call, journey_id, entries)

    async def node_locks(self, journey_id: str) -> dict[str, Any]:
        return await node_locks(self._call, journey_id)


def canvas_for(call: ApiCall) -> CanvasService:
    """The canvas of the caller's organization, edited as the caller."""
    return CanvasService(
        call.store,
        call.scope,
        call.caller,
        registry=call.registry,
        limits=call.config.graph_limits,
        collab=_CallCollab(call),
        issues_cache=call.ctx.issues_cache,
    )
