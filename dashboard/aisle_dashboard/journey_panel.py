"""A step's side panel: what it is and who is at it; for editors, its edit form.

Opening the panel takes the step's edit lock (the collaboration lock service, as the
API's ``POST …/locks``); another editor is told who holds it and until when. Saving
is a canvas flow operation carrying the lock's fencing token; closing releases the
lock. As the form is typed, the step is checked (the API's validation, then its step
preview: templates rendered for a sample couple).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.context import ApiCall
from aisle.api.previews import decode_action_config, render_preview
from aisle.api.routes.lifecycle import runnable
from aisle.canvas.flow_ops import OpBatch, UpdateNode
from aisle.collab import LockService, LockTarget
from aisle.domain.journey import Graph, Step
from aisle.domain.journey_record import Journey
from aisle.domain.organization import studio_view
from aisle.services.errors import Refused
from aisle.services.readiness import sample_couple, step_actions
from aisle.services.refusals import refusal
from aisle.services.stats import JourneyStatistics
from aisle_dashboard.journey_call import (
    REFUSALS,
    call_for,
    canvas,
    collaboration,
    lifecycle,
    refusal_text,
)
from aisle_dashboard.journey_form import config_fields, node_schema, read_config, trigger_schema
from aisle_dashboard.paths import BASE
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = [
    "JOURNEY_PANEL_HANDLERS",
    "panel_fragment",
    "panel_step",
    "step_form_context",
    "with_step_edits",
]

_NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)
_CHANGED = {"HX-Trigger": "journey-changed"}


def _locks(call: ApiCall) -> LockService:
    return LockService(collaboration(call), call.scope, call.caller)


def _target(step_id: str) -> list[LockTarget]:
    return [LockTarget("node", step_id)]


def with_step_edits(graph: Graph, step_id: str, label: str, patch: Mapping[str, Any]) -> Graph:
    """``graph`` with the step's label and config changed as the form says (a merge
    patch: ``None`` removes a key), for checking before anything is saved."""
    steps = []
    for step in graph.steps:
        if step.id == step_id:
            config = {k: v for k, v in {**step.config, **patch}.items() if v is not None}
            step = msgspec.structs.replace(step, label=label, config=config)
        steps.append(step)
    return msgspec.structs.replace(graph, steps=tuple(steps))


async def panel_step(
    request: Request[Any, Any, Any], journey_id: str, step_id: str
) -> tuple[ApiCall, Journey, Step] | Response[Any]:
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        journey = await canvas(call).journey(journey_id)
    except REFUSALS as exc:
        return panel_fragment(
            request,
            call,
            "journey_panel_error.html",
            errors=refusal_text(exc),
            status_code=refusal(exc)[0],
        )
    step = journey.draft.step(step_id)
    if step is None:
        return panel_fragment(
            request,
            call,
            "journey_panel_error.html",
            status_code=404,
            errors=[f"this journey has no step {step_id!r} (it was removed?)"],
        )
    return call, journey, step


def panel_fragment(
    request: Request[Any, Any, Any],
    call: ApiCall,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response[Any]:
    response = page(request, template, status_code=status_code, **context)
    response.headers.update(headers or {})
    return response


def step_form_context(call: ApiCall, journey: Journey, step: Step) -> dict[str, Any]:
    """What the step's edit form shows: its fields, and each edge leading on from it
    with its trigger's fields (edited and removed under the same lock)."""
    schema = node_schema(call, step.type)
    return {
        "journey": journey,
        "step": step,
        "fields": config_fields(schema, step.config),
        "edges": [
            (edge, config_fields(trigger_schema(call, edge.trigger), edge.config))
            for edge in journey.draft.outgoing(step.id)
        ],
        "step_choices": [(s.id, s.label or s.id) for s in journey.draft.steps],
    }


