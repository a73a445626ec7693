"""Couples: search; one couple's journeys and a single timeline of what happened to them
(the log's transitions and CRM changes, their events, the messages they were sent, each
message with its text); enroll, exit; move the wedding date (a move pending steps count
from asks to be confirmed first); confirm or reject a CRM change held for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery

from aisle.crm.deps import CRMDeps
from aisle.crm.held import HeldChanges
from aisle.runtime.errors import DateChangeNotConfirmed
from aisle.services.couple_acts import CoupleActs
from aisle.services.sessions import Session
from aisle.services.studio_reads import Names, StudioReads, couple_name
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, after, page_of, refusal, see
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in

__all__ = ["COUPLE_HANDLERS"]

_PAGE = 50
_TIMELINE = 200


class EnrollForm(msgspec.Struct):
    journey: str = ""


class ExitForm(msgspec.Struct):
    reason: str = ""


class DateForm(msgspec.Struct):
    wedding_date: str = ""
    confirm: str = ""


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass(frozen=True)
class Happening:
    """One line of a couple's timeline."""

    at: datetime
    kind: str
    text: str
    href: str = ""
    body: str = ""
    """A message's text, shown under its line."""


@get("/couples", name="dashboard:couples")
async def couples(
    request: Request[Any, Any, Any], q: FromQuery[str] = "", cursor: FromQuery[str] = ""
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    found = await session.scope.contacts.list(
        limit=_PAGE + 1, after=cursor or None, search=q.strip() or None
    )
    rows, next_cursor = page_of(found, _PAGE, lambda c: c.id)
    return page(
        request,
        "couples.html",
        session=session,
        active="couples",
        couples=[(c, couple_name(c)) for c in rows],
        q=q,
        next_page=after(request, cursor=next_cursor) if next_cursor else None,
    )


def _timeline(names: Names, entries: Any, events: Any, sent: Any) -> list[Happening]:
    """Log entries, events and messages, newest first."""
    lines = [
        Happening(
            at=e.at,
            kind=e.kind,
            text=names.message(e.message)
            + (f" (by {names.actor(e.actor)})" if e.actor != "system" else ""),
            href=f"/runs/{e.action_run_id}" if e.action_run_id else "",
        )
        for e in entries
    ]
    lines += [
        Happening(at=r.event.occurred_at, kind="event", text=f"{r.event.type} ({r.status})")
        for r in events
    ]
    lines += [
        Happening(
            at=m.created_at,
            kind=f"message.{m.status}",
            text=f"{m.channel} “{m.subject or m.text[:60]}” to {', '.join(m.to)}",
            href=f"/messages/{m.id}",
            body=m.text,
        )
        for m in sent
    ]
    return sorted(lines, key=lambda h: h.at, reverse=True)[:_TIMELINE]


async def _held(request: Request[Any, Any, Any], session: Session) -> HeldChanges:
    deps = CRMDeps.of(app_context(request).require_runtime())
    return HeldChanges(deps, session.scope, session)


async def _couple_page(
    request: Request[Any, Any, Any],
    contact_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    unconfirmed: DateChangeNotConfirmed | None = None,
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    scope = session.scope
    contact = await scope.contacts.find(contact_id)
    if contact is None:
        return page(
            request, "not_found.html", status_code=404, session=session, path=request.url.path
        )
    reads = StudioReads(scope)
    enrollments = await scope.enrollments.for_contact(contact.id)
    failures = await scope.action_runs.failures_by_enrollment([e.id for e in enrollments])
    entries = await scope.log.list(contact_id=contact.id, limit=_TIMELINE)
    events = await scope.events.list(contact_id=contact.id, limit=_TIMELINE)
    sent = await scope.messages.list(contact_id=contact.id, limit=_TIMELINE)
    names = await reads.names(contact_ids=[contact.id], actors=[e.actor for e in entries])
    held = await (await _held(request, session)).list(contact_id=contact.id)
    journeys = await reads.journeys()
    return page(
        request,
        "couple.html",
        status_code=status_code,
        session=session,
        active="couples",
        contact=contact,
        name=couple_name(contact),
        enrollments=enrollments,
        failures=failures,
        names=names,
        timeline=_timeline(names, entries, events, sent),
        held=held,
        live=[j for j in journeys if j.live_version is not None],
        error=error,
        unconfirmed=unconfirmed,
    )


@get("/couples/{contact_id:str}", name="dashboard:couple")
async def couple(request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Response[Any]:
    return await _couple_page(request, contact_id)


async def _acts(request: Request[Any, Any, Any]) -> tuple[Session, CoupleActs] | None:
    session = await signed_in(request)
    if session is None:
        return None
    runtime = app_context(request).require_runtime()
    return session, CoupleActs(runtime, session.scope, session)


@post("/couples/{contact_id:str}/enroll", status_code=303)
async def enroll(
    request: Request[Any, Any, Any],
    contact_id: FromPath[str],
    data: Annotated[EnrollForm, Form],
) -> Response[Any]:
    acting = await _acts(request)
    if acting is None:
        return NOT_SIGNED_IN
    try:
        await acting[1].enroll(contact_id, data.journey)
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _couple_page(request, contact_id, status_code=code, error=detail)
    return see(f"/couples/{contact_id}")


@post("/couples/{contact_id:str}/enrollments/{enrollment_id:str}/exit", status_code=303)
async def exit_enrollment(
    request: Request[Any, Any, Any],
    contact_id: FromPath[str],
    enrollment_id: FromPath[str],
    data: Annotated[ExitForm, Form],
) -> Response[Any]:
    acting = await _acts(request)
    if acting is None:
        return NOT_SIGNED_IN
    session, acts = acting
    try:
        enrollment = await StudioReads(session.scope).enrollment(enrollment_id)
        if enrollment is None or enrollment.contact_id != contact_id:
            return await _couple_page(
                request, contact_id, status_code=404, error="No such enrollment of this couple."
            )
        await acts.exit(enrollment.id, data.reason.strip() or "taken out from the dashboard")
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _couple_page(request, contact_id, status_code=code, error=detail)
    return see(f"/couples/{contact_id}")


@post("/couples/{contact_id:str}/wedding-date", status_code=303)
async def wedding_date(
    request: Request[Any, Any, Any],
    contact_id: FromPath[str],
    data: Annotated[DateForm, Form],
) -> Response[Any]:
    acting = await _acts(request)
    if acting is None:
        return NOT_SIGNED_IN
    try:
        new = date.fromisoformat(data.wedding_date) if data.wedding_date else None
    except ValueError:
        return await _couple_page(
            request, contact_id, status_code=422, error="The wedding date is not a date."
        )
    try:
        await acting[1].move_wedding_date(contact_id, new, confirmed=data.confirm == "yes")
    except DateChangeNotConfirmed as exc:
        return await _couple_page(request, contact_id, status_code=409, unconfirmed=exc)
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _couple_page(request, contact_id, status_code=code, error=detail)
    return see(f"/couples/{contact_id}")


async def _decide(
    request: Request[Any, Any, Any], contact_id: str, held_id: str, *, confirm: bool
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    try:
        held = await _held(request, session)
        change = await held.get(held_id)
        if change.contact_id != contact_id:
            return await _couple_page(
                request, contact_id, status_code=404, error="No such held change of this couple."
            )
        await (held.confirm(held_id) if confirm else held.reject(held_id))
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _couple_page(request, contact_id, status_code=code, error=detail)
    return see(f"/couples/{contact_id}")


@post("/couples/{contact_id:str}/held/{held_id:str}/confirm", status_code=303)
async def confirm_held(
    request: Request[Any, Any, Any], contact_id: FromPath[str], held_id: FromPath[str]
) -> Response[Any]:
    return await _decide(request, contact_id, held_id, confirm=True)


@post("/couples/{contact_id:str}/held/{held_id:str}/reject", status_code=303)
async def reject_held(
    request: Request[Any, Any, Any], contact_id: FromPath[str], held_id: FromPath[str]
) -> Response[Any]:
    return await _decide(request, contact_id, held_id, confirm=False)


COUPLE_HANDLERS = (
    couples,
    couple,
    enroll,
    exit_enrollment,
    wedding_date,
    confirm_held,
    reject_held,
)
