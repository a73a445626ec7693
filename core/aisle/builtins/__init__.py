"""Aisle's built-in node and trigger types, registered like any plugin's."""

from __future__ import annotations

from collections.abc import Iterable

from aisle.builtins.nodes import NODE_TYPES
from aisle.builtins.triggers import TRIGGER_TYPES
from aisle.contracts.hooks import hookimpl
from aisle.contracts.nodes import NodeType
from aisle.contracts.triggers import TriggerType

__all__ = ["aisle_node_types", "aisle_trigger_types"]


@hookimpl
def aisle_node_types() -> Iterable[NodeType]:
    return NODE_TYPES


@hookimpl
def aisle_trigger_types() -> Iterable[TriggerType]:
    return TRIGGER_TYPES
