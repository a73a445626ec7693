"""Simulation: what a journey would do for one client, on a virtual clock, sending nothing.

The API's ``POST …/simulate`` and the dashboard's simulation form both ask
:class:`Simulation`, so a timeline shown in the browser is the one the API answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from aisle.domain.contact import Contact
from aisle.engine.simulation import ScriptedEvent, Timeline, simulate
from aisle.runtime import Runtime
from aisle.runtime.condition_workers import offload
from aisle.services.errors import Refused
from aisle.services.lifecycle import Lifecycle, compile_runnable
from aisle.services.roles import Actor
from aisle.storage.store import OrgScope

__all__ = ["ScriptedEvent", "Simulation", "Timeline"]
"""``ScriptedEvent`` and ``Timeline`` are the engine's, re-exported as what the service
takes and answers (its callers above the services see no engine module)."""


def _aware(moment: datetime, where: str) -> None:
    if moment.tzinfo is None:
        raise Refused(422, f"{where} must carry a timezone (e.g. 2026-06-01T09:00:00Z)")


class Simulation:
    """Simulating the journeys of ``scope`` (reading only: any role may)."""

    def __init__(self, runtime: Runtime, scope: OrgScope, actor: Actor) -> None:
        self.runtime = runtime
        self.scope = scope
        self.actor = actor

    async def run(
        self,
        journey_id: str,
        *,
        version: str = "draft",
        contact: Contact | None = None,
        contact_id: str | None = None,
        script: Sequence[ScriptedEvent] = (),
        entry: ScriptedEvent | None = None,
        start_at: datetime | None = None,
        horizon: timedelta = timedelta(days=365),
    ) -> Timeline:
        """Enroll ``contact`` (or the stored contact ``contact_id``; default: an empty
        profile) in ``version`` (``draft``, ``live`` or a number) at ``start_at``
        (default: now) and replay ``script`` until ``start_at + horizon``; a 422 when
        the version does not compile or a time is naive or before ``start_at``."""
        journey = await self.scope.journeys.get(journey_id)
        lifecycle = Lifecycle(self.runtime, self.scope, self.actor)
        graph = await lifecycle.graph_at(journey, version, "version")
        org = await self.runtime.organization(self.scope.org_id)
        if contact_id is not None:
            contact = await self.scope.contacts.get(contact_id)
        contact = contact or Contact(id="simulated")
        conditions = self.runtime.conditions
        compiled = offload(
            compile_runnable(
                self.runtime.registry,
                graph,
                journey.id,
                journey.live_version or 0,
                org.timezone,
                "cannot simulate",
            ),
            conditions,
            self.scope.org_id,
        )
        start = start_at or self.runtime.store.clock.now()
        _aware(start, "start_at")
        for i, event in enumerate(script):
            _aware(event.at, f"script[{i}].at")
        if entry is not None:
            _aware(entry.at, "entry.at")
        try:
            return await conditions.run_engine(
                compiled,
                partial(simulate, compiled, contact, script, start, horizon, entry=entry),
            )
        except ValueError as exc:  # an event before start_at
            raise Refused(422, f"cannot simulate: {exc}") from None
