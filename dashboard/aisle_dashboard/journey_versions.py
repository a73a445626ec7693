"""A journey's versions: the list, a visual diff between two of them (or a version and
the draft: changed steps highlighted on the graph), rollback, the impact of a
target version on the couples sitting in the journey now, and migrating them to it.

Versions and rollback come from the lifecycle service; the diff is the API's
(``diff_graphs``) drawn by :func:`~aisle_dashboard.svg.diff_view`; the impact counts
are the enrollments' step counts the API's ``GET …/impact`` reads.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

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
    return await _impact_page(request, journey_id, str(request.query_params.get("to", "draft")))


async def _impact_page(
    request: Request[Any, Any, Any],
    journey_id: str,
    to_ref: str,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str = "",
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
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
    to_version = _version_number(journey, to_ref)
    return page(
        request,
        "journey_impact.html",
        session=session,
        active="journeys",
        status_code=status_code,
        journey=journey,
        to_ref=to_ref,
        to_version=to_version,
        rows=rows,
        active_couples=sum(r.couples for r in rows),
        sources=sorted({r.version for r in rows if r.version != to_version}),
        removed=sorted({r.step_id for r in rows if r.impact == "removed"}),
        target_steps=[(s.id, s.label or s.id) for s in target.steps],
        errors=errors or [],
        notice=notice or str(request.query_params.get("notice", "")),
    )


def _version_number(journey: Journey, ref: str) -> int | None:
    """The published version ``ref`` names (couples move only to a published one)."""
    if ref == "live":
        return journey.live_version
    return int(ref) if ref.isdigit() else None


@post("/journeys/{journey_id:str}/migrate", status_code=303)
async def migrate(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """Move the active couples of one version to another (admins), through the same
    lifecycle service as the API's ``POST …/migrate``; removed steps are mapped by the
    form's ``map.<step id>`` fields."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    form = await request.form()
    from_version = str(form.get("from_version", ""))
    to_version = str(form.get("to_version", ""))
    wrong = [
        f"{name}: choose a published version"
        for name, value in (("from_version", from_version), ("to_version", to_version))
        if not value.isdigit() or not 1 <= int(value) < 2**31
    ]
    if wrong:
        return await _impact_page(
            request, journey_id, to_version or "draft", status_code=422, errors=wrong
        )
    mapping = {
        key.removeprefix("map."): str(value)
        for key, value in form.items()
        if key.startswith("map.") and value
    }
    try:
        plan = await lifecycle(call_for(request, session)).migrate(
            journey_id,
            from_version=int(from_version),
            to_version=int(to_version),
            step_mapping=mapping,
        )
    except REFUSALS as exc:
        return await _impact_page(
            request, journey_id, to_version, status_code=422, errors=refusal_text(exc)
        )
    moved = len(plan.moved)
    notice = (
        f"Moved {moved} couple{'' if moved == 1 else 's'} "
        f"from version {from_version} to version {to_version}."
    )
    return Redirect(
        journey_url(journey_id, "/impact?" + urlencode({"to": to_version, "notice": notice})),
        status_code=303,
    )


JOURNEY_VERSION_HANDLERS = (versions, rollback, impact, migrate)
