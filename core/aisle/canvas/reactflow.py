"""The React Flow codec: :class:`~aisle.domain.Graph` ↔ ``ReactFlowJsonObject``.

The wire shape is exactly what ``@xyflow/react`` v12's ``toObject()`` returns:
``{nodes, edges, viewport}``, nodes and edges with React Flow's own field names. Aisle
interprets a node's ``id``, ``type``, ``position``, ``data.label`` and ``data.config``
and an edge's ``id``, ``source``, ``target``, handles, ``label`` and ``data.trigger`` /
``data.config`` / ``data.priority``; the other React Flow fields a canvas sets
(``width``, ``parentId``, ``style``, ``markerEnd``, …) and unknown keys inside
``data`` are kept in ``Step.ui`` / ``Edge.ui`` so they round-trip. Runtime-only fields
React Flow adds (``selected``, ``dragging``, ``measured``, ``resizing``, ``internals``)
and keys it does not define are accepted and dropped. Any optional field may be
``null`` (a client serialising its state as-is sends ``label: null``): ``null`` means
not set, as in React Flow, so it is not kept and a ``null`` label is an empty one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from aisle.domain.journey import Edge, Graph, Position, Step, Viewport
from aisle.services.errors import FieldError

__all__ = [
    "EDGE_UI_FIELDS",
    "NODE_UI_FIELDS",
    "READ_ONLY_EDGE_DATA",
    "READ_ONLY_NODE_DATA",
    "FlowDecodeError",
    "FlowDocument",
    "FlowEdge",
    "FlowNode",
    "FlowViewport",
    "XYPosition",
    "edge_from_flow",
    "edge_to_flow",
    "flow_to_graph",
    "graph_to_flow",
    "node_from_flow",
    "node_to_flow",
]

Coordinate = Annotated[float, Meta(ge=-1e9, le=1e9)]
ElementId = Annotated[str, Meta(min_length=1, max_length=200)]
HandlePosition = Literal["left", "top", "right", "bottom"]
Pair = Annotated[list[float], Meta(min_length=2, max_length=2)]
CoordinateExtent = Annotated[list[Pair], Meta(min_length=2, max_length=2)]

READ_ONLY_NODE_DATA = frozenset({"issues", "lock"})
"""``data`` keys the API adds to nodes on the way out and ignores on the way in."""
READ_ONLY_EDGE_DATA = frozenset({"issues"})
"""``data`` keys the API adds to edges on the way out and ignores on the way in."""


class XYPosition(msgspec.Struct, frozen=True):
    """React Flow's ``XYPosition``."""

    x: Coordinate
    y: Coordinate


class FlowViewport(msgspec.Struct, frozen=True):
    """React Flow's ``Viewport``: pan offset and zoom."""

    x: Coordinate = 0.0
    y: Coordinate = 0.0
    zoom: Annotated[float, Meta(gt=0, le=1000)] = 1.0


