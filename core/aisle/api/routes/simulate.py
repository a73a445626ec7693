"""Simulation: what a journey would do for one client, on a virtual clock, sending nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.deps import Call
from aisle.api.routes.lifecycle import graph_at, runnable
from aisle.domain.contact import Contact
from aisle.engine.simulation import ScriptedEvent, TimelineEntry, simulate
from aisle.runtime.condition_workers import offload
from aisle.services.errors import Refused

__all__ = ["SimulationController"]

EventType = Annotated[str, Meta(min_length=1, max_length=100)]


class ScriptedEventIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    at: datetime
    """When it happens (timezone-aware)."""
    type: EventType
    payload: dict[str, Any] = {}
    contact: Contact | None = None
    """The contact from this moment on (a moved wedding, a changed field)."""


class SimulationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[str, Meta(pattern=r"^(draft|live|[1-9][0-9]{0,8})$")] = "draft"
    contact: Contact | None = None
    """A contact profile; or ``contact_id`` to use a stored contact."""
    contact_id: str | None = None
    script: Annotated[list[ScriptedEventIn], Meta(max_length=1000)] = []
    entry: ScriptedEventIn | None = None
    """The event that enrolls the client (``null``: enrolled by hand)."""
    start_at: datetime | None = None
    """Default: now."""
    horizon_days: Annotated[float, Meta(gt=0, le=3660)] = 365.0


class SimulationOut(msgspec.Struct, kw_only=True):
    start_at: datetime
    end_at: datetime
    path: list[str]
    """The steps entered, in order."""
    status: str
    step_id: str | None
    entries: list[TimelineEntry]


def _scripted(event: ScriptedEventIn, where: str) -> ScriptedEvent:
    if event.at.tzinfo is None:
        raise Refused(422, f"{where}.at must carry a timezone (e.g. 2026-06-01T09:00:00Z)")
    return ScriptedEvent(at=event.at, type=event.type, payload=event.payload, contact=event.contact)


class SimulationController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["lifecycle"]

    @post("/simulate", summary="Simulate a client through the journey", status_code=200)
    async def simulate_journey(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[SimulationIn]
    ) -> SimulationOut:
        journey = await call.scope.journeys.get(journey_id)
        graph = await graph_at(call, journey, data.version, "version")
        org = await call.runtime.organization(call.caller.organization_id)
        if data.contact_id is not None:
            contact = await call.scope.contacts.get(data.contact_id)
        else:
            contact = data.contact or Contact(id="simulated")
        conditions = call.runtime.conditions
        compiled = offload(
            runnable(
                call,
                graph,
                journey.id,
                journey.live_version or 0,
                org.timezone,
                "cannot simulate",
            ),
            conditions,
            call.caller.organization_id,
        )
        start = data.start_at or call.store.clock.now()
        if start.tzinfo is None:
            raise Refused(422, "start_at must carry a timezone (e.g. 2026-06-01T09:00:00Z)")
        script = [_scripted(e, f"script[{i}]") for i, e in enumerate(data.script)]
        try:
            timeline = await conditions.run_engine(
                compiled,
                partial(
                    simulate,
                    compiled,
                    contact,
                    script,
                    start,
                    timedelta(days=data.horizon_days),
                    entry=_scripted(data.entry, "entry") if data.entry else None,
                ),
            )
        except ValueError as exc:  # an event before start_at, a naive time
            raise Refused(422, f"cannot simulate: {exc}") from None
        return SimulationOut(
            start_at=timeline.start_at,
            end_at=timeline.end_at,
            path=timeline.path,
            status=timeline.state.status,
            step_id=timeline.state.step_id,
            entries=list(timeline.entries),
        )
