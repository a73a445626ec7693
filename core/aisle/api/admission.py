"""What a draft must satisfy to be stored at all (stricter checks wait for ``validate``).

A draft may be incomplete (missing config, unreachable steps: ``validate`` reports
those), but it may not name node or trigger types that do not exist, hold duplicate
ids, have edges pointing at missing nodes, or exceed the size limits.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from aisle.api.problems import FieldError
from aisle.domain.journey import Graph

__all__ = ["GraphLimits", "check_graph", "unknown_node_type", "unknown_trigger"]


class GraphLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Size limits for one journey graph."""

    max_nodes: int = 2000
    max_edges: int = 5000


def unknown_node_type(name: str, known: Collection[str]) -> str:
    hint = ", ".join(sorted(known)[:20]) or "none registered"
    return f"unknown node type {name!r} (known: {hint})"


def unknown_trigger(name: str, known: Collection[str]) -> str:
    hint = ", ".join(sorted(known)[:20]) or "none registered"
    return f"unknown trigger type {name!r} (known: {hint})"


def check_graph(
    graph: Graph,
    *,
    node_types: Collection[str],
    trigger_types: Collection[str],
    limits: GraphLimits,
) -> list[FieldError]:
    """Every reason ``graph`` cannot be stored; field paths follow the flow document."""
    errors: list[FieldError] = []
    if len(graph.steps) > limits.max_nodes:
        errors.append(
            FieldError(
                message=f"too many nodes: {len(graph.steps)} (limit {limits.max_nodes})",
                field="nodes",
                code="too_many_nodes",
            )
        )
    if len(graph.edges) > limits.max_edges:
        errors.append(
            FieldError(
                message=f"too many edges: {len(graph.edges)} (limit {limits.max_edges})",
                field="edges",
                code="too_many_edges",
            )
        )
    seen: set[str] = set()
    for i, step in enumerate(graph.steps):
        if step.id in seen:
            errors.append(
                FieldError(
                    message=f"duplicate node id {step.id!r}",
                    field=f"nodes[{i}].id",
                    node_id=step.id,
                    code="duplicate_id",
                )
            )
        seen.add(step.id)
        if step.type not in node_types:
            errors.append(
                FieldError(
                    message=unknown_node_type(step.type, node_types),
                    field=f"nodes[{i}].type",
                    node_id=step.id,
                    code="unknown_node_type",
                )
            )
    edge_ids: set[str] = set()
    for i, edge in enumerate(graph.edges):
        if edge.id in edge_ids:
            errors.append(
                FieldError(
                    message=f"duplicate edge id {edge.id!r}",
                    field=f"edges[{i}].id",
                    edge_id=edge.id,
                    code="duplicate_id",
                )
            )
        edge_ids.add(edge.id)
        if edge.trigger not in trigger_types:
            errors.append(
                FieldError(
                    message=unknown_trigger(edge.trigger, trigger_types),
                    field=f"edges[{i}].data.trigger",
                    edge_id=edge.id,
                    code="unknown_trigger_type",
                )
            )
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in seen:
                errors.append(
                    FieldError(
                        message=f"edge {edge.id!r} {end} {node_id!r} is not a node of this flow",
                        field=f"edges[{i}].{end}",
                        edge_id=edge.id,
                        code="dangling_edge",
                    )
                )
    return errors
