"""A journey's page: its draft drawn as a graph (couples at each step now, validation
problems marked), the steps listed, adding and connecting steps, publishing.

Changes go through the canvas service's flow operations and the lifecycle service, as
the API's do; the page then answers with a redirect back to itself (a reload does not
post again) or, for htmx, the part that changed.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.context import ApiCall
from aisle.canvas.flow_ops import AddEdge, AddNode, FlowOp, OpBatch
from aisle.canvas.reactflow import FlowEdge, FlowNode, XYPosition
from aisle.canvas.service import JourneyChanges
from aisle.domain.journey_record import Journey
from aisle.services.stats import JourneyStatistics
from aisle_dashboard.journey_call import (
    REFUSALS,
    call_for,
    canvas,
    lifecycle,
    refusal_text,
    refused_page,
)
from aisle_dashboard.journey_form import config_fields, read_config, trigger_schema
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in
from aisle_dashboard.svg import render_journey_graph

__all__ = ["JOURNEY_PAGE_HANDLERS", "graph_svg", "journey_url", "new_step_id"]

_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
_SLUG = re.compile(r"[^a-z0-9]+")
_GAP = 140.0
"""Vertical room given to a new step below the lowest one (the picture lays itself out;
the position is for canvases that draw where the nodes say)."""


def journey_url(journey_id: str, suffix: str = "") -> str:
    return f"{BASE}/journeys/{journey_id}{suffix}"


def new_step_id(label: str, taken: set[str]) -> str:
    """A readable id for a new step (its label in snake case), unique in the draft."""
    base = _SLUG.sub("_", label.casefold()).strip("_")[:40] or "step"
    candidate = base
    while candidate in taken:
        candidate = f"{base}_{secrets.token_hex(2)}"
    return candidate


async def graph_svg(call: ApiCall, journey: Journey) -> str:
    """The draft as a picture: couples at each step now, problems marked, each step a
    link opening its panel."""
    counts = await JourneyStatistics(call.scope).at_each_step(journey.id)
    registry = call.registry
    return render_journey_graph(
        journey.draft,
        title=journey.name,
        node_types=registry.node_types,
        trigger_types=registry.trigger_types,
        counts=counts,
        issues=canvas(call).draft_issues(journey),
        step_href=lambda step_id: journey_url(journey.id, f"?step={step_id}#step-panel"),
    )


async def _journey_page(
    request: Request[Any, Any, Any],
    journey_id: str,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str = "",
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    service = canvas(call)
    try:
        journey = await service.journey(journey_id)
        picture = await graph_svg(call, journey)
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    registry = call.registry
    step_id = str(request.query_params.get("step", ""))
    selected = journey.draft.step(step_id) if step_id else None
    trigger = str(request.query_params.get("trigger", "immediate"))
    return page(
        request,
        "journey.html",
        session=session,
        active="journeys",
        status_code=status_code,
        journey=journey,
        graph=picture,
        issues=service.draft_issues(journey),
        node_types=sorted(registry.node_types.values(), key=lambda t: t.label or t.name),
        trigger_types=sorted(registry.trigger_types.values(), key=lambda t: t.label or t.name),
        trigger=trigger,
        trigger_fields=config_fields(trigger_schema(call, trigger), {}),
        selected=selected,
        errors=errors or [],
        notice=notice or str(request.query_params.get("notice", "")),
    )


@get("/journeys/{journey_id:str}", name="dashboard:journey")
async def journey_page(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    return await _journey_page(request, journey_id)


@get("/journeys/{journey_id:str}/graph", name="dashboard:journey-graph")
async def journey_graph(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """The picture alone (htmx refreshes it as couples move and the draft changes)."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        journey = await canvas(call).journey(journey_id)
        picture = await graph_svg(call, journey)
    except REFUSALS as exc:
        return refused_page(request, session, exc)
    return page(request, "journey_graph.html", session=session, journey=journey, graph=picture)


