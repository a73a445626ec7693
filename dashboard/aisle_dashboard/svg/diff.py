"""What a version diff marks on the graph: the steps and edges added, changed or removed.

Positions and other canvas-only fields are left out: the drawing lays the graph out
itself, so moving a box on the canvas is no change here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aisle.canvas.graph_paths import diff_graphs
from aisle.domain.journey import Graph

__all__ = ["GraphDiff", "diff_view"]

_LAYOUT_ONLY = frozenset({"position", "ui"})


@dataclass(frozen=True)
class GraphDiff:
    """Ids of the steps and edges that differ between two versions."""

    added: frozenset[str] = frozenset()
    changed: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()

    def state(self, element_id: str) -> str | None:
        """``added``, ``changed``, ``removed`` or ``None`` for the element ``element_id``."""
        for name in ("added", "changed", "removed"):
            if element_id in getattr(self, name):
                return name
        return None


def diff_view(old: Graph, new: Graph) -> tuple[Graph, GraphDiff]:
    """The graph to draw for a diff from ``old`` to ``new`` and what to mark on it.

    The drawn graph is ``new`` plus what ``old`` had and ``new`` removed, so removed
    steps show where they were. Step and edge ids share one namespace in the result.
    """
    added: set[str] = set()
    changed: set[str] = set()
    removed: set[str] = set()
    for change in diff_graphs(old, new):
        if not change.prop:
            (added if change.old is None else removed).add(change.id)
        elif change.prop[0] not in _LAYOUT_ONLY:
            changed.add(change.id)
    kept_steps = {s.id for s in new.steps}
    kept_edges = {e.id for e in new.edges}
    steps = new.steps + tuple(s for s in old.steps if s.id not in kept_steps)
    edges = new.edges + tuple(e for e in old.edges if e.id not in kept_edges)
    union = Graph(steps=steps, edges=edges, settings=new.settings, viewport=new.viewport)
    return union, GraphDiff(
        added=frozenset(added), changed=frozenset(changed), removed=frozenset(removed)
    )
