"""Previews: what an action, or a journey step, would send, rendered without sending it.

Any role may preview, viewers included: a preview sends, stores and schedules nothing
(like validation and simulation), and a viewer may already read every contact it can
render for. ``contact_id`` renders for a contact of the caller's organization; without
it a sample couple stands in.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.previews import decode_action_config, render_preview, unsupported
from aisle.api.problems import problem_spec
from aisle.api.routes.lifecycle import graph_at, runnable
from aisle.domain.contact import Contact
from aisle.domain.journey_record import Journey
from aisle.domain.organization import studio_view
from aisle.services.errors import Refused
from aisle.services.readiness import sample_couple, step_actions

__all__ = ["ExecutorPreviewController", "StepPreviewController"]

Id = Annotated[str, Meta(min_length=1, max_length=200)]


class ExecutorPreviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    config: dict[str, Any] = {}
    """The action's config, in the executor's config schema."""
    contact_id: Id | None = None
    """Render for this contact; omitted: for a sample couple."""


class ExecutorPreviewOut(msgspec.Struct, kw_only=True):
    executor: str
    contact_id: str | None
    """The contact rendered for; ``null``: the sample couple."""
    rendered: dict[str, Any]
    """What the executor would send (email: ``subject``, ``text``, ``html``, ``to``…;
    sms: ``body``, ``to``, ``length`` with its ``segments``)."""


class StepPreviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[str, Meta(pattern=r"^(draft|live|[1-9][0-9]{0,8})$")] = "draft"
    """The draft (default), ``live`` or a published version number."""
    contact_id: Id | None = None
    """Render for this contact; omitted: for a sample couple."""


class ActionPreviewOut(msgspec.Struct, kw_only=True):
    key: str
    """Which of the step's actions (a step may request several)."""
    executor: str
    config: dict[str, Any]
    """The config the action run would carry."""
    rendered: dict[str, Any] | None
    """What it would send; ``null`` when its executor has no preview (see ``note``)."""
    note: str = ""


class StepPreviewOut(msgspec.Struct, kw_only=True):
    journey_id: str
    version: str
    step_id: str
    node_type: str
    contact_id: str | None
    """The contact rendered for; ``null``: the sample couple."""
    actions: list[ActionPreviewOut]
    """Empty for a step that sends nothing (a wait, a decision, an end)."""


async def _contact(call: ApiCall, contact_id: str | None) -> Contact:
    if contact_id is not None:
        return await call.scope.contacts.get(contact_id)
    return sample_couple(call.store.clock.now().date())


def _number(version: str, journey: Journey) -> int:
    """The version number a reference names (0: the draft)."""
    if version == "draft":
        return 0
    return journey.live_version or 0 if version == "live" else int(version)


class ExecutorPreviewController(Controller):
    path = "/action-executors"
    tags = ["previews"]

    @post(
        "/{executor:str}/preview",
        summary="Render what an action would send, without sending it",
        status_code=200,
        responses={
            404: problem_spec("No such executor, or no such contact"),
            409: problem_spec("The executor has no preview"),
            422: problem_spec("The config or a template is at fault (named in errors)"),
        },
    )
    async def preview_action(
        self, call: Call, executor: FromPath[str], data: JSONBody[ExecutorPreviewIn]
    ) -> ExecutorPreviewOut:
        found = call.registry.action_executors.get(executor)
        if found is None:
            raise Refused(
                404,
                f"no action executor named {executor!r} is installed",
                extra={"resource": "action executor"},
            )
        if found.preview is None:
            raise unsupported(found)
        contact = await _contact(call, data.contact_id)
        org = await call.runtime.organization(call.caller.organization_id)
        config = decode_action_config(found, data.config)
        rendered = await render_preview(
            found, config, contact.activation(), studio_view(org), organization=org.id
        )
        return ExecutorPreviewOut(
            executor=found.name, contact_id=data.contact_id, rendered=rendered
        )


class StepPreviewController(Controller):
    path = "/journeys/{journey_id:str}/steps/{step_id:str}"
    tags = ["previews"]

    @post(
        "/preview",
        summary="Render what a journey step would send for a contact, without sending it",
        description="Enters the step as an enrollment arriving there would (the node "
        "type maps its config into each action) and renders each action with its "
        "executor's preview. Actions whose executor has no preview come back with "
        "`rendered: null` and a `note`.",
        status_code=200,
        responses={
            404: problem_spec("No such journey, version, step or contact"),
            422: problem_spec(
                "The journey does not compile, or the step's config or a template is at "
                "fault (named in errors, with the node id)"
            ),
        },
    )
    async def preview_step(
        self,
        call: Call,
        journey_id: FromPath[str],
        step_id: FromPath[str],
        data: JSONBody[StepPreviewIn],
    ) -> StepPreviewOut:
        journey = await call.scope.journeys.get(journey_id)
        graph = await graph_at(call, journey, data.version, "version")
        if graph.step(step_id) is None:
            raise Refused(
                404,
                f"journey {journey.id!r} has no step {step_id!r} in version {data.version}",
                extra={"resource": "step"},
            )
        contact = await _contact(call, data.contact_id)
        org = await call.runtime.organization(call.caller.organization_id)
        version = _number(data.version, journey)
        compiled = runnable(call, graph, journey.id, version, org.timezone, "cannot preview")
        step = compiled.steps[step_id]
        planned = step_actions(compiled, step_id, contact, call.store.clock.now())
        activation, studio = contact.activation(), studio_view(org)
        actions: list[ActionPreviewOut] = []
        for key, action in planned:
            out = ActionPreviewOut(
                key=key,
                executor=action.executor,
                config=dict(action.config),
                rendered=None,
            )
            executor = call.registry.action_executors.get(action.executor)
            if executor is None:
                out.note = f"no action executor named {action.executor!r} is installed"
            elif executor.preview is None:
                out.note = f"action executor {action.executor!r} has no preview"
            else:
                config = decode_action_config(executor, action.config, node_id=step_id)
                out.rendered = await render_preview(
                    executor, config, activation, studio, organization=org.id, node_id=step_id
                )
            actions.append(out)
        return StepPreviewOut(
            journey_id=journey.id,
            version=data.version,
            step_id=step_id,
            node_type=step.type.name,
            contact_id=data.contact_id,
            actions=actions,
        )
