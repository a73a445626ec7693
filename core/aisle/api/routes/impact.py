"""Before and after publishing: who sits where (impact preview), and moving them to a
newer version with a step mapping (migration)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.context import Scope
from aisle.api.deps import Tenant
from aisle.api.graph_paths import diff_graphs
from aisle.api.problems import FieldError, Problem
from aisle.api.roles import ensure_journey_role
from aisle.api.routes.lifecycle import VersionRef, graph_at
from aisle.domain.journey import Graph
from aisle.engine import core as engine
from aisle.runtime.persist import write_transition
from aisle.storage.enrollment_moves import EnrollmentMoves

__all__ = ["ImpactController"]

StepImpact = Literal["unchanged", "changed", "removed"]


class StepImpactOut(msgspec.Struct, kw_only=True):
    version: int
    step_id: str | None
    label: str
    enrollments: int
    """Active enrollments sitting on this step of this version."""
    impact: StepImpact
    """What the target does to the step: kept as is, changed (the node or its outgoing
    edges), or removed (those enrollments need a mapping to migrate)."""
    changed_fields: list[str]


class ImpactOut(msgspec.Struct, kw_only=True):
    to: str
    active: int
    steps: list[StepImpactOut]


class MigrateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    from_version: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    to_version: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    step_mapping: dict[str, str] = {}
    """Old step id → step id in ``to_version``; steps kept under the same id need none."""
    enrollment_ids: Annotated[list[str], Meta(max_length=10_000)] | None = None
    """Only these enrollments (default: every active one on ``from_version``)."""
    dry_run: bool = False


class MovedOut(msgspec.Struct, kw_only=True):
    enrollment_id: str
    from_step: str | None
    to_step: str | None


class MigrateOut(msgspec.Struct, kw_only=True):
    from_version: int
    to_version: int
    dry_run: bool
    moved: list[MovedOut]


def _step_changes(old: Graph, new: Graph, step_id: str) -> tuple[StepImpact, list[str]]:
    if new.step(step_id) is None:
        return "removed", []
    outgoing = {e.id for e in (*old.edges, *new.edges) if e.source == step_id}
    fields: list[str] = []
    for change in diff_graphs(old, new):
        rest = "/".join(change.prop)
        if change.kind == "nodes" and change.id == step_id:
            fields.append(rest or "node")
        elif change.kind == "edges" and change.id in outgoing:
            fields.append(f"edges/{change.id}" + (f"/{rest}" if rest else ""))
    return ("changed" if fields else "unchanged"), fields


class ImpactController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["lifecycle"]

    @get("/impact", summary="Active enrollments per step, and what a target version does to them")
    async def impact(
        self, tenant: Tenant, journey_id: FromPath[str], to: VersionRef = "draft"
    ) -> ImpactOut:
        journey = await tenant.org.journeys.get(journey_id)
        target = await graph_at(tenant, journey, to, "to")
        counts = await tenant.org.enrollments.step_counts(journey.id)
        graphs: dict[int, Graph] = {}
        steps: list[StepImpactOut] = []
        for (version, step_id, status), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            if status != "active":
                continue
            if version not in graphs:
                graphs[version] = (await tenant.org.journeys.version(journey.id, version)).graph
            old = graphs[version]
            step = old.step(step_id) if step_id else None
            impact: StepImpact
            fields: list[str]
            if step_id is None:
                impact, fields = "unchanged", []
            else:
                impact, fields = _step_changes(old, target, step_id)
            steps.append(
                StepImpactOut(
                    version=version,
                    step_id=step_id,
                    label=step.label if step else "",
                    enrollments=n,
                    impact=impact,
                    changed_fields=fields,
                )
            )
        return ImpactOut(to=to, active=sum(s.enrollments for s in steps), steps=steps)

    @post("/migrate", summary="Move active enrollments to another version", status_code=200)
    async def migrate(
        self, tenant: Tenant, journey_id: FromPath[str], data: JSONBody[MigrateIn]
    ) -> MigrateOut:
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(tenant, journey.id, "admin", "migrating enrollments")
        return await migrate_enrollments(tenant, journey.id, data)


async def migrate_enrollments(tenant: Scope, journey_id: str, data: MigrateIn) -> MigrateOut:
    runtime = tenant.ctx.require_runtime()
    org = await runtime.organization(tenant.caller.organization_id)
    source = await tenant.org.journeys.version(journey_id, data.from_version)
    target_version = await tenant.org.journeys.version(journey_id, data.to_version)
    target = target_version.graph
    errors = [
        FieldError(
            message=f"{new!r} is not a step of version {data.to_version}",
            field=f"step_mapping.{old}",
        )
        for old, new in data.step_mapping.items()
        if target.step(new) is None
    ]
    active = await tenant.org.enrollments.list(
        journey_id=journey_id, version=data.from_version, status="active", limit=100_000
    )
    if data.enrollment_ids is not None:
        wanted = set(data.enrollment_ids)
        active = [e for e in active if e.id in wanted]
    plan: list[MovedOut] = []
    for enrollment in active:
        step = enrollment.state.step_id
        new_step = data.step_mapping.get(step or "", step)
        if new_step is None or target.step(new_step) is None:
            errors.append(
                FieldError(
                    message=f"step {step!r} of version {data.from_version} is not in version "
                    f"{data.to_version}: map it in step_mapping",
                    field=f"step_mapping.{step}",
                    node_id=step,
                )
            )
            continue
        plan.append(MovedOut(enrollment_id=enrollment.id, from_step=step, to_step=new_step))
    if errors:
        unique = list({(e.field, e.message): e for e in errors}.values())
        raise Problem(422, "the step mapping is incomplete", errors=unique)
    if data.dry_run or not plan:
        return MigrateOut(
            from_version=source.version,
            to_version=data.to_version,
            dry_run=data.dry_run,
            moved=plan,
        )
    compiled = await runtime.journeys.get(tenant.org, journey_id, data.to_version, org.timezone)
    moves = EnrollmentMoves(tenant.org.org_id, tenant.store.db, tenant.store.clock)
    now = tenant.store.clock.now()
    moved: list[MovedOut] = []
    for item in plan:
        async with tenant.store.transaction():
            enrollment = await tenant.org.enrollments.get(item.enrollment_id)
            await tenant.org.contacts.lock(enrollment.contact_id)
            enrollment = await tenant.org.enrollments.lock(item.enrollment_id)
            if enrollment.state.status != "active" or enrollment.version != data.from_version:
                continue  # it moved on while we planned
            contact = await tenant.org.contacts.get(enrollment.contact_id, include_deleted=True)
            state = msgspec.structs.replace(enrollment.state, step_id=item.to_step)
            transition = engine.recompute(compiled, state, contact, now)
            await moves.set_version(enrollment.id, data.to_version)
            await write_transition(
                tenant.org,
                transition,
                contact_id=enrollment.contact_id,
                journey_id=journey_id,
                version=data.to_version,
                registry=tenant.registry,
                actor=tenant.caller.actor,
            )
            await tenant.org.log.append(
                "enrollment.migrated",
                actor=tenant.caller.actor,
                contact_id=enrollment.contact_id,
                enrollment_id=enrollment.id,
                journey_id=journey_id,
                journey_version=data.to_version,
                step_id=item.to_step,
                message=f"moved from version {data.from_version} step {item.from_step} to "
                f"version {data.to_version} step {item.to_step}",
            )
        moved.append(item)
    return MigrateOut(
        from_version=source.version, to_version=data.to_version, dry_run=False, moved=moved
    )
