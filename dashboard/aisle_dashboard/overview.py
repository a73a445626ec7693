"""The overview: the studio's day in a few numbers (each a link to the page listing
them), the action runs of the last 14 days as a chart, and every journey with its
enrollments and failures as :class:`~aisle.services.stats.JourneyStatistics` counts
them for the API (a completed enrollment with dead runs is said to have them); the
latest log entries, with names in place of ids."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get

from aisle.crm.connections import ConnectionService
from aisle.crm.deps import CRMDeps
from aisle.domain.crm_connection import CRMConnection
from aisle.services.sessions import Session
from aisle.services.stats import JourneyStatistics, JourneySummary
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN
from aisle_dashboard.log import log_row
from aisle_dashboard.nav import NAV
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in
from aisle_dashboard.svg import render_runs_chart

__all__ = ["OVERVIEW_HANDLERS", "Figure", "JourneyRow", "journey_rows", "needs_attention"]

_CHART_DAYS = 14
_LATEST = 10
_TROUBLED = frozenset({"failed", "partial"})


@dataclass(frozen=True)
class JourneyRow:
    id: str
    name: str
    status: str
    version: int | None
    active: int
    completed: int
    total: int
    completed_with_failures: int
    """Of the completed, those with a dead action run: they did not do everything."""
    failed_actions: int


@dataclass(frozen=True)
class Figure:
    """One headline number, what it counts and the page that lists it."""

    key: str
    label: str
    value: int
    href: str
    alarm: bool = False
    note: str = ""


def journey_rows(summaries: Iterable[JourneySummary]) -> list[JourneyRow]:
    """One row per journey, in the order given (the service's: by name)."""
    return [
        JourneyRow(
            id=s.id,
            name=s.name,
            status=s.status,
            version=s.version,
            active=s.outcomes.enrollments["active"],
            completed=s.outcomes.enrollments["completed"],
            total=sum(s.outcomes.enrollments.values()),
            completed_with_failures=s.outcomes.with_failed_actions["completed"],
            failed_actions=s.outcomes.failed_actions,
        )
        for s in summaries
    ]


def needs_attention(connection: CRMConnection) -> bool:
    """An enabled connection whose last sync failed (or partly) or left an error."""
    return connection.enabled and (connection.status in _TROUBLED or bool(connection.last_error))


def _crm_href() -> str:
    """The CRM page when the dashboard has one, else the log's CRM entries."""
    return next((item.href for item in NAV if item.key == "crm"), f"{BASE}/log?kind=crm.")


async def _crm_figure(request: Request[Any, Any, Any], session: Session) -> Figure:
    # The dashboard signs in only with AISLE_SECRET_KEY set: the CRM's cipher is there.
    deps = CRMDeps.of(app_context(request).require_runtime())
    connections = await ConnectionService(deps, session.scope, session).list()
    troubled = [c for c in connections if needs_attention(c)]
    return Figure(
        "crm",
        "CRM connections needing attention",
        len(troubled),
        _crm_href(),
        alarm=bool(troubled),
        note=", ".join(c.name for c in troubled),
    )


@get("/", name="dashboard:overview")
async def overview(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    stats = JourneyStatistics(session.scope)
    timezone = session.organization.timezone
    # Each part reads the whole studio on its own: asked at once, the page waits for the
    # slowest instead of the sum (for 10,000 couples, most of the page's time).
    figures, days, summaries, crm, latest = await asyncio.gather(
        stats.figures(timezone),
        stats.runs_per_day(timezone, days=_CHART_DAYS),
        stats.summaries(),
        _crm_figure(request, session),
        session.scope.log.list(limit=_LATEST),
    )
    names = await StudioReads(session.scope).names(
        contact_ids=[e.contact_id for e in latest], actors=[e.actor for e in latest]
    )
    return page(
        request,
        "overview.html",
        session=session,
        active="overview",
        figures=[
            Figure("journeys", "Live journeys", figures.live_journeys, f"{BASE}/journeys"),
            Figure("couples", "Couples in flight", figures.couples_in_flight, f"{BASE}/couples"),
            Figure(
                "due",
                "Actions due today",
                figures.actions_due_today,
                f"{BASE}/runs?status=pending",
            ),
            Figure(
                "failures",
                "Failures in the last 24 hours",
                figures.failures_last_day,
                f"{BASE}/runs?status=dead",
                alarm=figures.failures_last_day > 0,
            ),
            crm,
        ],
        chart=render_runs_chart(days, title=f"Action runs per day, last {_CHART_DAYS} days"),
        journeys=journey_rows(summaries),
        latest=[log_row(e, names) for e in latest],
    )


OVERVIEW_HANDLERS = (overview,)
