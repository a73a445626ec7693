"""Journeys: list, create, read, rename or reconfigure, pause/resume, soft delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from aisle.api.canvas import canvas_for
from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, page_of
from aisle.canvas.etags import etag
from aisle.canvas.reactflow import FlowDocument
from aisle.canvas.service import JourneyChanges
from aisle.domain.journey import JourneySettings
from aisle.domain.journey_record import Journey, JourneyStatus

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


class JourneyController(Controller):
    path = "/journeys"
    tags = ["journeys"]

    @get("/", summary="List journeys")
    async def list_journeys(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[JourneyStatus | None] = None,
    ) -> JourneyPage:
        journeys = await call.scope.journeys.list(status=status)
        if cursor:
            journeys = [j for j in journeys if j.id > cursor]
        page, next_cursor = page_of(journeys, limit, lambda j: j.id)
        return JourneyPage(items=[journey_out(j) for j in page], next_cursor=next_cursor)

    @post("/", summary="Create a journey", status_code=HTTP_201_CREATED)
    async def create_journey(self, call: Call, data: JSONBody[JourneyCreate]) -> JourneyOut:
        journey = await canvas_for(call).create_journey(
            data.name, data.description, data.settings, data.flow
        )
        return journey_out(journey)

    @get("/{journey_id:str}", summary="Read a journey")
    async def get_journey(self, call: Call, journey_id: FromPath[str]) -> JourneyOut:
        return journey_out(await call.scope.journeys.get(journey_id))

    @patch("/{journey_id:str}", summary="Rename, reconfigure, pause or resume a journey")
    async def patch_journey(
        self,
        call: Call,
        journey_id: FromPath[str],
        data: JSONBody[JourneyPatch],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> JourneyOut:
        changes = JourneyChanges(
            name=data.name if data.name is not UNSET else None,
            description=data.description if data.description is not UNSET else None,
            settings=data.settings if data.settings is not UNSET else None,
            status=data.status if data.status is not UNSET else None,
        )
        fields = [
            f
            for f in ("name", "description", "settings", "status")
            if getattr(data, f) is not UNSET
        ]
        journey = await canvas_for(call).update_journey(
            journey_id, changes, if_match=if_match, fields=fields
        )
        return journey_out(journey)

    @delete("/{journey_id:str}", summary="Delete a journey (soft)", status_code=HTTP_204_NO_CONTENT)
    async def delete_journey(self, call: Call, journey_id: FromPath[str]) -> None:
        await canvas_for(call).delete_journey(journey_id)
