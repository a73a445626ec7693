"""Simulation: what a journey would do for one client, on a virtual clock, sending nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.deps import Call
from aisle.domain.contact import Contact
from aisle.engine.simulation import ScriptedEvent, TimelineEntry
from aisle.services.simulation import Simulation

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


def _scripted(event: ScriptedEventIn) -> ScriptedEvent:
    return ScriptedEvent(at=event.at, type=event.type, payload=event.payload, contact=event.contact)


class SimulationController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["lifecycle"]

    @post("/simulate", summary="Simulate a client through the journey", status_code=200)
    async def simulate_journey(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[SimulationIn]
    ) -> SimulationOut:
        timeline = await Simulation(call.runtime, call.scope, call.caller).run(
            journey_id,
            version=data.version,
            contact=data.contact,
            contact_id=data.contact_id,
            script=[_scripted(e) for e in data.script],
            entry=_scripted(data.entry) if data.entry else None,
            start_at=data.start_at,
            horizon=timedelta(days=data.horizon_days),
        )
        return SimulationOut(
            start_at=timeline.start_at,
            end_at=timeline.end_at,
            path=timeline.path,
            status=timeline.state.status,
            step_id=timeline.state.step_id,
            entries=list(timeline.entries),
        )
