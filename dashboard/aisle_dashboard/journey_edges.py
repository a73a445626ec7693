"""Changing a step's way on and removing things, from its side panel while its edit lock
is held: an edge leading on from the step edited (where it goes, its label, its
trigger's settings) or removed, and the step itself removed (its edges go with it).

Each change is one canvas flow operation on the revision the panel showed, carrying
the step lock's fencing token, exactly as saving the step does.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.context import ApiCall
from aisle.canvas.flow_ops import FlowOp, OpBatch, RemoveEdge, RemoveNode, UpdateEdge
from aisle.collab import LockService, LockTarget
from aisle.domain.journey import Step
from aisle.domain.journey_record import Journey
from aisle_dashboard.journey_call import REFUSALS, canvas, collaboration, refusal_text
from aisle_dashboard.journey_form import read_config, trigger_schema
from aisle_dashboard.journey_page import journey_url
from aisle_dashboard.journey_panel import panel_fragment, panel_step, step_form_context

__all__ = ["JOURNEY_EDGE_HANDLERS"]

_CHANGED = {"HX-Trigger": "journey-changed"}
_CONFLICT = (
    "someone changed this journey meanwhile; their version is kept: "
    "close the panel and open it again"
)


async def _apply(
    call: ApiCall, journey: Journey, step: Step, form: FormMultiDict, op: FlowOp
) -> list[str]:
    """Apply ``op`` fenced by the panel's lock on ``step``; what went wrong, if anything."""
    fence = str(form.get("fence", ""))
    base = str(form.get("revision", ""))
    if not fence.isdigit() or not base.isdigit():
        return ["the edit lock is missing: close the panel and open it again"]
    batch = OpBatch(
        base_revision=int(base), ops=[op], atomic=True, fences={f"node:{step.id}": int(fence)}
    )
    target = LockTarget("node", step.id)
    try:
        # Edges carry no lock of their own: the step's lock, still held with this very
        # token, is what lets its ways on change (a 409 when it lapsed or went to
        # someone else).
        await LockService(collaboration(call), call.scope, call.caller).renew(
            journey.id, [target], mode="edit", tokens={target: int(fence)}
        )
        outcome = await canvas(call).apply_ops(journey.id, batch)
    except REFUSALS as exc:
        return refusal_text(exc)
    return [_CONFLICT] if outcome.rejected else []


async def _form_after(
    request: Request[Any, Any, Any],
    call: ApiCall,
    journey: Journey,
    step: Step,
    form: FormMultiDict,
    errors: list[str],
    notice: str,
) -> Response[Any]:
    """The step's edit form again, as the journey is now (the lock is still held)."""
    fence = str(form.get("fence", ""))
    now = journey if errors else await canvas(call).journey(journey.id)
    return panel_fragment(
        request,
        call,
        "journey_step_form.html",
        status_code=422 if errors else 200,
        headers=None if errors else _CHANGED,
        **step_form_context(call, now, now.draft.step(step.id) or step),
        fence=int(fence) if fence.isdigit() else 0,
        expires_at=None,
        errors=errors,
        notice=notice,
    )


@post("/journeys/{journey_id:str}/steps/{step_id:str}/edges/{edge_id:str}/save", status_code=200)
async def save_edge(
    request: Request[Any, Any, Any],
    journey_id: FromPath[str],
    step_id: FromPath[str],
    edge_id: FromPath[str],
) -> Response[Any]:
    """Where an edge leading on from the step goes, its label and its trigger's settings."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    form = await request.form()
    edge = next((e for e in journey.draft.outgoing(step.id) if e.id == edge_id), None)
    if edge is None:
        return await _form_after(
            request, call, journey, step, form, [f"{step.id} has no edge {edge_id!r}"], ""
        )
    target = str(form.get("target", ""))
    patch, errors = read_config(trigger_schema(call, edge.trigger), form)
    if journey.draft.step(target) is None:
        errors.insert(0, "target: choose a step")
    if not errors:
        op = UpdateEdge(
            id=f"edit-edge:{secrets.token_hex(8)}",
            edge_id=edge.id,
            target=target,
            label=str(form.get("label", "")).strip()[:200],
            config=patch,
        )
        errors = await _apply(call, journey, step, form, op)
    return await _form_after(request, call, journey, step, form, errors, "Way on saved.")


@post("/journeys/{journey_id:str}/steps/{step_id:str}/edges/{edge_id:str}/remove", status_code=200)
async def remove_edge(
    request: Request[Any, Any, Any],
    journey_id: FromPath[str],
    step_id: FromPath[str],
    edge_id: FromPath[str],
) -> Response[Any]:
    """Remove an edge leading on from the step."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    form = await request.form()
    if not any(e.id == edge_id for e in journey.draft.outgoing(step.id)):
        errors = [f"{step.id} has no edge {edge_id!r}"]
    else:
        op = RemoveEdge(id=f"remove-edge:{secrets.token_hex(8)}", edge_id=edge_id)
        errors = await _apply(call, journey, step, form, op)
    return await _form_after(request, call, journey, step, form, errors, "Way on removed.")


@post("/journeys/{journey_id:str}/steps/{step_id:str}/remove", status_code=303)
async def remove_step(
    request: Request[Any, Any, Any], journey_id: FromPath[str], step_id: FromPath[str]
) -> Response[Any]:
    """Remove the step and its edges; back to the journey page (htmx: as a redirect)."""
    found = await panel_step(request, journey_id, step_id)
    if isinstance(found, Response):
        return found
    call, journey, step = found
    form = await request.form()
    op = RemoveNode(id=f"remove-step:{secrets.token_hex(8)}", node_id=step.id)
    errors = await _apply(call, journey, step, form, op)
    if errors:
        return await _form_after(request, call, journey, step, form, errors, "")
    notice = f"Removed {step.label or step.id}."
    location = journey_url(journey.id, "?" + urlencode({"notice": notice}))
    if request.headers.get("HX-Request"):
        return Response("", status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


JOURNEY_EDGE_HANDLERS = (save_edge, remove_edge, remove_step)
