"""Compiled journey versions, cached: published versions never change, so compile once."""

from __future__ import annotations

from collections import OrderedDict

from aisle.contracts.registry import Registry
from aisle.domain.journey_record import JourneyVersion
from aisle.engine.core import CompiledJourney, compile_journey
from aisle.runtime.condition_workers import ConditionWorkers, offload
from aisle.storage.store import OrgScope

__all__ = ["JourneyCache"]


class JourneyCache:
    """(organization, journey, version, studio timezone) → :class:`CompiledJourney`.

    Bounded (least recently used goes first) so a long-running worker serving many
    studios does not grow without limit.
    """

    def __init__(
        self, registry: Registry, *, size: int = 512, conditions: ConditionWorkers | None = None
    ) -> None:
        self.registry = registry
        self.size = size
        self.conditions = conditions
        """Where conditions that loop run (in-process when ``None``)."""
        self._items: OrderedDict[tuple[str, str, int, str], CompiledJourney] = OrderedDict()

    def compile(self, version: JourneyVersion, studio_timezone: str) -> CompiledJourney:
        key = (version.organization_id, version.journey_id, version.version, studio_timezone)
        compiled = self._items.get(key)
        if compiled is None:
            compiled = compile_journey(
                version.graph,
                self.registry,
                journey_id=version.journey_id,
                version=version.version,
                studio_timezone=studio_timezone,
            )
            if self.conditions is not None:
                compiled = offload(compiled, self.conditions, version.organization_id)
            self._items[key] = compiled
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return compiled

    async def get(
        self, scope: OrgScope, journey_id: str, version: int, studio_timezone: str
    ) -> CompiledJourney:
        key = (scope.org_id, journey_id, version, studio_timezone)
        compiled = self._items.get(key)
        if compiled is not None:
            self._items.move_to_end(key)
            return compiled
        return self.compile(await scope.journeys.version(journey_id, version), studio_timezone)
