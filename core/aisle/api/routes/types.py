"""The type registry for canvases: every node and trigger type with its form schema."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, get

from aisle.api.deps import Call
from aisle.contracts.nodes import NodeType
from aisle.contracts.triggers import TriggerType

__all__ = ["TypeRegistryController", "node_type_out", "trigger_type_out"]


class HandleOut(msgspec.Struct, kw_only=True):
    """A connection point: ``id`` is the React Flow handle id (``null``: the default)."""

    type: Literal["source", "target"]
    id: str | None
    label: str


class NodeTypeOut(msgspec.Struct, kw_only=True):
    name: str
    label: str
    description: str
    icon: str
    category: str
    handles: list[HandleOut]
    dynamic_handles: bool
    """Outgoing edges may bring handles of their own (a decision's branches)."""
    terminal: bool
    context_fields: list[str]
    config_schema: dict[str, Any]
    """JSON Schema of ``data.config``, for an edit form."""
    distribution: str


class TriggerTypeOut(msgspec.Struct, kw_only=True):
    name: str
    label: str
    description: str
    icon: str
    event_types: list[str]
    time_based: bool
    config_schema: dict[str, Any]
    """JSON Schema of ``data.config`` on an edge of this type."""
    distribution: str


class NodeTypeList(msgspec.Struct, kw_only=True):
    items: list[NodeTypeOut]


class TriggerTypeList(msgspec.Struct, kw_only=True):
    items: list[TriggerTypeOut]


def _schema(config: type[msgspec.Struct]) -> dict[str, Any]:
    schema: dict[str, Any] = msgspec.json.schema(config)
    return schema


def _handles(node_type: NodeType) -> list[HandleOut]:
    handles = [HandleOut(type="target", id=None, label="in")]
    if node_type.terminal:
        return handles
    if node_type.handles:
        handles += [
            HandleOut(type="source", id=h, label=h.replace("_", " ")) for h in node_type.handles
        ]
    if not node_type.handles or node_type.dynamic_handles:
        handles.append(HandleOut(type="source", id=None, label="out"))
    return handles


def node_type_out(node_type: NodeType, distribution: str) -> NodeTypeOut:
    return NodeTypeOut(
        name=node_type.name,
        label=node_type.label or node_type.name,
        description=node_type.description,
        icon=node_type.icon,
        category=node_type.category,
        handles=_handles(node_type),
        dynamic_handles=node_type.dynamic_handles,
        terminal=node_type.terminal,
        context_fields=list(node_type.context_fields),
        config_schema=_schema(node_type.config),
        distribution=distribution,
    )


def trigger_type_out(trigger: TriggerType, distribution: str) -> TriggerTypeOut:
    return TriggerTypeOut(
        name=trigger.name,
        label=trigger.label or trigger.name,
        description=trigger.description,
        icon=trigger.icon,
        event_types=sorted(trigger.event_types),
        time_based=trigger.time_based,
        config_schema=_schema(trigger.config),
        distribution=distribution,
    )


class TypeRegistryController(Controller):
    path = "/"
    tags = ["types"]

    @get("/node-types", summary="Every registered node type (built-ins and plugins)")
    async def node_types(self, call: Call) -> NodeTypeList:
        registry = call.registry
        return NodeTypeList(
            items=[
                node_type_out(t, registry.owner(NodeType, name))
                for name, t in sorted(registry.node_types.items())
            ]
        )

    @get("/trigger-types", summary="Every registered trigger (edge) type")
    async def trigger_types(self, call: Call) -> TriggerTypeList:
        registry = call.registry
        return TriggerTypeList(
            items=[
                trigger_type_out(t, registry.owner(TriggerType, name))
                for name, t in sorted(registry.trigger_types.items())
            ]
        )
