"""A journey's simulation form: a couple (names, email, wedding date), when they enroll
and what happens to them later (events), answered with the predicted timeline drawn as
a picture and listed.

The form is a GET (simulating changes nothing, and the URL can be shared); it asks the
same :class:`~aisle.services.simulation.Simulation` the API's ``POST …/simulate`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.domain.contact import Contact, Partner
from aisle.services.simulation import ScriptedEvent, Simulation, Timeline
from aisle_dashboard.journey_call import REFUSALS, call_for, canvas, refusal_text, refused_page
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in
from aisle_dashboard.svg import render_timeline, timeline_points

__all__ = ["EVENT_ROWS", "JOURNEY_SIMULATE_HANDLERS", "SimulationForm", "read_simulation_form"]

_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
EVENT_ROWS = 3
"""Event lines the form offers (the API takes up to 1,000)."""
_START_HOUR = time(9)
"""A simulation starting on a chosen day starts at 9:00 there (studio time)."""


@dataclass(kw_only=True)
class SimulationForm:
    """What the form says, as typed (shown back) and as the service takes it."""

    values: dict[str, str]
    version: str = "draft"
    contact: Contact | None = None
    start_at: datetime | None = None
    horizon_days: int = 365
    script: list[ScriptedEvent]
    wedding_date: date | None = None


def _date(text: str, name: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{name}: a date (YYYY-MM-DD)")
        return None


def read_simulation_form(
    query: Mapping[str, str], zone: ZoneInfo
) -> tuple[SimulationForm, list[str]]:
    """The form's values read (times in the studio's ``zone``); what is wrong, by field."""
    values = {k: str(v).strip()[:200] for k, v in query.items()}
    errors: list[str] = []
    version = values.get("version", "draft")
    if version not in ("draft", "live"):
        errors.append("version: the draft or the live version")
        version = "draft"
    wedding = _date(values.get("wedding_date", ""), "wedding_date", errors)
    partners = tuple(
        Partner(first_name=values[name]) for name in ("partner1", "partner2") if values.get(name)
    )
    contact = Contact(
        id="simulated",
        partners=partners,
        email=values.get("email") or None,
        wedding_date=wedding,
        venue=values.get("venue") or None,
    )
    started = _date(values.get("start", ""), "start", errors)
    start_at = datetime.combine(started, _START_HOUR, zone) if started else None
    horizon = values.get("horizon_days", "365") or "365"
    if not horizon.isdigit() or not 1 <= int(horizon) <= 3660:
        errors.append("horizon_days: a whole number of days from 1 to 3660")
        horizon = "365"
    script: list[ScriptedEvent] = []
    for row in range(1, EVENT_ROWS + 1):
        kind = values.get(f"event{row}_type", "")
        when = values.get(f"event{row}_at", "")
        if not kind and not when:
            continue
        if not kind or not when:
            errors.append(f"event{row}: give both what happens and when")
            continue
        try:
            at = datetime.fromisoformat(when).replace(tzinfo=zone)
        except ValueError:
            errors.append(f"event{row}_at: a date and time")
            continue
        script.append(ScriptedEvent(at=at, type=kind))
    form = SimulationForm(
        values=values,
        version=version,
        contact=contact,
        start_at=start_at,
        horizon_days=int(horizon),
        script=sorted(script, key=lambda e: e.at),
        wedding_date=wedding,
    )
    return form, errors


def _rows(timeline: Timeline, labels: Mapping[str, str], zone: ZoneInfo) -> list[dict[str, str]]:
    """The timeline as lines a person reads: when (studio time), what, which step."""
    return [
        {
            "at": entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "kind": entry.kind,
            "step": labels.get(entry.step_id, entry.step_id) if entry.step_id else "",
            "message": entry.message,
        }
        for entry in timeline.entries
        if entry.kind not in ("edge", "ignored")
    ]


@get("/journeys/{journey_id:str}/simulate", name="dashboard:journey-simulate")
async def simulate_page(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """The form; with ``run`` in the query, the predicted timeline under it."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        journey = await canvas(call).journey(journey_id)
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    zone = ZoneInfo(session.organization.timezone)
    query = {k: str(v) for k, v in request.query_params.items()}
    form, errors = read_simulation_form(query, zone)
    picture = ""
    rows: list[dict[str, str]] = []
    outcome = ""
    if "run" in query and not errors:
        try:
            timeline = await Simulation(call.runtime, call.scope, call.caller).run(
                journey.id,
                version=form.version,
                contact=form.contact,
                script=form.script,
                start_at=form.start_at,
                horizon=timedelta(days=form.horizon_days),
            )
        except REFUSALS as exc:
            errors = refusal_text(exc)
        else:
            graph = journey.draft
            if form.version == "live" and journey.live_version is not None:
                graph = (await call.scope.journeys.version(journey.id, journey.live_version)).graph
            labels = {s.id: s.label or s.id for s in graph.steps}
            picture = render_timeline(
                timeline_points(timeline.entries, labels),
                start=timeline.start_at,
                end=timeline.end_at,
                wedding_date=form.wedding_date,
                zone=zone,
                title=f"Predicted timeline: {journey.name}",
            )
            rows = _rows(timeline, labels, zone)
            outcome = timeline.state.status
    today = call.store.clock.now().astimezone(zone).date().isoformat()
    return page(
        request,
        "journey_simulate.html",
        session=session,
        active="journeys",
        status_code=422 if errors else 200,
        journey=journey,
        values={"start": today, "horizon_days": "365", **form.values},
        event_rows=range(1, EVENT_ROWS + 1),
        errors=errors,
        picture=picture,
        rows=rows,
        outcome=outcome,
    )


JOURNEY_SIMULATE_HANDLERS = (simulate_page,)
