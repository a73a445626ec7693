"""A graph as a flat map of property paths: what the ops merge and version diffs compare.

A node or edge is broken into properties (``label``, ``position``, ``config/<key>``,
``data/<key>`` for the canvas's own ``data`` keys, ``ui/<key>`` for other React Flow
fields, …). Paths are shown as JSON Pointers (RFC 6901): ``/nodes/n1/config/subject``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import msgspec

from aisle.domain.journey import Edge, Graph, Position, Step

__all__ = [
    "Change",
    "ElementKind",
    "Prop",
    "diff_graphs",
    "edge_from_props",
    "edge_props",
    "pointer",
    "step_from_props",
    "step_props",
]

ElementKind = Literal["nodes", "edges"]
Prop = tuple[str, ...]
"""A property of one node or edge: ``("label",)``, ``("config", "subject")``."""


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One property (or a whole element, when ``prop`` is empty) changed.

    ``old``/``new`` are JSON values; ``None`` with ``prop == ()`` means the element did
    not exist (added) or no longer exists (removed).
    """

    kind: ElementKind
    id: str
    prop: Prop = ()
    old: Any = None
    new: Any = None
    revision: int = 0

    @property
    def path(self) -> str:
        return pointer(self.kind, self.id, self.prop)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def pointer(kind: str, element_id: str, prop: Prop = ()) -> str:
    """The JSON Pointer of an element or one of its properties."""
    return "/" + "/".join(_escape(p) for p in (kind, element_id, *prop))


def _maps(prefix: str, values: Mapping[str, Any]) -> Iterator[tuple[Prop, Any]]:
    for key, value in values.items():
        yield (prefix, key), value


def _map_props(config: Mapping[str, Any], ui: Mapping[str, Any]) -> Iterator[tuple[Prop, Any]]:
    """``config/<key>``, ``data/<key>`` (the canvas's own ``data``) and ``ui/<key>``."""
    yield from _maps("config", config)
    yield from _maps("data", ui.get("data") or {})
    yield from _maps("ui", {k: v for k, v in ui.items() if k != "data"})


def _maps_of(props: Mapping[Prop, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inverse of :func:`_map_props`: ``config`` and ``ui`` (with ``data`` in it)."""
    config: dict[str, Any] = {}
    data: dict[str, Any] = {}
    ui: dict[str, Any] = {}
    for prop, value in props.items():
        if len(prop) == 2:
            {"config": config, "data": data, "ui": ui}[prop[0]][prop[1]] = value
    if data:
        ui["data"] = data
    return config, ui


def step_props(step: Step) -> dict[Prop, Any]:
    """The properties of a step, as JSON values."""
    props: dict[Prop, Any] = {
        ("type",): step.type,
        ("label",): step.label,
        ("position",): {"x": step.position.x, "y": step.position.y},
    }
    props.update(_map_props(step.config, step.ui))
    return props


def step_from_props(step_id: str, props: Mapping[Prop, Any]) -> Step:
    """The inverse of :func:`step_props`."""
    config, ui = _maps_of(props)
    position = props.get(("position",)) or {"x": 0.0, "y": 0.0}
    return Step(
        id=step_id,
        type=str(props.get(("type",), "")),
        label=str(props.get(("label",), "")),
        position=Position(float(position["x"]), float(position["y"])),
        config=config,
        ui=ui,
    )


def edge_props(edge: Edge) -> dict[Prop, Any]:
    """The properties of an edge, as JSON values."""
    props: dict[Prop, Any] = {
        ("source",): edge.source,
        ("target",): edge.target,
        ("sourceHandle",): edge.source_handle,
        ("targetHandle",): edge.target_handle,
        ("trigger",): edge.trigger,
        ("priority",): edge.priority,
        ("label",): edge.label,
    }
    props.update(_map_props(edge.config, edge.ui))
    return props


def edge_from_props(edge_id: str, props: Mapping[Prop, Any]) -> Edge:
    """The inverse of :func:`edge_props`."""
    config, ui = _maps_of(props)
    return Edge(
        id=edge_id,
        source=str(props[("source",)]),
        target=str(props[("target",)]),
        source_handle=props.get(("sourceHandle",)),
        target_handle=props.get(("targetHandle",)),
        trigger=str(props.get(("trigger",), "immediate")),
        priority=int(props.get(("priority",), 0)),
        label=str(props.get(("label",), "")),
        config=config,
        ui=ui,
    )


def _diff_kind(
    kind: ElementKind,
    old: Mapping[str, Step] | Mapping[str, Edge],
    new: Mapping[str, Step] | Mapping[str, Edge],
    props_of: Any,
) -> list[Change]:
    changes: list[Change] = []
    for element_id, item in old.items():
        if element_id not in new:
            changes.append(Change(kind=kind, id=element_id, old=msgspec.to_builtins(item)))
    for element_id, item in new.items():
        before = old.get(element_id)
        if before is None:
            changes.append(Change(kind=kind, id=element_id, new=msgspec.to_builtins(item)))
            continue
        if before == item:
            continue
        old_props, new_props = props_of(before), props_of(item)
        for prop in sorted(old_props.keys() | new_props.keys()):
            a, b = old_props.get(prop), new_props.get(prop)
            if a != b or (prop in old_props) != (prop in new_props):
                changes.append(Change(kind=kind, id=element_id, prop=prop, old=a, new=b))
    return changes


def diff_graphs(old: Graph, new: Graph) -> list[Change]:
    """Every element added or removed and every property changed from ``old`` to ``new``."""
    return _diff_kind(
        "nodes", {s.id: s for s in old.steps}, {s.id: s for s in new.steps}, step_props
    ) + _diff_kind("edges", {e.id: e for e in old.edges}, {e.id: e for e in new.edges}, edge_props)
