"""The hooks a plugin may implement.

Every hook returns an iterable of registration objects (or ``None``); the results of
all plugins are collected, and duplicate names are an error naming both plugins. Each
hook is documented in ``docs/plugin-guide.md``; a test fails when one is not.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from aisle.plugins.registrations import (
    ActionExecutor,
    CRMProvider,
    NodeType,
    RouteRegistration,
    TriggerType,
)

__all__ = ["PROJECT_NAME", "AisleSpecs", "hookimpl", "hookspec"]

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
    def aisle_routes(self) -> Iterable[RouteRegistration] | None:  # type: ignore[empty-body]
        """Return HTTP route handlers to mount into the Litestar app.

        :return: :class:`~aisle.RouteRegistration` objects; the dashboard mounts itself
            this way.
        """
