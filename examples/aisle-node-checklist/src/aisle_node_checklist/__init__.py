"""aisle-node-checklist: a checklist step and the trigger that moves on once it is ticked.

A third-party Aisle plugin, packaged as any author's would be: this module is the
``aisle`` entry point, and its hook implementations return the registrations.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import NodeType, TriggerType, hookimpl
from aisle_node_checklist.node import CHECKLIST, ChecklistConfig
from aisle_node_checklist.trigger import CHECKLIST_TICKED, TICKED, ChecklistTickedConfig

__all__ = [
    "CHECKLIST",
    "CHECKLIST_TICKED",
    "TICKED",
    "ChecklistConfig",
    "ChecklistTickedConfig",
    "aisle_node_types",
    "aisle_trigger_types",
]


@hookimpl
def aisle_node_types() -> Iterable[NodeType]:
    return [CHECKLIST]


@hookimpl
def aisle_trigger_types() -> Iterable[TriggerType]:
    return [CHECKLIST_TICKED]
