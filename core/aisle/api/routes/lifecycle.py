"""A journey's life: validate the draft, publish, versions, diff, rollback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.canvas.graph_paths import Change, diff_graphs
from aisle.canvas.reactflow import FlowDocument, graph_to_flow
from aisle.domain.journey import Graph, JourneySettings
from aisle.domain.journey_record import Journey, JourneyVersion
from aisle.engine.core import CompiledJourney
from aisle.engine.validation import Issue
from aisle.services.lifecycle import Lifecycle, blocking, compile_runnable

__all__ = [
    "LifecycleController",
    "VersionRef",
    "graph_at",
    "lifecycle_for",
    "runnable",
]

VersionRef = Annotated[
    str,
    QueryParameter(
        pattern=r"^(draft|live|[1-9][0-9]{0,8})$",
        description="A version number, `live` or `draft`.",
    ),
]
Note = Annotated[str, Meta(max_length=2000)]


class ValidationOut(msgspec.Struct, kw_only=True):
    valid: bool
    """No errors (warnings do not block publishing)."""
    revision: int
    issues: list[Issue]


class VersionSummary(msgspec.Struct, kw_only=True):
    version: int
    published_at: datetime
    published_by: str | None
    note: str
    source_version: int | None
    live: bool
    nodes: int
    edges: int


class VersionOut(VersionSummary, kw_only=True):
    settings: JourneySettings
    flow: FlowDocument


class VersionList(msgspec.Struct, kw_only=True):
    items: list[VersionSummary]


class PublishIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Note = ""


class RollbackIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    note: Note = ""


class FieldChange(msgspec.Struct, kw_only=True):
    field: str
    old: Any
    new: Any


class ElementChange(msgspec.Struct, kw_only=True):
    id: str
    changes: list[FieldChange]


class ElementDiff(msgspec.Struct, kw_only=True):
    added: list[str]
    removed: list[str]
    changed: list[ElementChange]


class DiffOut(msgspec.Struct, kw_only=True):
    from_: str = msgspec.field(name="from")
    to: str
    nodes: ElementDiff
    edges: ElementDiff
    settings_changed: bool


def summary(version: JourneyVersion, journey: Journey) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        published_at=version.published_at,
        published_by=version.published_by,
        note=version.note,
        source_version=version.source_version,
        live=journey.live_version == version.version,
        nodes=len(version.graph.steps),
        edges=len(version.graph.edges),
    )


def lifecycle_for(call: ApiCall) -> Lifecycle:
    """Publishing and migrating the caller's journeys, as the caller; what goes live is
    announced on the live stream when collaboration runs in this process."""
    collab = call.ctx.collab
    announce = collab.announce_published if collab is not None else None
    return Lifecycle(call.runtime, call.scope, call.caller, announce=announce)


async def graph_at(call: ApiCall, journey: Journey, ref: str, name: str) -> Graph:
    """The graph a version reference names (``draft``, ``live`` or a number)."""
    return await lifecycle_for(call).graph_at(journey, ref, name)


def element_diff(changes: list[Change], kind: str) -> ElementDiff:
    added: list[str] = []
    removed: list[str] = []
    changed: dict[str, list[FieldChange]] = {}
    for change in changes:
        if change.kind != kind:
            continue
        if not change.prop:
            (added if change.old is None else removed).append(change.id)
        else:
            changed.setdefault(change.id, []).append(
                FieldChange(field="/".join(change.prop), old=change.old, new=change.new)
            )
    return ElementDiff(
        added=added,
        removed=removed,
        changed=[ElementChange(id=i, changes=c) for i, c in changed.items()],
    )


def runnable(
    call: ApiCall, graph: Graph, journey_id: str, version: int, timezone: str, what: str
) -> CompiledJourney:
    """``graph`` ready to run in the studio's ``timezone``; a 422 listing its errors
    (``what``: what it could not do) when it does not compile."""
    return compile_runnable(call.registry, graph, journey_id, version, timezone, what)


class LifecycleController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["lifecycle"]

    @post("/validate", summary="Validate the draft", status_code=200)
    async def validate_draft(self, call: Call, journey_id: FromPath[str]) -> ValidationOut:
        journey = await call.scope.journeys.get(journey_id)
        issues = await lifecycle_for(call).issues(journey.id, journey.draft)
        return ValidationOut(valid=not blocking(issues), revision=journey.revision, issues=issues)

    @post("/publish", summary="Publish the draft as a new version", status_code=HTTP_201_CREATED)
    async def publish(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[PublishIn | None] = None
    ) -> VersionOut:
        """The body (a ``note``) is optional."""
        data = data or PublishIn()
        version, journey = await lifecycle_for(call).publish(journey_id, data.note)
        return version_out(version, journey)

    @get("/versions", summary="List published versions")
    async def list_versions(self, call: Call, journey_id: FromPath[str]) -> VersionList:
        journey = await call.scope.journeys.get(journey_id)
        versions = await call.scope.journeys.versions(journey.id)
        return VersionList(items=[summary(v, journey) for v in versions])

    @get("/versions/{version:int}", summary="Read a published version, with its flow")
    async def get_version(
        self,
        call: Call,
        journey_id: FromPath[str],
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
    ) -> VersionOut:
        journey = await call.scope.journeys.get(journey_id)
        return version_out(await call.scope.journeys.version(journey.id, version), journey)

    @get("/diff", summary="What changed between two versions (or a version and the draft)")
    async def diff(
        self,
        call: Call,
        journey_id: FromPath[str],
        from_ref: Annotated[
            str, QueryParameter(name="from", pattern=r"^(draft|live|[1-9][0-9]{0,8})$")
        ],
        to: VersionRef = "draft",
    ) -> DiffOut:
        journey = await call.scope.journeys.get(journey_id)
        old = await graph_at(call, journey, from_ref, "from")
        new = await graph_at(call, journey, to, "to")
        changes = diff_graphs(old, new)
        return DiffOut(
            from_=from_ref,
            to=to,
            nodes=element_diff(changes, "nodes"),
            edges=element_diff(changes, "edges"),
            settings_changed=old.settings != new.settings,
        )

    @post("/rollback", summary="Publish an old version again", status_code=HTTP_201_CREATED)
    async def rollback(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[RollbackIn]
    ) -> VersionOut:
        version, journey = await lifecycle_for(call).rollback(journey_id, data.version, data.note)
        return version_out(version, journey)


def version_out(version: JourneyVersion, journey: Journey) -> VersionOut:
    base = summary(version, journey)
    return VersionOut(
        **msgspec.structs.asdict(base),
        settings=version.graph.settings,
        flow=graph_to_flow(version.graph),
    )
