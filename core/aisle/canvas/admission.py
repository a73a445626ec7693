"""What a draft must satisfy to be stored at all (stricter checks wait for ``validate``).

A draft may be incomplete (missing config, unreachable steps: ``validate`` reports
those), but it may not name node or trigger types that do not exist, hold duplicate
ids, have edges pointing at missing nodes, exceed the size limits, or hold a condition
over the CEL limits (compiling one could crash the process that reads it).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import msgspec

from aisle.contracts.registry import Registry
from aisle.domain.journey import Graph
from aisle.engine.validation import condition_limit_issues
from aisle.services.errors import FieldError

__all__ = [
    "Element",
    "GraphLimits",
    "check_graph",
    "condition_errors",
    "located",
    "unknown_type",
]

Element = Literal["node", "edge"]
"""Which kind of element of a graph: a node (step) or an edge (trigger)."""


class GraphLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Size limits for one journey graph."""

    max_nodes: int = 2000
    max_edges: int = 5000


def located(kind: Element, element_id: str, message: str, field: str, code: str) -> FieldError:
    """A problem with one node or edge, naming it the way a canvas highlights it."""
    return FieldError(
        message=message,
        field=field,
        node_id=element_id if kind == "node" else None,
        edge_id=element_id if kind == "edge" else None,
        code=code,
    )


def unknown_type(
    kind: Element, name: str, known: Collection[str], field: str, element_id: str
) -> FieldError:
    """A node naming no registered node type, or an edge no registered trigger type."""
    what = "node type" if kind == "node" else "trigger type"
    hint = ", ".join(sorted(known)[:20]) or "none registered"
    return located(
        kind,
        element_id,
        f"unknown {what} {name!r} (known: {hint})",
        field,
        f"unknown_{what.replace(' ', '_')}",
    )


def _id_and_type(
    kind: Element,
    index: int,
    element_id: str,
    type_name: str,
    seen: set[str],
    known: Collection[str],
) -> list[FieldError]:
    """A node's or edge's id is not taken and its type is registered (notes the id)."""
    where = f"{kind}s[{index}]"
    errors: list[FieldError] = []
    if element_id in seen:
        errors.append(
            located(
                kind,
                element_id,
                f"duplicate {kind} id {element_id!r}",
                f"{where}.id",
                "duplicate_id",
            )
        )
    seen.add(element_id)
    if type_name not in known:
        type_field = "type" if kind == "node" else "data.trigger"
        errors.append(unknown_type(kind, type_name, known, f"{where}.{type_field}", element_id))
    return errors


def check_graph(
    graph: Graph,
    *,
    node_types: Collection[str],
    trigger_types: Collection[str],
    limits: GraphLimits,
) -> list[FieldError]:
    """Every reason ``graph`` cannot be stored; field paths follow the flow document."""
    errors = [
        FieldError(
            message=f"too many {kinds}: {count} (limit {limit})",
            field=kinds,
            code=f"too_many_{kinds}",
        )
        for kinds, count, limit in (
            ("nodes", len(graph.steps), limits.max_nodes),
            ("edges", len(graph.edges), limits.max_edges),
        )
        if count > limit
    ]
    nodes: set[str] = set()
    for i, step in enumerate(graph.steps):
        errors += _id_and_type("node", i, step.id, step.type, nodes, node_types)
    edges: set[str] = set()
    for i, edge in enumerate(graph.edges):
        errors += _id_and_type("edge", i, edge.id, edge.trigger, edges, trigger_types)
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in nodes:
                errors.append(
                    located(
                        "edge",
                        edge.id,
                        f"edge {edge.id!r} {end} {node_id!r} is not a node of this flow",
                        f"edges[{i}].{end}",
                        "dangling_edge",
                    )
                )
    return errors


def condition_errors(graph: Graph, registry: Registry) -> list[FieldError]:
    """Conditions of ``graph`` over the CEL limits; field paths follow the flow document
    (``nodes[i].data.config…``, ``edges[i].data.config…``, ``settings.entry.filter``)."""
    nodes = {step.id: i for i, step in enumerate(graph.steps)}
    edges = {edge.id: i for i, edge in enumerate(graph.edges)}
    errors = []
    for issue in condition_limit_issues(graph, registry):
        field = issue.field or ""
        if issue.node_id is not None:
            field = f"nodes[{nodes[issue.node_id]}].data.{field}"
        elif issue.edge_id is not None:
            field = f"edges[{edges[issue.edge_id]}].data.{field}"
        errors.append(
            FieldError(
                message=issue.message,
                field=field,
                node_id=issue.node_id,
                edge_id=issue.edge_id,
                code=issue.code,
            )
        )
    return errors