@get("/journeys/{journey_id:str}/steps/{step_id:str}/panel", name="dashboard:step-panel")
async def step_panel(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """The panel (read only; an editor's copy asks for the lock as it loads)."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    session = await signed_in(request)
    counts = await JourneyStatistics(call.scope).at_each_step(journey.id)
    issues = [
        i
        for i in canvas(call).draft_issues(journey)
        if i.node_id == step.id or step.id in i.related
    ]
    node_type = call.registry.node_types.get(step.type)
    me = call.caller.user_id or f"token:{call.caller.token_id}"
    try:
        leases = await _locks(call).leases(journey.id)
    except REFUSALS:
        leases = []  # collaboration not running here: the lock request will say so
    # Someone else's lock is said at once, rather than asked for and refused.
    held_by = next(
        (
            lock
            for lock in leases
            if lock.mode == "edit" and lock.target == _target(step.id)[0] and lock.holder != me
        ),
        None,
    )
    return page(
        request,
        "journey_panel.html",
        held_by=held_by,
        session=session,
        **step_form_context(call, journey, step),
        type_label=(node_type.label or node_type.name) if node_type else step.type,
        at_step=counts.get(step.id, 0),
        issues=issues,
        outgoing=journey.draft.outgoing(step.id),
    )


@post("/journeys/{journey_id:str}/steps/{step_id:str}/lock", status_code=200)
async def lock_step(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """Take the step's edit lock and answer with its edit form (or who holds it)."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    try:
        acquired = await _locks(call).acquire(journey.id, _target(step.id), mode="edit")
    except REFUSALS as exc:
        return panel_fragment(
            request,
            call,
            "journey_panel_error.html",
            status_code=refusal(exc)[0],
            errors=refusal_text(exc),
        )
    lock = acquired.granted[0]
    return panel_fragment(
        request,
        call,
        "journey_step_form.html",
        **step_form_context(call, journey, step),
        fence=lock.fencing_token,
        expires_at=lock.expires_at,
        errors=[],
        notice="",
    )


@post("/journeys/{journey_id:str}/steps/{step_id:str}/save", status_code=200)
async def save_step(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """Save the form as one flow operation, fenced by the lock's token."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    form = await request.form()
    label = str(form.get("label", "")).strip()[:200]
    fence = str(form.get("fence", ""))
    base = str(form.get("revision", ""))
    patch, errors = read_config(node_schema(call, step.type), form)
    if not label:
        errors.insert(0, "label: give the step a name")
    if not fence.isdigit() or not base.isdigit():
        errors.append("the edit lock is missing: close the panel and open it again")
    saved = journey
    if not errors:
        op = UpdateNode(
            id=f"edit:{secrets.token_hex(8)}", node_id=step.id, label=label, config=patch
        )
        batch = OpBatch(
            base_revision=int(base), ops=[op], atomic=True, fences={f"node:{step.id}": int(fence)}
        )
        try:
            outcome = await canvas(call).apply_ops(journey.id, batch)
            saved = await canvas(call).journey(journey.id)
        except REFUSALS as exc:
            errors = refusal_text(exc)
        else:
            if outcome.rejected:
                errors = [
                    "someone changed this step meanwhile; their version is kept: "
                    "close the panel and open it again"
                ]
    status_code = 200 if not errors else 409 if fence.isdigit() else 422
    shown = saved.draft.step(step.id) or step
    context = step_form_context(call, saved, shown)
    if errors:
        # Keep what was typed, so nothing is lost.
        context["step"] = msgspec.structs.replace(step, label=label or step.label)
        context["fields"] = config_fields(
            node_schema(call, step.type),
            {k: v for k, v in {**step.config, **patch}.items() if v is not None},
        )
        context["journey"] = journey
    return panel_fragment(
        request,
        call,
        "journey_step_form.html",
        status_code=status_code,
        headers=None if errors else _CHANGED,
        **context,
        fence=int(fence) if fence.isdigit() else 0,
        expires_at=None,
        errors=errors,
        notice="" if errors else "Saved.",
    )


@post("/journeys/{journey_id:str}/steps/{step_id:str}/release", status_code=200)
async def release_step(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """Close the panel: give the edit lock back."""
    session = await signed_in(request)
    if session is None:
        return _NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        await _locks(call).release(journey_id, _target(step_id), mode="edit")
    except REFUSALS as exc:
        return panel_fragment(
            request,
            call,
            "journey_panel_error.html",
            status_code=refusal(exc)[0],
            errors=refusal_text(exc),
        )
    return panel_fragment(request, call, "journey_panel_closed.html", journey_id=journey_id)


async def _previews(
    call: ApiCall, journey: Journey, graph: Graph, step_id: str
) -> list[dict[str, Any]]:
    """What the step would send for a sample couple, as the API's step preview renders
    it; 422 refusals name the template field at fault."""
    org = await call.runtime.organization(call.caller.organization_id)
    compiled = runnable(call, graph, journey.id, 0, org.timezone, "cannot preview")
    contact = sample_couple(call.store.clock.now().date())
    planned = step_actions(compiled, step_id, contact, call.store.clock.now())
    shown: list[dict[str, Any]] = []
    for key, action in planned:
        executor = call.registry.action_executors.get(action.executor)
        if executor is None or executor.preview is None:
            shown.append({"key": key, "executor": action.executor, "rendered": None})
            continue
        config = decode_action_config(executor, action.config, node_id=step_id)
        rendered = await render_preview(
            executor,
            config,
            contact.activation(),
            studio_view(org),
            organization=org.id,
            node_id=step_id,
        )
        shown.append({"key": key, "executor": action.executor, "rendered": rendered})
    return shown


@post("/journeys/{journey_id:str}/steps/{step_id:str}/check", status_code=200)
async def check_step(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """The form's values checked without saving: the journey's validation (CEL
    conditions compile, required settings, readiness) for this step, then a preview."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    form = await request.form()
    patch, errors = read_config(node_schema(call, step.type), form)
    label = str(form.get("label", "")).strip() or step.label
    graph = with_step_edits(journey.draft, step.id, label, patch)
    outgoing = {e.id for e in graph.edges if e.source == step.id}
    issues = [
        i
        for i in await lifecycle(call).issues(journey.id, graph)
        if i.node_id == step.id or i.edge_id in outgoing or step.id in i.related
    ]
    previews: list[dict[str, Any]] = []
    preview_errors: list[str] = []
    if not errors:
        try:
            previews = await _previews(call, journey, graph, step.id)
        except Refused as exc:
            preview_errors = refusal_text(exc)
    return panel_fragment(
        request,
        call,
        "journey_check.html",
        errors=errors,
        issues=issues,
        previews=previews,
        preview_errors=preview_errors,
    )


JOURNEY_PANEL_HANDLERS = (step_panel, lock_step, save_step, release_step, check_step)
