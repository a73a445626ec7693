"""The automation log: filtered by kind (a prefix such as ``action.``), journey and
couple, names in place of ids; and a live tail over SSE.

The tail polls the log once a second for entries after the newest one shown and sends
each as a table row (htmx's SSE extension puts it on top). Polling is the honest simple
thing here: the log is written by the engine, the jobs and the API in any process, and
a one-second query on an indexed id is cheap next to a hub every writer would have to
publish to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from html import escape
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from aisle.domain.automation_log import LogEntry
from aisle.services.studio_reads import Names, StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, after, listing
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["LOG_HANDLERS", "log_row"]

_PAGE = 100
_TAIL_SECONDS = 1.0


def log_row(entry: LogEntry, names: Names) -> str:
    """One entry as the table's row (the page and the tail show the same)."""
    who = "" if entry.actor == "system" else names.actor(entry.actor)
    couple = (
        f'<a href="{BASE}/couples/{escape(entry.contact_id)}">'
        f"{escape(names.couple(entry.contact_id))}</a>"
        if entry.contact_id
        else ""
    )
    return (
        f'<tr id="log-{escape(entry.id)}"><td><time datetime="{entry.at.isoformat()}">'
        f"{entry.at.strftime('%Y-%m-%d %H:%M:%S')}</time></td>"
        f"<td>{escape(entry.kind)}</td><td>{escape(names.message(entry.message))}</td>"
        f"<td>{couple}</td><td>{escape(names.journey(entry.journey_id))}</td>"
        f"<td>{escape(who)}</td></tr>"
    )


async def _names(reads: StudioReads, entries: list[LogEntry]) -> Names:
    return await reads.names(
        contact_ids=[e.contact_id for e in entries], actors=[e.actor for e in entries]
    )


@get("/log", name="dashboard:log")
async def log_page(
    request: Request[Any, Any, Any],
    kind: FromQuery[str] = "",
    journey: FromQuery[str] = "",
    couple: FromQuery[str] = "",
    cursor: FromQuery[str] = "",
) -> Response[Any]:
    listed = await listing(
        request,
        cursor,
        _PAGE,
        lambda session, before, limit: session.scope.log.list(
            kind=kind.strip() or None,
            journey_id=journey or None,
            contact_id=couple or None,
            before=before,
            limit=limit,
        ),
    )
    if listed is None:
        return NOT_SIGNED_IN
    rows = listed.rows
    names = await _names(listed.reads, list(rows))
    tail = None
    if not cursor:
        newest = rows[0].id if rows else ""
        tail = f"{BASE}/log/tail" + after(request, cursor=None, newest=newest or None)
    return page(
        request,
        "log.html",
        session=listed.session,
        active="log",
        rows=[log_row(e, names) for e in rows],
        journeys=await listed.reads.journeys(),
        chosen={"kind": kind, "journey": journey, "couple": couple},
        tail=tail,
        next_page=listed.next_page,
    )


@get("/log/tail", name="dashboard:log-tail")
async def log_tail(
    request: Request[Any, Any, Any],
    kind: FromQuery[str] = "",
    journey: FromQuery[str] = "",
    couple: FromQuery[str] = "",
    newest: FromQuery[str] = "",
) -> Response[Any] | ServerSentEvent:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    scope = session.scope
    reads = StudioReads(scope)

    async def entries() -> AsyncIterator[ServerSentEventMessage]:
        last = newest
        while True:
            found = await scope.log.list(
                kind=kind.strip() or None,
                journey_id=journey or None,
                contact_id=couple or None,
                after=last or None,
                limit=_PAGE,
            )
            fresh = [e for e in found if e.id != last]
            if fresh:
                names = await _names(reads, fresh)
                for entry in fresh:
                    yield ServerSentEventMessage(
                        event="entry", data=log_row(entry, names), id=entry.id
                    )
                last = fresh[-1].id
            await asyncio.sleep(_TAIL_SECONDS)

    return ServerSentEvent(entries(), headers={"Cache-Control": "no-store"})


LOG_HANDLERS = (log_page, log_tail)
