"""Builders shared by the API tests: a small photography journey as React Flow JSON."""

from __future__ import annotations

from typing import Any


def node(node_id: str, type_: str, x: float = 0, y: float = 0, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "position": {"x": x, "y": y}, "data": data}


def edge(
    edge_id: str, source: str, target: str, trigger: str = "immediate", **config: Any
) -> dict[str, Any]:
    return {
        "id": edge_id,
        "source": source,
        "target": target,
        "sourceHandle": None,
        "targetHandle": None,
        "data": {"trigger": trigger, "config": config},
    }


def small_flow() -> dict[str, Any]:
    return {
        "nodes": [
            node(
                "brochure",
                "email",
                0,
                0,
                label="Send brochure",
                config={
                    "to": "couple",
                    "subject": "Our brochure",
                    "text": "Hello {{ contact.names }}",
                },
            ),
            node("wait", "wait", 250, 0, label="Three days"),
            node("done", "end", 500, 0, label="Done"),
        ],
        "edges": [
            edge("e1", "brochure", "wait"),
            edge("e2", "wait", "done", "time_delay", days=3),
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


def big_flow(n: int) -> dict[str, Any]:
    """A chain of ``n`` wait steps (a canvas-sized graph for limits and benchmarks)."""
    nodes = [node(f"n{i}", "wait", i * 200, (i % 7) * 90, label=f"Step {i}") for i in range(n)]
    edges = [edge(f"e{i}", f"n{i}", f"n{i + 1}", "time_delay", days=1) for i in range(n - 1)]
    return {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}
