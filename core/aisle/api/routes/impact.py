"""Before and after publishing: who sits where (impact preview), and moving them to a
newer version with a step mapping (migration)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.deps import Call
from aisle.api.routes.lifecycle import VersionRef, graph_at, lifecycle_for
from aisle.canvas.graph_paths import diff_graphs
from aisle.domain.journey import Graph

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
        self, call: Call, journey_id: FromPath[str], to: VersionRef = "draft"
    ) -> ImpactOut:
        journey = await call.scope.journeys.get(journey_id)
        target = await graph_at(call, journey, to, "to")
        counts = await call.scope.enrollments.step_counts(journey.id)
        graphs: dict[int, Graph] = {}
        steps: list[StepImpactOut] = []
        for (version, step_id, status), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            if status != "active":
                continue
            if version not in graphs:
                graphs[version] = (await call.scope.journeys.version(journey.id, version)).graph
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
        self, call: Call, journey_id: FromPath[str], data: JSONBody[MigrateIn]
    ) -> MigrateOut:
        plan = await lifecycle_for(call).migrate(
            journey_id,
            from_version=data.from_version,
            to_version=data.to_version,
            step_mapping=data.step_mapping,
            enrollment_ids=data.enrollment_ids,
            dry_run=data.dry_run,
        )
        return MigrateOut(
            from_version=plan.from_version,
            to_version=plan.to_version,
            dry_run=plan.dry_run,
            moved=[
                MovedOut(enrollment_id=m.enrollment_id, from_step=m.from_step, to_step=m.to_step)
                for m in plan.moved
            ],
        )
