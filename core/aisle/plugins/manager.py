"""Loading plugins: built-ins first, then the ``aisle`` entry-point group, fail-soft.

A plugin that fails to import, raises in a hook or returns something that is not a
registration is reported (plugin, distribution, reason) and left out; the others load.
The result is a :class:`Registry`, an immutable snapshot the engine, API and workers
read from.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import pluggy

from aisle import builtins
from aisle.contracts.actions import ActionExecutor
from aisle.contracts.crm import CRMProvider
from aisle.contracts.hooks import HOOKS, PROJECT_NAME, AisleSpecs, hook_for
from aisle.contracts.nodes import NodeType
from aisle.contracts.registrations import Registration, RouteRegistration
from aisle.contracts.registry import PluginInfo, PluginLoadError, Registry
from aisle.contracts.sources import EventSource
from aisle.contracts.triggers import TriggerType

__all__ = ["BUILTIN_DISTRIBUTION", "load_registry"]

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Registration)

BUILTIN_DISTRIBUTION = "aisle-journeys"


@dataclass(frozen=True)
class _Entry(Generic[R]):
    item: R
    plugin: str
    distribution: str


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _Loader:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(AisleSpecs)
        self.errors: list[PluginLoadError] = []
        self.sources: dict[str, tuple[str, str]] = {}  # plugin name → (distribution, version)

    def register(self, plugin: object, name: str, distribution: str, version: str) -> None:
        try:
            self.pm.register(plugin, name=name)
            unknown = sorted(
                caller.name
                for caller in self.pm.get_hookcallers(plugin) or ()
                if not caller.has_spec()
            )
            if unknown:
                self.pm.unregister(plugin)
                raise pluggy.PluginValidationError(
                    plugin, f"unknown hook(s) {', '.join(unknown)}; known: {', '.join(HOOKS)}"
                )
        except Exception as exc:  # a spec violation (unknown hook, bad signature)
            self.errors.append(PluginLoadError(name, distribution, _describe(exc)))
            log.error("plugin %s (%s) rejected: %s", name, distribution, exc)
            return
        self.sources[name] = (distribution, version)

    def load_entry_points(self, only: set[str] | None, disabled: set[str]) -> None:
        for ep in sorted(importlib.metadata.entry_points(group=PROJECT_NAME), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            if ep.name in disabled or (only is not None and ep.name not in only):
                continue
            if self.pm.has_plugin(ep.name):
                self.errors.append(
                    PluginLoadError(
                        ep.name,
                        dist,
                        f"plugin name {ep.name!r} is already taken by {self.sources[ep.name][0]}",
                    )
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self.errors.append(PluginLoadError(ep.name, dist, _describe(exc)))
                log.error("plugin %s (%s) failed to load: %s", ep.name, dist, exc)
                continue
            self.register(plugin, ep.name, dist, version)

    def collect(self) -> Registry:
        infos: dict[str, PluginInfo] = {}
        for name, (dist, version) in self.sources.items():
            plugin = self.pm.get_plugin(name)
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            infos[name] = PluginInfo(name, dist, version, hooks)
        tables: dict[str, dict[str, _Entry[Any]]] = {hook: {} for hook in HOOKS}
        routes: list[RouteRegistration] = []
        for hook, kind in HOOKS.items():
            caller = getattr(self.pm.hook, hook)
            # get_hookimpls() is in registration order, so built-ins come first.
            for impl in caller.get_hookimpls():
                self._collect_one(impl, hook, kind, tables[hook], routes, infos)
        owners = {
            (hook, name): entry.distribution
            for hook, table in tables.items()
            for name, entry in table.items()
        }

        def frozen(kind: type[Registration]) -> Mapping[str, Any]:
            return MappingProxyType({n: e.item for n, e in tables[hook_for(kind)].items()})

        return Registry(
            node_types=frozen(NodeType),
            trigger_types=frozen(TriggerType),
            action_executors=frozen(ActionExecutor),
            crm_providers=frozen(CRMProvider),
            event_sources=frozen(EventSource),
            routes=tuple(routes),
            plugins=tuple(infos.values()),
            errors=tuple(self.errors),
            owners=MappingProxyType(owners),
        )

    def _collect_one(
        self,
        impl: pluggy.HookImpl,
        hook: str,
        kind: type[Registration],
        table: dict[str, _Entry[Any]],
        routes: list[RouteRegistration],
        infos: dict[str, PluginInfo],
    ) -> None:
        name = impl.plugin_name
        dist = self.sources.get(name, ("unknown", ""))[0]
        try:
            result: Any = impl.function()
            items = list(result) if result is not None else []
        except Exception as exc:
            self.errors.append(PluginLoadError(name, dist, _describe(exc), hook))
            log.error("plugin %s (%s) failed in %s: %s", name, dist, hook, exc)
            return
        accepted: list[str] = []
        for item in items:
            if not isinstance(item, kind):
                self.errors.append(
                    PluginLoadError(
                        name,
                        dist,
                        f"{hook} returned {type(item).__name__}, expected {kind.__name__}",
                        hook,
                    )
                )
                continue
            if isinstance(item, RouteRegistration):
                routes.append(item)
            elif item.name in table:
                first = table[item.name]
                self.errors.append(
                    PluginLoadError(
                        name,
                        dist,
                        f"duplicate {kind.__name__} name {item.name!r}: registered by "
                        f"{first.distribution} (plugin {first.plugin}) and by {dist} "
                        f"(plugin {name}); keeping the one from {first.distribution}",
                        hook,
                    )
                )
                continue
            else:
                table[item.name] = _Entry(item, name, dist)
            accepted.append(item.name)
        if name in infos:
            infos[name].registered[hook.removeprefix("aisle_")] = accepted


def load_registry(
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Registry:
    """Load built-ins, then entry-point plugins, then ``extra_plugins`` (name, object).

    ``AISLE_PLUGINS`` (comma-separated entry-point names) loads only those;
    ``AISLE_DISABLE_PLUGINS`` skips the ones it names. Built-ins always load.
    """
    env = os.environ if environ is None else environ
    loader = _Loader()
    loader.register(builtins, "builtins", BUILTIN_DISTRIBUTION, _version(BUILTIN_DISTRIBUTION))
    if entry_points:
        loader.load_entry_points(
            _split(env.get("AISLE_PLUGINS")), _split(env.get("AISLE_DISABLE_PLUGINS")) or set()
        )
    for name, plugin in extra_plugins:
        loader.register(plugin, name, getattr(plugin, "__distribution__", name), "local")
    return loader.collect()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