class FlowNode(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """React Flow's ``Node``: ``type`` is the Aisle node type name.

    ``data`` holds ``label`` and ``config`` (and, on the way out, read-only ``issues``
    and ``lock``); other ``data`` keys are the canvas's own and round-trip untouched.
    """

    id: ElementId
    position: XYPosition
    data: dict[str, Any]
    type: str | UnsetType | None = UNSET
    source_position: HandlePosition | UnsetType | None = UNSET
    target_position: HandlePosition | UnsetType | None = UNSET
    hidden: bool | UnsetType | None = UNSET
    draggable: bool | UnsetType | None = UNSET
    selectable: bool | UnsetType | None = UNSET
    connectable: bool | UnsetType | None = UNSET
    deletable: bool | UnsetType | None = UNSET
    focusable: bool | UnsetType | None = UNSET
    drag_handle: str | UnsetType | None = UNSET
    width: Annotated[float, Meta(ge=0, le=1e6)] | UnsetType | None = UNSET
    height: Annotated[float, Meta(ge=0, le=1e6)] | UnsetType | None = UNSET
    initial_width: Annotated[float, Meta(ge=0, le=1e6)] | UnsetType | None = UNSET
    initial_height: Annotated[float, Meta(ge=0, le=1e6)] | UnsetType | None = UNSET
    parent_id: str | UnsetType | None = UNSET
    z_index: int | UnsetType | None = UNSET
    extent: Literal["parent"] | CoordinateExtent | UnsetType | None = UNSET
    expand_parent: bool | UnsetType | None = UNSET
    aria_label: str | UnsetType | None = UNSET
    aria_role: str | UnsetType | None = UNSET
    origin: Pair | UnsetType | None = UNSET
    handles: list[dict[str, Any]] | UnsetType | None = UNSET
    style: dict[str, Any] | UnsetType | None = UNSET
    class_name: str | UnsetType | None = UNSET
    dom_attributes: dict[str, Any] | UnsetType | None = UNSET


class FlowEdge(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """React Flow's ``Edge``: ``data`` holds ``trigger``, ``config`` and ``priority``.

    ``type`` is the React Flow edge component; it defaults to the trigger type's name
    so a canvas can register one edge component per trigger type.
    """

    id: ElementId
    source: ElementId
    target: ElementId
    type: str | UnsetType | None = UNSET
    source_handle: str | UnsetType | None = UNSET
    target_handle: str | UnsetType | None = UNSET
    label: str | UnsetType | None = UNSET
    data: dict[str, Any] | UnsetType | None = UNSET
    animated: bool | UnsetType | None = UNSET
    hidden: bool | UnsetType | None = UNSET
    deletable: bool | UnsetType | None = UNSET
    selectable: bool | UnsetType | None = UNSET
    focusable: bool | UnsetType | None = UNSET
    reconnectable: bool | Literal["source", "target"] | UnsetType | None = UNSET
    marker_start: str | dict[str, Any] | UnsetType | None = UNSET
    marker_end: str | dict[str, Any] | UnsetType | None = UNSET
    z_index: int | UnsetType | None = UNSET
    aria_label: str | UnsetType | None = UNSET
    aria_role: str | UnsetType | None = UNSET
    interaction_width: float | UnsetType | None = UNSET
    label_style: dict[str, Any] | UnsetType | None = UNSET
    label_show_bg: bool | UnsetType | None = UNSET
    label_bg_style: dict[str, Any] | UnsetType | None = UNSET
    label_bg_padding: Pair | UnsetType | None = UNSET
    label_bg_border_radius: float | UnsetType | None = UNSET
    style: dict[str, Any] | UnsetType | None = UNSET
    class_name: str | UnsetType | None = UNSET
    path_options: dict[str, Any] | UnsetType | None = UNSET
    dom_attributes: dict[str, Any] | UnsetType | None = UNSET


class FlowDocument(msgspec.Struct, kw_only=True):
    """React Flow's ``ReactFlowJsonObject``: what ``toObject()`` returns."""

    nodes: list[FlowNode]
    edges: list[FlowEdge]
    viewport: FlowViewport = FlowViewport()


def _ui_fields(struct: type[msgspec.Struct], interpreted: set[str]) -> dict[str, str]:
    # wire name → attribute name, for every field Aisle keeps but does not interpret
    return {
        f.encode_name: f.name
        for f in msgspec.structs.fields(struct)
        if f.encode_name not in interpreted
    }


NODE_UI_FIELDS = _ui_fields(FlowNode, {"id", "position", "data", "type"})
"""React Flow node fields kept verbatim in ``Step.ui`` (wire name → attribute)."""
EDGE_UI_FIELDS = _ui_fields(
    FlowEdge, {"id", "source", "target", "sourceHandle", "targetHandle", "label", "data"}
)
"""React Flow edge fields kept verbatim in ``Edge.ui`` (``type`` only when it is not
the trigger type's name)."""


class FlowDecodeError(ValueError):
    """A flow document that cannot become a graph; ``errors`` name each field at fault."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class _NodeData(msgspec.Struct):
    label: str = ""
    config: dict[str, Any] = {}


class _EdgeData(msgspec.Struct):
    trigger: str | None = None
    config: dict[str, Any] = {}
    priority: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)] = 0


def _convert_data(
    raw: Mapping[str, Any], kind: type[Any], where: str, errors: list[FieldError], **ids: str
) -> Any:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        field = f"{where}.data{path.rstrip('`')}"
        errors.append(FieldError(message=message, field=field, **ids))
        return kind()


def _ui_of(
    item: msgspec.Struct,
    fields: Mapping[str, str],
    data: Mapping[str, Any],
    interpreted: type[msgspec.Struct],
    read_only: Collection[str],
) -> dict[str, Any]:
    """What Aisle keeps verbatim: the React Flow fields it does not interpret, and the
    canvas's own ``data`` keys (not Aisle's, nor the read-only ones it adds)."""
    ui: dict[str, Any] = {}
    for wire, attr in fields.items():
        value = getattr(item, attr)
        # React Flow reads null as "not set", and so does Aisle: nothing to keep.
        if value is not UNSET and value is not None:
            ui[wire] = msgspec.to_builtins(value)
    own = {
        k: v
        for k, v in data.items()
        if k not in interpreted.__struct_fields__ and k not in read_only
    }
    if own:
        ui["data"] = own
    return ui


def node_from_flow(
    node: FlowNode, where: str = "node", errors: list[FieldError] | None = None
) -> Step:
    """One React Flow node → a :class:`Step` (raises :class:`FlowDecodeError`)."""
    own = errors if errors is not None else []
    if node.type is UNSET or not node.type:
        own.append(
            FieldError(
                message="a node needs a type (the Aisle node type name)",
                field=f"{where}.type",
                node_id=node.id,
            )
        )
    data: _NodeData = _convert_data(node.data, _NodeData, where, own, node_id=node.id)
    ui = _ui_of(node, NODE_UI_FIELDS, node.data, _NodeData, READ_ONLY_NODE_DATA)
    if errors is None and own:
        raise FlowDecodeError(own)
    return Step(
        id=node.id,
        type=node.type if isinstance(node.type, str) else "",
        position=Position(node.position.x, node.position.y),
        label=data.label,
        config=data.config,
        ui=ui,
    )


def edge_from_flow(
    edge: FlowEdge,
    where: str = "edge",
    errors: list[FieldError] | None = None,
    *,
    trigger_names: frozenset[str] | None = None,
) -> Edge:
    """One React Flow edge → an :class:`Edge` (raises :class:`FlowDecodeError`).

    The trigger type comes from ``data.trigger``; failing that from ``type`` when it
    names a registered trigger type; failing that it is ``immediate``.
    """
    own = errors if errors is not None else []
    raw = edge.data if isinstance(edge.data, dict) else {}
    data: _EdgeData = _convert_data(raw, _EdgeData, where, own, edge_id=edge.id)
    ui = _ui_of(edge, EDGE_UI_FIELDS, raw, _EdgeData, READ_ONLY_EDGE_DATA)
    trigger = data.trigger
    if (
        trigger is None
        and isinstance(edge.type, str)
        and (trigger_names is None or edge.type in trigger_names)
    ):
        trigger = edge.type
    trigger = trigger or "immediate"
    if ui.get("type") == trigger:
        del ui["type"]  # derived on the way out
    if errors is None and own:
        raise FlowDecodeError(own)
    return Edge(
        id=edge.id,
        source=edge.source,
        target=edge.target,
        trigger=trigger,
        config=data.config,
        source_handle=None if edge.source_handle is UNSET else edge.source_handle,
        target_handle=None if edge.target_handle is UNSET else edge.target_handle,
        priority=data.priority,
        label=edge.label if isinstance(edge.label, str) else "",
        ui=ui,
    )


def flow_to_graph(
    document: FlowDocument,
    *,
    settings: Graph | None = None,
    trigger_names: frozenset[str] | None = None,
) -> Graph:
    """A whole ``ReactFlowJsonObject`` → a :class:`Graph`.

    Journey settings are not part of React Flow's object; they are taken from
    ``settings`` (the stored draft) unchanged.
    """
    errors: list[FieldError] = []
    steps = tuple(
        node_from_flow(node, f"nodes[{i}]", errors) for i, node in enumerate(document.nodes)
    )
    edges = tuple(
        edge_from_flow(edge, f"edges[{i}]", errors, trigger_names=trigger_names)
        for i, edge in enumerate(document.edges)
    )
    if errors:
        raise FlowDecodeError(errors)
    base = settings if settings is not None else Graph()
    vp = document.viewport
    return Graph(
        steps=steps,
        edges=edges,
        settings=base.settings,
        viewport=Viewport(vp.x, vp.y, vp.zoom),
    )


def _flow_data(
    ui: Mapping[str, Any], own: Mapping[str, Any], extras: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``data`` as the canvas sees it: its own keys (kept in ``ui``), then Aisle's, then
    the read-only extras."""
    return {**(ui.get("data") or {}), **own, **(extras or {})}


def _restore_ui(item: msgspec.Struct, ui: Mapping[str, Any], fields: Mapping[str, str]) -> None:
    """Put back the React Flow fields :func:`_ui_of` kept (the inverse)."""
    for wire, value in ui.items():
        attr = fields.get(wire)
        if attr is not None:
            setattr(item, attr, value)


def node_to_flow(step: Step, extras: Mapping[str, Any] | None = None) -> FlowNode:
    """A :class:`Step` → a React Flow node; ``extras`` adds read-only ``data`` keys."""
    node = FlowNode(
        id=step.id,
        type=step.type,
        position=XYPosition(step.position.x, step.position.y),
        data=_flow_data(step.ui, {"label": step.label, "config": step.config}, extras),
    )
    _restore_ui(node, step.ui, NODE_UI_FIELDS)
    return node


def edge_to_flow(edge: Edge, extras: Mapping[str, Any] | None = None) -> FlowEdge:
    """An :class:`Edge` → a React Flow edge; ``extras`` adds read-only ``data`` keys."""
    own = {"trigger": edge.trigger, "config": edge.config, "priority": edge.priority}
    flow = FlowEdge(
        id=edge.id,
        source=edge.source,
        target=edge.target,
        type=edge.trigger,
        source_handle=edge.source_handle,
        target_handle=edge.target_handle,
        label=edge.label,
        data=_flow_data(edge.ui, own, extras),
    )
    _restore_ui(flow, edge.ui, EDGE_UI_FIELDS)
    return flow


def graph_to_flow(
    graph: Graph,
    *,
    node_extras: Mapping[str, Mapping[str, Any]] | None = None,
    edge_extras: Mapping[str, Mapping[str, Any]] | None = None,
) -> FlowDocument:
    """A :class:`Graph` → ``ReactFlowJsonObject``; extras are keyed by node/edge id."""
    node_extras = node_extras or {}
    edge_extras = edge_extras or {}
    return FlowDocument(
        nodes=[node_to_flow(s, node_extras.get(s.id)) for s in graph.steps],
        edges=[edge_to_flow(e, edge_extras.get(e.id)) for e in graph.edges],
        viewport=FlowViewport(graph.viewport.x, graph.viewport.y, graph.viewport.zoom),
    )
