"""What the runtime tests share: a studio with one live journey, and a couple's enquiry."""

from __future__ import annotations

from typing import Any

from aisle.demo import demo_journey
from aisle.domain import Graph
from aisle.domain.event_record import EventRecord
from aisle.runtime import Runtime
from aisle.storage.store import OrgScope

__all__ = ["ENQUIRY", "enquire", "open_studio"]

ENQUIRY = {"form_id": "enquiry"}
"""The payload of the form that enrolls a couple in the demo journey."""


async def open_studio(
    runtime: Runtime,
    graph: Graph | None = None,
    *,
    timezone: str = "UTC",
    settings: dict[str, Any] | None = None,
) -> tuple[OrgScope, str]:
    """A studio whose one journey (``graph``, else the demo journey) is live; returns
    the studio's scope and the journey's id."""
    org = await runtime.store.organizations.create(
        slug="studio", name="Studio", timezone=timezone, settings=settings
    )
    scope = runtime.for_org(org.id)
    graph = graph or demo_journey()
    journey = await scope.journeys.create(name="Journey", draft=graph)
    await scope.journeys.publish(journey.id, graph, published_by="test")
    return scope, journey.id


async def enquire(
    runtime: Runtime, scope: OrgScope, contact_id: str, key: str = "enquiry"
) -> EventRecord:
    """The couple submits the enquiry form (event ``key``); the processed record."""
    record, _ = await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key=key,
        contact_id=contact_id,
        payload=ENQUIRY,
    )
    return record
