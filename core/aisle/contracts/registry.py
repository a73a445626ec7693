"""What the loaded plugins contribute, as the engine, the API and the workers read it.

The loader (:mod:`aisle.plugins.manager`) builds a :class:`Registry`; everything else
only reads one, so it lives here, below the engine that looks node and trigger types
up in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aisle.contracts.actions import ActionExecutor
from aisle.contracts.crm import CRMProvider
from aisle.contracts.hooks import hook_for
from aisle.contracts.nodes import NodeType
from aisle.contracts.registrations import Registration, RouteRegistration
from aisle.contracts.sources import EventSource
from aisle.contracts.triggers import TriggerType

__all__ = ["PluginInfo", "PluginLoadError", "Registry"]


@dataclass(frozen=True)
class PluginLoadError:
    """Why a plugin, or part of what it returned, was left out."""

    plugin: str
    distribution: str
    reason: str
    hook: str | None = None


@dataclass
class PluginInfo:
    """One loaded plugin: where it came from and what it registered, per hook."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    """Everything the loaded plugins contribute, by hook and name."""

    node_types: Mapping[str, NodeType]
    trigger_types: Mapping[str, TriggerType]
    action_executors: Mapping[str, ActionExecutor]
    crm_providers: Mapping[str, CRMProvider]
    event_sources: Mapping[str, EventSource]
    routes: tuple[RouteRegistration, ...]
    plugins: tuple[PluginInfo, ...]
    errors: tuple[PluginLoadError, ...]
    owners: Mapping[tuple[str, str], str]
    """(hook, name) → distribution that registered it."""

    def node_type(self, name: str) -> NodeType | None:
        return self.node_types.get(name)

    def trigger_type(self, name: str) -> TriggerType | None:
        return self.trigger_types.get(name)

    def owner(self, kind: type[Registration], name: str) -> str:
        """The distribution that registered the ``kind`` named ``name`` (else ``unknown``)."""
        return self.owners.get((hook_for(kind), name), "unknown")

    def as_json(self) -> dict[str, Any]:
        """The registry as ``aisle plugins --json`` prints it."""
        return {
            "plugins": [
                {
                    "name": p.name,
                    "distribution": p.distribution,
                    "version": p.version,
                    "hooks": p.hooks,
                    "registers": p.registered,
                }
                for p in self.plugins
            ],
            "errors": [
                {
                    "plugin": e.plugin,
                    "distribution": e.distribution,
                    "hook": e.hook,
                    "reason": e.reason,
                }
                for e in self.errors
            ],
        }
