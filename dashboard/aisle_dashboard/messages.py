"""Messages: what the journeys sent, and what the embedded default captured instead of
sending (no provider configured), each shown as it was rendered: the HTML in a
sandboxed frame (no scripts, no forms, no navigation of the page), and the text."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery

from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, listing
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["MESSAGE_HANDLERS"]

_PAGE = 50
_CHANNELS = ("email", "sms")
_STATUSES = ("captured", "sent")
NOTES = {
    "captured": "Captured, not sent: no provider is configured for this channel, so "
    "nobody received it.",
    "sent": "Sent: the provider accepted it.",
}


@get("/messages", name="dashboard:messages")
async def messages(
    request: Request[Any, Any, Any],
    channel: FromQuery[str] = "",
    status: FromQuery[str] = "",
    journey: FromQuery[str] = "",
    cursor: FromQuery[str] = "",
) -> Response[Any]:
    listed = await listing(
        request,
        cursor,
        _PAGE,
        lambda session, before, limit: session.scope.messages.list(
            channel=channel if channel in _CHANNELS else None,
            status=status if status in _STATUSES else None,
            journey_id=journey or None,
            limit=limit,
            before=before,
        ),
    )
    if listed is None:
        return NOT_SIGNED_IN
    rows = listed.rows
    return page(
        request,
        "messages.html",
        session=listed.session,
        active="messages",
        messages=rows,
        names=await listed.reads.names(contact_ids=[m.contact_id for m in rows]),
        journeys=await listed.reads.journeys(),
        channels=_CHANNELS,
        statuses=_STATUSES,
        chosen={"channel": channel, "status": status, "journey": journey},
        next_page=listed.next_page,
    )


@get("/messages/{message_id:str}", name="dashboard:message")
async def message(request: Request[Any, Any, Any], message_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    reads = StudioReads(session.scope)
    found = await reads.message(message_id)
    if found is None:
        return page(
            request, "not_found.html", status_code=404, session=session, path=request.url.path
        )
    return page(
        request,
        "message.html",
        session=session,
        active="messages",
        message=found,
        note=NOTES.get(found.status, ""),
        names=await reads.names(contact_ids=[found.contact_id]),
    )


MESSAGE_HANDLERS = (messages, message)
