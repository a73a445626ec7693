"""Fine-grained canvas operations: the body of ``POST /journeys/{id}/flow/ops``.

Each operation carries a client op id (a replayed op is a no-op) and the draft
revision the client based it on. Updates are JSON Merge Patches (RFC 7396) per map:
in ``config``, ``data`` and ``ui`` a ``null`` removes the key, any other value sets it,
absent keys are left alone, so two people editing different keys of one node merge.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from aisle.canvas.reactflow import ElementId, FlowEdge, FlowNode, XYPosition

__all__ = [
    "MAX_OPS_PER_BATCH",
    "AddEdge",
    "AddNode",
    "FlowOp",
    "MoveNode",
    "OpBatch",
    "RemoveEdge",
    "RemoveNode",
    "UpdateEdge",
    "UpdateNode",
]

MAX_OPS_PER_BATCH = 1000

OpId = Annotated[str, Meta(min_length=1, max_length=200)]
Revision = Annotated[int, Meta(ge=0, le=2**31 - 1)]


class _Op(msgspec.Struct, kw_only=True, tag_field="op"):
    id: OpId
    """The client's op id, unique per journey; resending it is a no-op."""
    base_revision: Revision | None = None
    """The draft revision the client saw; defaults to the batch's ``base_revision``."""


class AddNode(_Op, tag="add_node"):
    """Add a node, given as React Flow has it."""

    node: FlowNode


class MoveNode(_Op, tag="move_node"):
    """Move a node."""

    node_id: ElementId
    position: XYPosition


class UpdateNode(_Op, tag="update_node"):
    """Change some properties of a node; ``config``/``data``/``ui`` are merge patches."""

    node_id: ElementId
    type: str | UnsetType = UNSET
    label: str | UnsetType = UNSET
    position: XYPosition | UnsetType = UNSET
    config: dict[str, Any] | UnsetType = UNSET
    data: dict[str, Any] | UnsetType = UNSET
    ui: dict[str, Any] | UnsetType = UNSET


class RemoveNode(_Op, tag="remove_node"):
    """Remove a node and the edges attached to it."""

    node_id: ElementId


class AddEdge(_Op, tag="add_edge"):
    """Add an edge, given as React Flow has it."""

    edge: FlowEdge


class UpdateEdge(_Op, tag="update_edge"):
    """Change some properties of an edge; ``config``/``data``/``ui`` are merge patches."""

    edge_id: ElementId
    source: ElementId | UnsetType = UNSET
    target: ElementId | UnsetType = UNSET
    source_handle: str | UnsetType | None = UNSET
    target_handle: str | UnsetType | None = UNSET
    trigger: str | UnsetType = UNSET
    priority: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)] | UnsetType = UNSET
    label: str | UnsetType = UNSET
    config: dict[str, Any] | UnsetType = UNSET
    data: dict[str, Any] | UnsetType = UNSET
    ui: dict[str, Any] | UnsetType = UNSET


class RemoveEdge(_Op, tag="remove_edge"):
    """Remove an edge."""

    edge_id: ElementId


FlowOp = AddNode | MoveNode | UpdateNode | RemoveNode | AddEdge | UpdateEdge | RemoveEdge


class OpBatch(msgspec.Struct, kw_only=True):
    """A batch of operations applied in order.

    ``atomic``: when true, one conflicting op rejects the whole batch; otherwise the
    ops that merge are applied and only the conflicting ones are rejected.
    """

    base_revision: Revision
    ops: Annotated[list[FlowOp], Meta(min_length=1, max_length=MAX_OPS_PER_BATCH)]
    atomic: bool = False
    fences: dict[str, Annotated[int, Meta(ge=0)]] = {}
    """Fencing tokens of the edit locks you hold, keyed ``node:<id>`` / ``edge:<id>``:
    a change to an element locked by you needs its current token (423 otherwise)."""
