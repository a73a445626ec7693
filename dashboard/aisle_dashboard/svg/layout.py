"""A layered (Sugiyama-style) layout of a directed graph, computed in pure Python.

The steps: break cycles by reversing the back edges a depth-first search finds; rank
by longest path; split every edge into one-rank segments through placeholder points
(the first carries the edge's label, so labels take room like nodes and never sit on
each other); order each rank by barycentre sweeps, keeping the order with the fewest
crossings; then give each item an x as close to the mean of its neighbours as the
rank's order and spacing allow (isotonic regression, so nothing overlaps).

Everything is deterministic: ties break on the order the caller gave, so a layout is
kept per input (:data:`CACHED_LAYOUTS` of them): a journey's page and its 5-second
refresh redraw the same graph with new counts, and laying out 50 steps is most of the
drawing's time.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["CACHED_LAYOUTS", "EdgeSpec", "Item", "Layout", "Route", "layered_layout"]

CACHED_LAYOUTS = 128
"""Layouts kept, least recently used dropped first (each a few hundred small objects)."""

SWEEPS = 12
"""Barycentre passes (down then up) over the ranks; the best order seen is kept."""
PLACEMENT_PASSES = 6
"""Alternating up/down passes pulling each item towards its neighbours."""


@dataclass(frozen=True)
class EdgeSpec:
    """An edge to lay out, with the size its label needs (zero: no label)."""

    id: str
    source: str
    target: str
    label_width: float = 0.0
    label_height: float = 0.0


@dataclass
class Item:
    """A box in one rank: a node, an edge's label holder, or a bend of a long edge."""

    key: str
    width: float
    height: float
    rank: int = 0
    order: int = 0
    x: float = 0.0
    """Centre."""
    y: float = 0.0
    """Centre."""
    up: list[Item] = field(default_factory=list)
    down: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """Where an edge goes: from its source's box to its target's, through ``points``.

    ``reversed`` edges close a cycle and run upwards; ``label`` is the centre of its
    label holder (``None`` for a self-loop, which the caller draws beside its node).
    """

    edge: EdgeSpec
    points: tuple[tuple[float, float], ...]
    label: tuple[float, float] | None
    reversed: bool


@dataclass(frozen=True)
class Layout:
    """Node centres and sizes, edge routes and the drawing's size."""

    nodes: Mapping[str, Item]
    routes: Sequence[Route]
    width: float
    height: float


def _break_cycles(nodes: Sequence[str], edges: Sequence[EdgeSpec], first: str | None) -> set[str]:
    """Ids of the edges to reverse so the rest is acyclic (the DFS's back edges)."""
    outgoing: dict[str, list[EdgeSpec]] = {n: [] for n in nodes}
    for edge in edges:
        if edge.source != edge.target:
            outgoing[edge.source].append(edge)
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    back: set[str] = set()
    roots = ([first] if first in outgoing else []) + list(nodes)
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(outgoing[node]):
                stack[-1] = (node, i + 1)
                edge = outgoing[node][i]
                seen = state.get(edge.target)
                if seen == 1:
                    back.add(edge.id)
                elif seen is None:
                    state[edge.target] = 1
                    stack.append((edge.target, 0))
            else:
                state[node] = 2
                stack.pop()
    return back


