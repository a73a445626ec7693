"""A journey's versions: the list, a visual diff between two of them (or a version and
the draft: changed steps highlighted on the graph), rollback, and the impact of a
target version on the couples sitting in the journey now, before migrating them.

Versions and rollback come from the lifecycle service; the diff is the API's
(``diff_graphs``) drawn by :func:`~aisle_dashboard.svg.diff_view`; the impact counts
are the enrollments' step counts the API's ``GET …/impact`` reads.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.context import ApiCall
from aisle.canvas.graph_paths import diff_graphs
from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey
from aisle_dashboard.journey_call import (
    REFUSALS,
    call_for,
    canvas,
    lifecycle,
    refusal_text,
    refused_page,
)
from aisle_dashboard.journey_page import journey_url
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in
from aisle_dashboard.svg import diff_view, render_journey_graph

__all__ = ["JOURNEY_VERSION_HANDLERS", "StepImpact", "impact_of"]

_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
_REF = re.compile(r"^(draft|live|[1-9][0-9]{0,8})$")


class StepImpact:
    """Couples on one step of one version, and what the target does to that step."""

    def __init__(
        self, version: int, step_id: str, label: str, couples: int, impact: str, fields: list[str]
    ) -> None:
        self.version = version
        self.step_id = step_id
        self.label = label
        self.couples = couples
        self.impact = impact
        self.fields = fields


def impact_of(
    counts: dict[tuple[int, str | None, str], int], graphs: dict[int, Graph], target: Graph
) -> list[StepImpact]:
    """For each step with active couples: kept as is, changed (the step or its outgoing
    edges), or removed in ``target`` (those couples need a mapping to migrate)."""
    rows: list[StepImpact] = []
    for (version, step_id, status), n in sorted(
        counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        if status != "active" or step_id is None or version not in graphs:
            continue
        old = graphs[version]
        step = old.step(step_id)
        outgoing = {e.id for e in (*old.edges, *target.edges) if e.source == step_id}
        fields = [
            f"{change.kind}/{change.id}/{'/'.join(change.prop)}".rstrip("/")
            for change in diff_graphs(old, target)
            if (change.kind == "nodes" and change.id == step_id)
            or (change.kind == "edges" and change.id in outgoing)
        ]
        impact = "removed" if target.step(step_id) is None else "changed" if fields else "unchanged"
        rows.append(StepImpact(version, step_id, step.label if step else "", n, impact, fields))
    return rows


async def _graph(call: ApiCall, journey: Journey, ref: str, name: str) -> Graph:
    return await lifecycle(call).graph_at(journey, ref, name)


@get("/journeys/{journey_id:str}/versions", name="dashboard:journey-versions")
async def versions(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        journey = await canvas(call).journey(journey_id)
        published = await call.scope.journeys.versions(journey.id)
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    default_from = str(journey.live_version) if journey.live_version else "draft"
    from_ref = str(request.query_params.get("from", default_from))
    to_ref = str(request.query_params.get("to", "draft"))
    errors: list[str] = []
    picture = ""
    if not (_REF.match(from_ref) and _REF.match(to_ref)):
        errors.append("from, to: a version number, live or draft")
    else:
        try:
            old = await _graph(call, journey, from_ref, "from")
            new = await _graph(call, journey, to_ref, "to")
            union, marks = diff_view(old, new)
            picture = render_journey_graph(
                union,
                title=f"{journey.name}: {from_ref} → {to_ref}",
                node_types=call.registry.node_types,
                trigger_types=call.registry.trigger_types,
                diff=marks,
                id_prefix="diff",
            )
        except REFUSALS as exc:
            errors = refusal_text(exc)
    return page(
        request,
        "journey_versions.html",
        session=session,
        active="journeys",
        status_code=422 if errors else 200,
        journey=journey,
        versions=sorted(published, key=lambda v: -v.version),
        from_ref=from_ref,
        to_ref=to_ref,
        picture=picture,
        errors=errors,
    )


@post("/journeys/{journey_id:str}/rollback", status_code=303)
async def rollback(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """Publish an old version again (the lifecycle service checks it can still run)."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    form = await request.form()
    version = str(form.get("version", ""))
    if not version.isdigit():
        return page(
            request,
            "journey_refused.html",
            status_code=422,
            session=session,
            errors=["version: choose a version"],
        )
    try:
        published, _ = await lifecycle(call_for(request, session)).rollback(
            journey_id, int(version), str(form.get("note", ""))[:2000]
        )
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    return Redirect(
        journey_url(journey_id, f"?notice=published-{published.version}"), status_code=303
    )


@get("/journeys/{journey_id:str}/impact", name="dashboard:journey-impact")
async def impact(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """Where the couples are now, and what publishing ``to`` would do to their steps."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    to_ref = str(request.query_params.get("to", "draft"))
    if not _REF.match(to_ref):
        to_ref = "draft"
    try:
        journey = await canvas(call).journey(journey_id)
        target = await _graph(call, journey, to_ref, "to")
        counts = await call.scope.enrollments.step_counts(journey.id)
        graphs = {
            v: (await call.scope.journeys.version(journey.id, v)).graph
            for v in {version for version, _, status in counts if status == "active"}
        }
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    rows = impact_of(counts, graphs, target)
    return page(
        request,
        "journey_impact.html",
        session=session,
        active="journeys",
        journey=journey,
        to_ref=to_ref,
        rows=rows,
        active_couples=sum(r.couples for r in rows),
    )


JOURNEY_VERSION_HANDLERS = (versions, rollback, impact)
