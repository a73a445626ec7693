"""What the canvas service asks of collaboration (:class:`aisle.canvas.CanvasCollab`)
for one actor of one organization: edit-lock fences on writes, the op log on the live
stream, the lock on each node of the flow document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aisle.collab.holders import Participant, holder_id
from aisle.collab.refusals import fence_refused
from aisle.collab.service import Collaboration
from aisle.storage.collab_locks import FenceRefused, LockRepository, LockTarget
from aisle.storage.store import OrgScope, Store

__all__ = ["CanvasLink", "ChangedElement"]


class ChangedElement(Protocol):
    """What a change names: ``kind`` (``nodes``/``edges``) and the element ``id``
    (:class:`aisle.canvas.graph_paths.Change` is one)."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...


def _target(change: ChangedElement) -> LockTarget:
    return LockTarget("node" if change.kind in ("nodes", "node") else "edge", change.id)


class CanvasLink:
    """Collaboration for the canvas writes and reads of ``actor``. Fences and lock
    annotations come from the stored leases; announcing needs ``collab``, the process's
    live stream (without it nothing is announced)."""

    def __init__(
        self, store: Store, scope: OrgScope, actor: Participant, collab: Collaboration | None
    ) -> None:
        self.locks = LockRepository(scope.org_id, store.db, store.clock)
        self.actor = actor
        self.collab = collab

    async def enforce_fences(
        self, journey_id: str, changes: Iterable[ChangedElement], fences: Mapping[str, int]
    ) -> None:
        """Refuse the write with 423 unless, for every changed node or edge under a live
        edit lock, the actor holds that lock and sent its current fencing token in
        ``fences`` (keys ``node:<id>`` / ``edge:<id>``; a bare id is a node).

        Call inside the write's transaction: on PostgreSQL this holds off lock grants on
        those elements until the write commits.
        """
        targets = {_target(c) for c in changes}
        if not targets:
            return
        tokens = {LockTarget.parse(key): value for key, value in fences.items()}
        try:
            await self.locks.check_fences(
                journey_id, targets, holder=holder_id(self.actor), tokens=tokens
            )
        except FenceRefused as exc:
            raise fence_refused(exc) from None

    async def announce_flow_log(
        self, journey_id: str, entries: Iterable[Mapping[str, Any]]
    ) -> None:
        """After the commit: the op-log entries on the journey's live stream."""
        if self.collab is not None:
            await self.collab.announce_flow_log(journey_id, entries)

    async def node_locks(self, journey_id: str) -> dict[str, Any]:
        """The live edit lock on each locked node (``{holder, holder_name, expires_at,
        …}``), for annotating the flow document. Viewers are listed under ``viewers``."""
        out: dict[str, Any] = {}
        for lock in await self.locks.leases(journey_id):
            if lock.target_kind != "node":
                continue
            entry = out.setdefault(lock.target_id, {"edit": None, "viewers": []})
            info = {
                "holder": lock.holder,
                "holder_name": lock.holder_name,
                "expires_at": lock.expires_at.isoformat().replace("+00:00", "Z"),
            }
            if lock.mode == "edit":
                entry["edit"] = {**info, "fencing_token": lock.fencing_token}
            else:
                entry["viewers"].append(info)
        return out
