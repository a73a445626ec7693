"""What the jobs work with, handed to them where they are built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aisle.clock import Clock
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store

if TYPE_CHECKING:
    from aisle.runtime.service import Runtime, Sweeper

__all__ = ["JobDeps"]


@dataclass(frozen=True, kw_only=True)
class JobDeps:
    """The relay's, the scheduler's and the workers' dependencies, named.

    ``runtime`` is there for what only the engine does (firing wake-ups, processing
    events, the cached organizations); storage, settings and the plugins are reached
    directly, not through it.
    """

    store: Store
    settings: Settings
    registry: Registry
    runtime: Runtime
    sweepers: Mapping[str, Sweeper]
    """The runtime's own mapping: lifespans add and remove sweepers while jobs run."""

    @classmethod
    def of(cls, runtime: Runtime) -> JobDeps:
        """The jobs' dependencies on ``runtime``'s store, settings and plugins."""
        return cls(
            store=runtime.store,
            settings=runtime.settings,
            registry=runtime.registry,
            runtime=runtime,
            sweepers=runtime.sweepers,
        )

    @property
    def clock(self) -> Clock:
        return self.store.clock

    def for_org(self, org_id: str) -> OrgScope:
        return self.store.for_org(org_id)
