"""Collaboration as a process without the live stream sees it (the CLI, the demo seed):
stored edit locks still fence writes; there is no one to announce to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aisle.canvas.service import ChangedElement
from aisle.services.errors import Refused
from aisle.storage.collab_locks import FenceRefused, LockRepository, LockTarget
from aisle.storage.store import Store

__all__ = ["OfflineCollab"]


class OfflineCollab:
    """:class:`aisle.canvas.CanvasCollab` for ``holder`` (who a lock would name) of one
    organization, checked against the stored locks."""

    def __init__(self, store: Store, org_id: str, holder: str) -> None:
        self._locks = LockRepository(org_id, store.db, store.clock)
        self._holder = holder

    async def enforce_fences(
        self, journey_id: str, changes: Iterable[ChangedElement], fences: Mapping[str, int]
    ) -> None:
        targets = {
            LockTarget("node" if c.kind in ("nodes", "node") else "edge", c.id) for c in changes
        }
        if not targets:
            return
        tokens = {LockTarget.parse(key): value for key, value in fences.items()}
        try:
            await self._locks.check_fences(journey_id, targets, holder=self._holder, tokens=tokens)
        except FenceRefused as exc:
            raise Refused(423, str(exc), slug="locked", title="Locked") from None

    async def announce_flow_log(
        self, journey_id: str, entries: Iterable[Mapping[str, Any]]
    ) -> None:
        # Committed entries reach live clients when they next read the op log.
        return None

    async def node_locks(self, journey_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for lock in await self._locks.leases(journey_id):
            if lock.target_kind == "node" and lock.mode == "edit":
                out[lock.target_id] = {"edit": {"holder": lock.holder}, "viewers": []}
        return out