def _ranks(nodes: Sequence[str], arcs: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources, in a topological order (Kahn's)."""
    indegree = dict.fromkeys(nodes, 0)
    after: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in arcs:
        after[source].append(target)
        indegree[target] += 1
    rank = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    i = 0
    while i < len(ready):
        node = ready[i]
        i += 1
        for target in after[node]:
            rank[target] = max(rank[target], rank[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return rank


def _crossings(upper: list[Item], lower_index: Mapping[int, int]) -> int:
    """Crossings between two adjacent ranks (pairs of segments whose ends swap order)."""
    ends = sorted((item.order, lower_index[id(below)]) for item in upper for below in item.down)
    count = 0
    tail: list[int] = []
    for _, low in ends:
        # Segments so far ending right of this one cross it.
        count += sum(1 for t in tail if t > low)
        tail.append(low)
    return count


def _total_crossings(layers: list[list[Item]]) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        total += _crossings(upper, {id(item): item.order for item in lower})
    return total


def _sweep(layers: list[list[Item]], downward: bool) -> None:
    indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
    for r in indices:
        layer = layers[r]

        def barycentre(item: Item) -> float:
            neighbours = item.up if downward else item.down
            if not neighbours:
                return float(item.order)
            return sum(n.order for n in neighbours) / len(neighbours)

        layer.sort(key=lambda item: (barycentre(item), item.order))
        for i, item in enumerate(layer):
            item.order = i


def _order(layers: list[list[Item]]) -> None:
    best = [[item.key for item in layer] for layer in layers]
    best_count = _total_crossings(layers)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        _sweep(layers, downward=sweep % 2 == 0)
        count = _total_crossings(layers)
        if count < best_count:
            best_count = count
            best = [[item.key for item in layer] for layer in layers]
    for layer, keys in zip(layers, best, strict=True):
        position = {key: i for i, key in enumerate(keys)}
        layer.sort(key=lambda item: position[item.key])
        for i, item in enumerate(layer):
            item.order = i


def _fit(desired: list[float], gaps: list[float]) -> list[float]:
    """Positions closest (least squares) to ``desired`` with ``x[i+1] - x[i] >= gaps[i]``.

    Shifting by the cumulative gaps turns it into isotonic regression, solved by pool
    adjacent violators.
    """
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [sum, count]
    for d, offset in zip(desired, offsets, strict=True):
        blocks.append([d - offset, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    shifted: list[float] = []
    for total, count in blocks:
        shifted.extend([total / count] * int(count))
    return [s + offset for s, offset in zip(shifted, offsets, strict=True)]


def _place(layers: list[list[Item]], gap: float) -> None:
    for layer in layers:
        x = 0.0
        for i, item in enumerate(layer):
            if i:
                x += (layer[i - 1].width + item.width) / 2 + gap
            item.x = x
    for p in range(PLACEMENT_PASSES):
        downward = p % 2 == 0
        indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for r in indices:
            layer = layers[r]
            desired = []
            for item in layer:
                neighbours = (item.up if downward else item.down) or (
                    item.down if downward else item.up
                )
                desired.append(
                    sum(n.x for n in neighbours) / len(neighbours) if neighbours else item.x
                )
            gaps = [(a.width + b.width) / 2 + gap for a, b in itertools.pairwise(layer)]
            for item, x in zip(layer, _fit(desired, gaps), strict=True):
                item.x = x


def layered_layout(
    nodes: Sequence[tuple[str, float, float]],
    edges: Sequence[EdgeSpec],
    *,
    first: str | None = None,
    gap: float = 32.0,
    rank_gap: float = 28.0,
    margin: float = 24.0,
) -> Layout:
    """Lay out ``nodes`` (id, width, height) and ``edges`` top to bottom.

    ``first`` (the start step) is searched first when breaking cycles, so the edges
    leading back towards it are the ones drawn upwards. Edges naming an unknown node
    are left out. The same input gives the same (shared) layout: read it, never change it.
    """
    return _cached_layout(tuple(nodes), tuple(edges), first, gap, rank_gap, margin)


@functools.lru_cache(maxsize=CACHED_LAYOUTS)
def _cached_layout(
    nodes: tuple[tuple[str, float, float], ...],
    given: tuple[EdgeSpec, ...],
    first: str | None,
    gap: float,
    rank_gap: float,
    margin: float,
) -> Layout:
    ids = [n for n, _, _ in nodes]
    known = set(ids)
    edges = [e for e in given if e.source in known and e.target in known]
    back = _break_cycles(ids, edges, first)
    arcs = [
        (e.target, e.source) if e.id in back else (e.source, e.target)
        for e in edges
        if e.source != e.target
    ]
    node_rank = _ranks(ids, arcs)
    items: dict[str, Item] = {
        n: Item(key=f"n:{n}", width=w, height=h, rank=2 * node_rank[n]) for n, w, h in nodes
    }
    rank_count = 2 * max(node_rank.values(), default=0) + 1
    layers: list[list[Item]] = [[] for _ in range(rank_count)]
    for n in ids:
        layers[items[n].rank].append(items[n])
    chains: dict[str, list[Item]] = {}
    for edge in edges:
        if edge.source == edge.target:
            continue
        reverse = edge.id in back
        top, bottom = (edge.target, edge.source) if reverse else (edge.source, edge.target)
        chain = [items[top]]
        for r in range(items[top].rank + 1, items[bottom].rank):
            holder = r == items[top].rank + 1
            dummy = Item(
                key=f"e:{edge.id}:{r}",
                width=edge.label_width if holder and edge.label_width else 2.0,
                height=edge.label_height if holder else 0.0,
                rank=r,
            )
            layers[r].append(dummy)
            chain.append(dummy)
        chain.append(items[bottom])
        for a, b in itertools.pairwise(chain):
            a.down.append(b)
            b.up.append(a)
        chains[edge.id] = chain
    for layer in layers:
        for i, item in enumerate(layer):
            item.order = i
    _order(layers)
    _place(layers, gap)
    left = min((item.x - item.width / 2 for layer in layers for item in layer), default=0.0)
    right = max((item.x + item.width / 2 for layer in layers for item in layer), default=0.0)
    y = margin
    for layer in layers:
        height = max((item.height for item in layer), default=0.0)
        for item in layer:
            item.x += margin - left
            item.y = y + height / 2
        y += height + rank_gap
    routes = []
    for edge in edges:
        if edge.source == edge.target:
            routes.append(Route(edge=edge, points=(), label=None, reversed=False))
            continue
        chain = chains[edge.id]
        reverse = edge.id in back
        inner = [(item.x, item.y) for item in chain[1:-1]]
        label = inner[0] if inner else None
        if reverse:
            inner.reverse()
        routes.append(Route(edge=edge, points=tuple(inner), label=label, reversed=reverse))
    return Layout(
        nodes=items,
        routes=routes,
        width=right - left + 2 * margin,
        height=max(y - rank_gap + margin, 2 * margin),
    )
