"""The hooks a plugin may implement: the one place their names are written.

Every hook returns an iterable of registration objects (or ``None``); the results of
all plugins are collected, and duplicate names are an error naming both plugins. Each
hook is documented in ``docs/plugin-guide.md``; a test fails when one is not.

:data:`HOOKS` (each hook and the registration type it returns) is read off the specs'
signatures, so adding a hook here is all the loader and the registry need.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import pluggy

from aisle.contracts.actions import ActionExecutor
from aisle.contracts.crm import CRMProvider
from aisle.contracts.nodes import NodeType
from aisle.contracts.registrations import Registration, RouteRegistration
from aisle.contracts.sources import EventSource
from aisle.contracts.triggers import TriggerType

__all__ = ["HOOKS", "PROJECT_NAME", "AisleSpecs", "hook_for", "hookimpl", "hookspec"]

PROJECT_NAME = "aisle"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class AisleSpecs:
    """Namespace of Aisle's hook specifications."""

    @hookspec
    def aisle_node_types(self) -> Iterable[NodeType] | None:  # type: ignore[empty-body]
        """Return the node types (kinds of step) this plugin provides.

        :return: :class:`~aisle.NodeType` objects; their names are global, so prefix
            third-party names (``checklist_item``, not ``item``).
        """

    @hookspec
    def aisle_trigger_types(self) -> Iterable[TriggerType] | None:  # type: ignore[empty-body]
        """Return the trigger types (kinds of edge) this plugin provides.

        :return: :class:`~aisle.TriggerType` objects, each naming the event types it
            listens to.
        """

    @hookspec
    def aisle_action_executors(self) -> Iterable[ActionExecutor] | None:  # type: ignore[empty-body]
        """Return the action executors this plugin provides.

        :return: :class:`~aisle.ActionExecutor` objects; an action node refers to one
            by name.
        """

    @hookspec
    def aisle_crm_providers(self) -> Iterable[CRMProvider] | None:  # type: ignore[empty-body]
        """Return the CRM providers this plugin provides.

        :return: :class:`~aisle.CRMProvider` objects with their declared capabilities.
        """

    @hookspec
    def aisle_event_sources(self) -> Iterable[EventSource] | None:  # type: ignore[empty-body]
        """Return the event sources (services posting signed webhooks) this plugin provides.

        :return: :class:`~aisle.EventSource` objects; each studio sets its secret and
            points the source at its inbound URL.
        """

    @hookspec
    def aisle_routes(self) -> Iterable[RouteRegistration] | None:  # type: ignore[empty-body]
        """Return HTTP route handlers to mount into the Litestar app.

        :return: :class:`~aisle.RouteRegistration` objects; the dashboard mounts itself
            this way.
        """


def _returned(spec: object) -> type[Registration]:
    # ``Iterable[X] | None`` -> X; anything else is a spec this module got wrong.
    hints = typing.get_type_hints(spec)
    for option in typing.get_args(hints["return"]):
        (kind,) = typing.get_args(option) or (None,)
        if isinstance(kind, type) and issubclass(kind, Registration):
            return kind
    raise TypeError(f"hook spec {spec!r} must return Iterable[<a Registration>] | None")


HOOKS: Mapping[str, type[Registration]] = MappingProxyType(
    {
        name: _returned(function)
        for name, function in inspect.getmembers(AisleSpecs, inspect.isfunction)
        if hasattr(function, f"{PROJECT_NAME}_spec")
    }
)
"""Each hook's name and the registration type its results must be."""


def hook_for(kind: type[Registration]) -> str:
    """The name of the hook returning ``kind`` registrations (or a subclass of them)."""
    for name, returned in HOOKS.items():
        if issubclass(kind, returned):
            return name
    raise LookupError(f"no hook returns {kind.__name__}")
