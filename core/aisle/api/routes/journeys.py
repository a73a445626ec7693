"""Journeys: list, create, read, rename or reconfigure, pause/resume, soft delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from aisle.api.admission import condition_errors
from aisle.api.context import Scope
from aisle.api.deps import Tenant
from aisle.api.etags import etag, required_revision
from aisle.api.flow_service import decode_flow
from aisle.api.pages import Cursor, Limit, page_of
from aisle.api.problems import Problem
from aisle.api.reactflow import FlowDocument
from aisle.api.roles import ensure_journey_role, ensure_role
from aisle.domain.journey import Graph, JourneySettings
from aisle.domain.journey_record import Journey, JourneyStatus
from aisle.storage.ids import new_id

__all__ = ["JourneyController", "JourneyOut", "journey_out"]

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Description = Annotated[str, Meta(max_length=5000)]


class JourneyOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str
    status: JourneyStatus
    revision: int
    etag: str
    live_version: int | None
    nodes: int
    edges: int
    settings: JourneySettings
    created_at: datetime | None
    updated_at: datetime | None


def journey_out(journey: Journey) -> JourneyOut:
    return JourneyOut(
        id=journey.id,
        name=journey.name,
        description=journey.description,
        status=journey.status,
        revision=journey.revision,
        etag=etag(journey.id, journey.revision),
        live_version=journey.live_version,
        nodes=len(journey.draft.steps),
        edges=len(journey.draft.edges),
        settings=journey.draft.settings,
        created_at=journey.created_at,
        updated_at=journey.updated_at,
    )


class JourneyPage(msgspec.Struct, kw_only=True):
    items: list[JourneyOut]
    next_cursor: str | None


class JourneyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Description = ""
    settings: JourneySettings = JourneySettings()
    flow: FlowDocument | None = None
    """An initial canvas (``ReactFlowJsonObject``); empty when omitted."""


class JourneyPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    settings: JourneySettings | UnsetType = UNSET
    """Entry and exit criteria, start step, re-enrollment policy (saved to the draft)."""
    status: Literal["live", "paused"] | UnsetType = UNSET
    """Pause a published journey (no new enrollments) or resume it."""


def admit_settings(tenant: Scope, settings: JourneySettings) -> None:
    """A 422 naming each entry or exit filter that may not be stored (over the CEL limits)."""
    errors = condition_errors(Graph(settings=settings), tenant.registry)
    if errors:
        detail = "the settings cannot be stored: " + "; ".join(e.message for e in errors[:5])
        raise Problem(422, detail, errors=errors)


def graph_from_create(tenant: Scope, data: JourneyCreate) -> Graph:
    admit_settings(tenant, data.settings)
    base = Graph(settings=data.settings)
    if data.flow is None:
        return base
    return decode_flow(tenant, data.flow, settings=base, field_prefix="flow.")


class JourneyController(Controller):
    path = "/journeys"
    tags = ["journeys"]

    @get("/", summary="List journeys")
    async def list_journeys(
        self,
        tenant: Tenant,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[JourneyStatus | None] = None,
    ) -> JourneyPage:
        journeys = await tenant.org.journeys.list(status=status)
        if cursor:
            journeys = [j for j in journeys if j.id > cursor]
        page, next_cursor = page_of(journeys, limit, lambda j: j.id)
        return JourneyPage(items=[journey_out(j) for j in page], next_cursor=next_cursor)

    @post("/", summary="Create a journey", status_code=HTTP_201_CREATED)
    async def create_journey(self, tenant: Tenant, data: JSONBody[JourneyCreate]) -> JourneyOut:
        ensure_role(tenant.caller, "editor", "creating a journey")
        graph = graph_from_create(tenant, data)
        async with tenant.store.transaction():
            journey = await tenant.org.journeys.create(
                name=data.name, description=data.description, draft=graph
            )
            await tenant.flow_log.record(
                journey.id,
                [
                    {
                        "op_id": f"create:{new_id()}",
                        "revision": journey.revision,
                        "status": "applied",
                        "kind": "create",
                        "op": {"op": "create", "nodes": len(graph.steps)},
                        "actor": tenant.caller.actor,
                    }
                ],
            )
            await tenant.org.log.append(
                "journey.created",
                actor=tenant.caller.actor,
                journey_id=journey.id,
                message=f"journey {journey.name!r} created",
            )
        return journey_out(journey)

    @get("/{journey_id:str}", summary="Read a journey")
    async def get_journey(self, tenant: Tenant, journey_id: FromPath[str]) -> JourneyOut:
        return journey_out(await tenant.org.journeys.get(journey_id))

    @patch("/{journey_id:str}", summary="Rename, reconfigure, pause or resume a journey")
    async def patch_journey(
        self,
        tenant: Tenant,
        journey_id: FromPath[str],
        data: JSONBody[JourneyPatch],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> JourneyOut:
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(
            tenant, journey.id, "admin" if data.status is not UNSET else "editor", "this change"
        )
        async with tenant.store.transaction():
            await tenant.flow_log.lock_journey(journey.id)
            journey = await tenant.org.journeys.get(journey_id)
            if if_match:
                required_revision(if_match, journey.id, journey.revision)  # 412 when stale
            if data.name is not UNSET or data.description is not UNSET:
                journey = await tenant.org.journeys.update(
                    journey.id,
                    name=data.name if data.name is not UNSET else None,
                    description=data.description if data.description is not UNSET else None,
                )
            if data.settings is not UNSET and data.settings != journey.draft.settings:
                admit_settings(tenant, data.settings)
                graph = msgspec.structs.replace(journey.draft, settings=data.settings)
                journey = await tenant.org.journeys.save_draft(
                    journey.id, graph, expected_revision=journey.revision
                )
                await tenant.flow_log.record(
                    journey.id,
                    [
                        {
                            "op_id": f"settings:{new_id()}",
                            "revision": journey.revision,
                            "status": "applied",
                            "kind": "update_settings",
                            "op": {
                                "op": "update_settings",
                                "settings": msgspec.to_builtins(data.settings),
                            },
                            "actor": tenant.caller.actor,
                        }
                    ],
                )
            if data.status is not UNSET and data.status != journey.status:
                journey = await tenant.org.journeys.set_status(journey.id, data.status)
            await tenant.org.log.append(
                "journey.updated",
                actor=tenant.caller.actor,
                journey_id=journey.id,
                message="journey updated",
                data={
                    "fields": [
                        f
                        for f in ("name", "description", "settings", "status")
                        if getattr(data, f) is not UNSET
                    ]
                },
            )
        return journey_out(journey)

    @delete("/{journey_id:str}", summary="Delete a journey (soft)", status_code=HTTP_204_NO_CONTENT)
    async def delete_journey(self, tenant: Tenant, journey_id: FromPath[str]) -> None:
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(tenant, journey.id, "admin", "deleting a journey")
        async with tenant.store.transaction():
            await tenant.org.journeys.soft_delete(journey.id)
            await tenant.org.log.append(
                "journey.deleted",
                actor=tenant.caller.actor,
                journey_id=journey.id,
                message=f"journey {journey.name!r} deleted (soft; restorable)",
            )
