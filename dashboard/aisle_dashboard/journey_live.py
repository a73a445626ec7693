"""Who else is on a journey, live: presence sessions and edit locks over Server-Sent
Events (htmx's SSE extension swaps them in).

The stream is the collaboration's :class:`~aisle.collab.JourneyStream` (the one the
API's ``/live/sse`` sends as JSON): on each of its messages the page gets the presence
list re-rendered as HTML (event ``presence``), and ``changed`` when the draft or the
live version moved (the graph then reloads itself). An editor's page joins presence
when it loads and keeps its session alive with a heartbeat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from aisle.api.context import ApiCall
from aisle.collab import JourneyStream, LockService, PresenceService
from aisle.services.refusals import refusal
from aisle_dashboard.journey_call import REFUSALS, call_for, collaboration, refusal_text
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["JOURNEY_LIVE_HANDLERS"]

_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
_CHANGES = (b'{"type":"ops.applied"', b'{"type":"flow.replaced"', b'{"type":"journey.published"')


def _presence(call: ApiCall) -> PresenceService:
    return PresenceService(collaboration(call), call.scope, call.caller)


async def _who(call: ApiCall, journey_id: FromPath[str]) -> dict[str, Any]:
    """The people on the journey and the steps they hold, for the template."""
    collab = collaboration(call)
    sessions = await _presence(call).sessions(journey_id)
    locks = await LockService(collab, call.scope, call.caller).leases(journey_id)
    me = call.caller.user_id or f"token:{call.caller.token_id}"
    return {
        "sessions": sessions,
        "locks": [lock for lock in locks if lock.mode == "edit"],
        "me": me,
    }


@get("/journeys/{journey_id:str}/live", name="dashboard:journey-live")
async def journey_live(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        stream = JourneyStream(collaboration(call), call.scope, call.caller)
        journey = await stream.open(journey_id)
    except REFUSALS as exc:
        return Response(content=refusal_text(exc)[0], status_code=refusal(exc)[0])

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        async for data, _ in stream.messages(journey.id, None):
            who = page(request, "journey_presence.html", **await _who(call, journey.id))
            yield ServerSentEventMessage(data=str(who.content), event="presence")
            if data.startswith(_CHANGES):
                yield ServerSentEventMessage(data="changed", event="changed")

    return ServerSentEvent(events(), headers={"Cache-Control": "no-cache"})


@post("/journeys/{journey_id:str}/presence", status_code=200)
async def join(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """An editor opened the journey: a presence session, kept alive by the heartbeat
    in the answer."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        joined = await _presence(call).join(journey_id)
    except REFUSALS as exc:
        return page(
            request,
            "journey_panel_error.html",
            status_code=refusal(exc)[0],
            errors=refusal_text(exc),
        )
    return page(request, "journey_heartbeat.html", journey_id=journey_id, presence_id=joined.id)


@post("/journeys/{journey_id:str}/presence/{presence_id:str}", status_code=200)
async def heartbeat(
    request: Request[Any, Any, Any], journey_id: FromPath[str], presence_id: FromPath[str]
) -> Response[Any]:
    """Still here (every few seconds while the page is open); a session that timed out
    is joined again."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    presence = _presence(call)
    try:
        try:
            await presence.heartbeat(journey_id, presence_id)
        except REFUSALS as exc:
            if refusal(exc)[0] != 404:
                raise
            presence_id = (await presence.join(journey_id)).id
    except REFUSALS as exc:
        return page(
            request,
            "journey_panel_error.html",
            status_code=refusal(exc)[0],
            errors=refusal_text(exc),
        )
    return page(request, "journey_heartbeat.html", journey_id=journey_id, presence_id=presence_id)


JOURNEY_LIVE_HANDLERS = (journey_live, join, heartbeat)