@get("/journeys/{journey_id:str}/trigger-fields", name="dashboard:trigger-fields")
async def trigger_fields(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """The settings inputs of one trigger type (the connect form swaps them in)."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    trigger = str(request.query_params.get("trigger", ""))
    return page(
        request,
        "journey_fields.html",
        session=session,
        fields=config_fields(trigger_schema(call, trigger), {}),
        prefix="config.",
        id_prefix="edge-config",
        readonly=False,
    )


async def _apply(call: ApiCall, journey: Journey, ops: list[FlowOp]) -> list[str]:
    """Apply ``ops`` on the revision the page showed; what went wrong, if anything."""
    outcome = await canvas(call).apply_ops(
        journey.id, OpBatch(base_revision=journey.revision, ops=ops, atomic=True)
    )
    if outcome.rejected:
        return [f"{len(outcome.rejected)} change(s) conflict with edits made meanwhile"]
    return []


@post("/journeys/{journey_id:str}/steps", status_code=303)
async def add_step(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """A new step of the chosen type; the first step of a journey becomes its start."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    form = await request.form()
    node_type = str(form.get("type", ""))
    label = str(form.get("label", "")).strip()[:200]
    call = call_for(request, session)
    if node_type not in call.registry.node_types:
        return await _journey_page(
            request, journey_id, status_code=422, errors=["type: choose a type of step"]
        )
    if not label:
        return await _journey_page(
            request, journey_id, status_code=422, errors=["label: give the step a name"]
        )
    service = canvas(call)
    try:
        journey = await service.journey(journey_id)
        draft = journey.draft
        step_id = new_step_id(label, {s.id for s in draft.steps})
        lowest = max((s.position.y for s in draft.steps), default=-_GAP)
        node = FlowNode(
            id=step_id,
            position=XYPosition(x=0.0, y=lowest + _GAP),
            type=node_type,
            data={"label": label, "config": {}},
        )
        errors = await _apply(call, journey, [AddNode(id=f"add:{secrets.token_hex(8)}", node=node)])
        if not errors and draft.settings.start_step is None:
            journey = await service.journey(journey_id)
            settings = msgspec.structs.replace(journey.draft.settings, start_step=step_id)
            await service.update_journey(
                journey_id, JourneyChanges(settings=settings), fields=["settings"]
            )
    except REFUSALS as exc:
        return await _journey_page(request, journey_id, status_code=422, errors=refusal_text(exc))
    if errors:
        return await _journey_page(request, journey_id, status_code=409, errors=errors)
    return Redirect(journey_url(journey_id, f"?step={step_id}#step-panel"), status_code=303)


@post("/journeys/{journey_id:str}/edges", status_code=303)
async def connect_steps(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """An edge from one step to another, moved along by the chosen trigger."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    form = await request.form()
    source = str(form.get("source", ""))
    target = str(form.get("target", ""))
    trigger = str(form.get("trigger", ""))
    call = call_for(request, session)
    schema = trigger_schema(call, trigger)
    if not schema:
        return await _journey_page(
            request, journey_id, status_code=422, errors=["trigger: choose what moves couples on"]
        )
    config, errors = read_config(schema, form)
    if errors:
        return await _journey_page(request, journey_id, status_code=422, errors=errors)
    try:
        journey = await canvas(call).journey(journey_id)
        known = {s.id for s in journey.draft.steps}
        wrong = [
            f"{name}: choose a step"
            for name, v in (("source", source), ("target", target))
            if v not in known
        ]
        if wrong:
            return await _journey_page(request, journey_id, status_code=422, errors=wrong)
        edge = FlowEdge(
            id=f"{source}__{target}__{secrets.token_hex(2)}",
            source=source,
            target=target,
            data={
                "trigger": trigger,
                "config": {k: v for k, v in config.items() if v is not None},
            },
        )
        errors = await _apply(
            call, journey, [AddEdge(id=f"connect:{secrets.token_hex(8)}", edge=edge)]
        )
    except REFUSALS as exc:
        return await _journey_page(request, journey_id, status_code=422, errors=refusal_text(exc))
    if errors:
        return await _journey_page(request, journey_id, status_code=409, errors=errors)
    return Redirect(journey_url(journey_id, "?notice=connected"), status_code=303)


@post("/journeys/{journey_id:str}/publish", status_code=303)
async def publish(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    """Publish the draft as the next version (the service refuses, naming each problem,
    when it cannot run)."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    note = str((await request.form()).get("note", ""))[:2000]
    try:
        version, _ = await lifecycle(call_for(request, session)).publish(journey_id, note)
    except REFUSALS as exc:
        return await _journey_page(request, journey_id, status_code=422, errors=refusal_text(exc))
    return Redirect(
        journey_url(journey_id, f"?notice=published-{version.version}"), status_code=303
    )


JOURNEY_PAGE_HANDLERS = (
    journey_page,
    journey_graph,
    trigger_fields,
    add_step,
    connect_steps,
    publish,
)
