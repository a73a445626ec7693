"""The journeys list: search, create, import and export a journey as a file.

Each action is the API's: creating goes through the canvas service, import and export
through :class:`~aisle.canvas.transfer.JourneyTransfer`, as the caller's session.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.context import ApiCall
from aisle.canvas.transfer import ExportDocument, JourneyTransfer
from aisle.domain.journey import JourneySettings
from aisle.domain.journey_record import Journey
from aisle.services.refusals import refusal
from aisle_dashboard.journey_call import REFUSALS, call_for, canvas, refusal_text, refused_page
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["JOURNEY_LIST_HANDLERS", "PAGE_SIZE", "matching"]

PAGE_SIZE = 25
_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def matching(journeys: list[Journey], query: str) -> list[Journey]:
    """Journeys whose name or description contains every word of ``query`` (any case),
    by name."""
    words = query.casefold().split()
    found = [
        j for j in journeys if all(w in f"{j.name}\n{j.description}".casefold() for w in words)
    ]
    return sorted(found, key=lambda j: (j.name.casefold(), j.id))


def _transfer(call: ApiCall) -> JourneyTransfer:
    return JourneyTransfer(
        call.store, call.scope, call.caller, registry=call.registry, limits=call.config.graph_limits
    )


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


async def _list_page(
    request: Request[Any, Any, Any],
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    query = str(request.query_params.get("q", "")).strip()
    number = _int(request.query_params.get("page"), 1)
    found = matching(await session.scope.journeys.list(), query)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    number = min(number, pages)
    shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    return page(
        request,
        "journeys.html",
        session=session,
        active="journeys",
        status_code=status_code,
        journeys=shown,
        found=len(found),
        query=query,
        page_number=number,
        pages=pages,
        errors=errors or [],
        form=form or {"name": "", "description": ""},
    )


@get("/journeys", name="dashboard:journeys")
async def journeys_list(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _list_page(request)


@post("/journeys", status_code=303)
async def create_journey(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    form = await request.form()
    name = str(form.get("name", "")).strip()
    description = str(form.get("description", "")).strip()
    filled = {"name": name, "description": description}
    if not name or len(name) > 200:
        return await _list_page(
            request,
            status_code=422,
            errors=["name: give the journey a name of 1 to 200 characters"],
            form=filled,
        )
    try:
        journey = await canvas(call_for(request, session)).create_journey(
            name, description[:5000], JourneySettings()
        )
    except REFUSALS as exc:
        return await _list_page(
            request, status_code=refusal(exc)[0], errors=refusal_text(exc), form=filled
        )
    return Redirect(f"{BASE}/journeys/{journey.id}", status_code=303)


@post("/journeys/import", status_code=303)
async def import_journey(request: Request[Any, Any, Any]) -> Response[Any]:
    """An exported journey file (the API's export document) as a new journey."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _list_page(request, status_code=422, errors=["file: choose a file"])
    try:
        document = msgspec.json.decode(await upload.read(), type=ExportDocument)
    except msgspec.DecodeError as exc:
        return await _list_page(
            request,
            status_code=422,
            errors=[f"file: {upload.filename} is not an exported journey ({exc})"],
        )
    try:
        journey = await _transfer(call_for(request, session)).import_journey(document)
    except REFUSALS as exc:
        return await _list_page(request, status_code=refusal(exc)[0], errors=refusal_text(exc))
    return Redirect(f"{BASE}/journeys/{journey.id}", status_code=303)


@get("/journeys/{journey_id:str}/export", name="dashboard:journey-export")
async def export_journey(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """The journey (draft and every version) as a JSON file to download."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    try:
        document = await _transfer(call_for(request, session)).export(journey_id)
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    filename = _SAFE_NAME.sub("-", document.name).strip("-") or "journey"
    return Response(
        content=msgspec.json.format(msgspec.json.encode(document), indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}.aisle.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


JOURNEY_LIST_HANDLERS = (journeys_list, create_journey, import_journey, export_journey)
