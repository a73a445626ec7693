"""The nodes and edges a lock request names, checked before any service is called."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from aisle.services.errors import FieldError, Refused
from aisle.storage.collab_locks import MAX_TARGETS, LockTarget

__all__ = ["ElementId", "Targets"]

ElementId = Annotated[str, Meta(min_length=1, max_length=200)]


class Targets(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Nodes and edges by their React Flow ids."""

    nodes: Annotated[list[ElementId], Meta(max_length=MAX_TARGETS)] = []
    edges: Annotated[list[ElementId], Meta(max_length=MAX_TARGETS)] = []

    def targets(self) -> list[LockTarget]:
        found = [LockTarget("node", n) for n in self.nodes]
        found += [LockTarget("edge", e) for e in self.edges]
        return found

    def require(self) -> list[LockTarget]:
        """The targets named, or a 422 when there are none or too many."""
        found = self.targets()
        if not found:
            raise Refused(
                422,
                "name at least one node or edge (nodes: [...], edges: [...])",
                slug="validation",
                title="Invalid request",
                errors=[FieldError(message="no targets", field="nodes")],
            )
        if len(set(found)) > MAX_TARGETS:
            raise Refused(
                422,
                f"at most {MAX_TARGETS} nodes and edges at once",
                slug="validation",
                title="Invalid request",
                errors=[FieldError(message="too many targets", field="nodes")],
            )
        return found
