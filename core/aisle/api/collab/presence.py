"""Presence: ``/api/v1/journeys/{id}/presence`` — join, heartbeat, leave, list.

A session is one open canvas. Heartbeats carry the cursor (flow coordinates), the
viewport and the selection; send them as the cursor moves (the server throttles what
it broadcasts) and at least every 10 seconds: a session without heartbeats for 30
seconds ends. Canvases connected to the live WebSocket can send heartbeats there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from aisle.api.collab.services import presence_for
from aisle.api.collab.targets import ElementId
from aisle.api.deps import Call
from aisle.domain.presence import PresenceSession

__all__ = ["Cursor", "HeartbeatIn", "JoinIn", "PresenceController", "ViewportIn"]

Selection = Annotated[list[ElementId], Meta(max_length=2000)]


class Cursor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A pointer position in flow coordinates."""

    x: float
    y: float


class ViewportIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """React Flow's viewport: pan and zoom."""

    x: float
    y: float
    zoom: Annotated[float, Meta(gt=0, le=100)]


class JoinIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    viewport: ViewportIn | None = None
    selection: Selection = []


class HeartbeatIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only what is sent changes; ``cursor: null`` means the pointer left the canvas."""

    cursor: Cursor | UnsetType | None = UNSET
    viewport: ViewportIn | UnsetType | None = UNSET
    selection: Selection | UnsetType = UNSET


class SessionsOut(msgspec.Struct, kw_only=True):
    sessions: list[PresenceSession]
    now: datetime


def plain(value: Any) -> Any:
    """A cursor or viewport as stored (a JSON object), keeping unset and null apart."""
    if isinstance(value, UnsetType) or value is None:
        return value
    return msgspec.to_builtins(value)


class PresenceController(Controller):
    path = "/journeys/{journey_id:str}/presence"
    tags = ["collaboration"]

    @get("/", summary="Who has the journey open, and where")
    async def list_sessions(self, call: Call, journey_id: FromPath[str]) -> SessionsOut:
        presence = presence_for(call)
        sessions = await presence.sessions(journey_id)
        return SessionsOut(sessions=sessions, now=presence.collab.clock.now())

    @post(
        "/",
        summary="Join: open a presence session",
        description="Returns the session with its colour (distinct from the other "
        "users' in this journey; your other tabs share yours).",
        status_code=HTTP_201_CREATED,
    )
    async def join(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[JoinIn]
    ) -> PresenceSession:
        return await presence_for(call).join(
            journey_id,
            cursor=plain(data.cursor),
            viewport=plain(data.viewport),
            selection=data.selection,
        )

    @post(
        "/{session_id:str}/heartbeat",
        summary="Heartbeat: cursor, viewport, selection",
        status_code=200,
    )
    async def heartbeat(
        self,
        call: Call,
        journey_id: FromPath[str],
        session_id: FromPath[str],
        data: JSONBody[HeartbeatIn],
    ) -> PresenceSession:
        # The session must be the caller's (the update checks it): no journey or user
        # read on this hot path; 404 when it ended, then join again.
        return await presence_for(call).heartbeat(
            journey_id,
            session_id,
            cursor=plain(data.cursor),
            viewport=plain(data.viewport),
            selection=data.selection,
        )

    @delete(
        "/{session_id:str}",
        summary="Leave (idempotent)",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def leave(self, call: Call, journey_id: FromPath[str], session_id: FromPath[str]) -> None:
        await presence_for(call).leave(journey_id, session_id)
