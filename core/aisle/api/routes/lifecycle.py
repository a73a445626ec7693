"""A journey's life: validate the draft, publish, versions, diff, rollback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from aisle.api.collab import announce_published
from aisle.api.context import Scope
from aisle.api.deps import Tenant
from aisle.api.graph_paths import Change, diff_graphs
from aisle.api.problems import FieldError, Problem
from aisle.api.reactflow import FlowDocument, graph_to_flow
from aisle.api.readiness import action_issues, check_context
from aisle.api.roles import ensure_journey_role
from aisle.domain.journey import Graph, JourneySettings
from aisle.domain.journey_record import Journey, JourneyVersion
from aisle.engine.core import CompiledJourney, compile_journey
from aisle.engine.validation import InvalidJourney, Issue, validate

__all__ = [
    "LifecycleController",
    "VersionRef",
    "graph_at",
    "issues_problem",
    "readiness_issues",
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


async def graph_at(tenant: Scope, journey: Journey, ref: str, name: str) -> Graph:
    """The graph a version reference names (``draft``, ``live`` or a number)."""
    if ref == "draft":
        return journey.draft
    if ref == "live":
        if journey.live_version is None:
            raise Problem(
                422,
                f"{name}: journey {journey.id!r} has no live version yet",
                errors=[FieldError(message="no live version", field=name)],
            )
        ref = str(journey.live_version)
    return (await tenant.org.journeys.version(journey.id, int(ref))).graph


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


def blocking(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def runnable(
    tenant: Scope, graph: Graph, journey_id: str, version: int, timezone: str, what: str
) -> CompiledJourney:
    """``graph`` ready to run in the studio's ``timezone``; a 422 listing its errors
    (``what``: what it could not do) when it does not compile."""
    try:
        return compile_journey(
            graph, tenant.registry, journey_id=journey_id, version=version, studio_timezone=timezone
        )
    except InvalidJourney as exc:
        raise issues_problem(list(exc.issues), what) from None


async def readiness_issues(tenant: Scope, journey_id: str, graph: Graph) -> list[Issue]:
    """What stops ``graph``'s actions from running in this deployment for this studio
    (no SMTP host, no sender, no secret), as issues naming each step and field.

    ``graph`` must already validate without errors."""
    org = await tenant.runtime.organization(tenant.caller.organization_id)
    compiled = runnable(tenant, graph, journey_id, 0, org.timezone, "cannot check")
    context = check_context(tenant.runtime.settings, org)
    return action_issues(compiled, tenant.registry, context, tenant.store.clock.now())


def issues_problem(issues: list[Issue], what: str) -> Problem:
    errors = blocking(issues)
    return Problem(
        422,
        f"{what}: the draft has {len(errors)} error(s): "
        + "; ".join(i.message for i in errors[:5]),
        slug="invalid-journey",
        title="Invalid journey",
        errors=[
            FieldError(
                message=i.message, code=i.code, node_id=i.node_id, edge_id=i.edge_id, field=i.field
            )
            for i in errors
        ],
        extra={"issues": [msgspec.to_builtins(i) for i in issues]},
    )


class LifecycleController(Controller):
    path = "/journeys/{journey_id:str}"
    tags = ["lifecycle"]

    @post("/validate", summary="Validate the draft", status_code=200)
    async def validate_draft(self, tenant: Tenant, journey_id: FromPath[str]) -> ValidationOut:
        journey = await tenant.org.journeys.get(journey_id)
        issues = validate(journey.draft, tenant.registry)
        if not blocking(issues):
            issues += await readiness_issues(tenant, journey.id, journey.draft)
        return ValidationOut(valid=not blocking(issues), revision=journey.revision, issues=issues)

    @post("/publish", summary="Publish the draft as a new version", status_code=HTTP_201_CREATED)
    async def publish(
        self, tenant: Tenant, journey_id: FromPath[str], data: JSONBody[PublishIn | None] = None
    ) -> VersionOut:
        """The body (a ``note``) is optional."""
        data = data or PublishIn()
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(tenant, journey.id, "admin", "publishing")
        issues = validate(journey.draft, tenant.registry)
        if not blocking(issues):
            issues += await readiness_issues(tenant, journey.id, journey.draft)
        if blocking(issues):
            raise issues_problem(issues, "cannot publish")
        async with tenant.store.transaction():
            version = await tenant.org.journeys.publish(
                journey.id, journey.draft, published_by=tenant.caller.actor, note=data.note
            )
            await tenant.org.log.append(
                "journey.published",
                actor=tenant.caller.actor,
                journey_id=journey.id,
                journey_version=version.version,
                message=f"version {version.version} published from revision {journey.revision}",
                data={"revision": journey.revision, "note": data.note},
            )
        await announce_published(tenant, journey.id, version.version)
        journey = await tenant.org.journeys.get(journey.id)
        return version_out(version, journey)

    @get("/versions", summary="List published versions")
    async def list_versions(self, tenant: Tenant, journey_id: FromPath[str]) -> VersionList:
        journey = await tenant.org.journeys.get(journey_id)
        versions = await tenant.org.journeys.versions(journey.id)
        return VersionList(items=[summary(v, journey) for v in versions])

    @get("/versions/{version:int}", summary="Read a published version, with its flow")
    async def get_version(
        self,
        tenant: Tenant,
        journey_id: FromPath[str],
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
    ) -> VersionOut:
        journey = await tenant.org.journeys.get(journey_id)
        return version_out(await tenant.org.journeys.version(journey.id, version), journey)

    @get("/diff", summary="What changed between two versions (or a version and the draft)")
    async def diff(
        self,
        tenant: Tenant,
        journey_id: FromPath[str],
        from_ref: Annotated[
            str, QueryParameter(name="from", pattern=r"^(draft|live|[1-9][0-9]{0,8})$")
        ],
        to: VersionRef = "draft",
    ) -> DiffOut:
        journey = await tenant.org.journeys.get(journey_id)
        old = await graph_at(tenant, journey, from_ref, "from")
        new = await graph_at(tenant, journey, to, "to")
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
        self, tenant: Tenant, journey_id: FromPath[str], data: JSONBody[RollbackIn]
    ) -> VersionOut:
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(tenant, journey.id, "admin", "rolling back")
        old = await tenant.org.journeys.version(journey.id, data.version)
        issues = await readiness_issues(tenant, journey.id, old.graph)
        if blocking(issues):
            raise issues_problem(issues, f"cannot roll back to version {old.version}")
        async with tenant.store.transaction():
            version = await tenant.org.journeys.publish(
                journey.id,
                old.graph,
                published_by=tenant.caller.actor,
                note=data.note or f"rollback to version {old.version}",
                source_version=old.version,
            )
            await tenant.org.log.append(
                "journey.rolled_back",
                actor=tenant.caller.actor,
                journey_id=journey.id,
                journey_version=version.version,
                message=f"version {old.version} published again as version {version.version}",
                data={"source_version": old.version},
            )
        await announce_published(tenant, journey.id, version.version, source_version=old.version)
        journey = await tenant.org.journeys.get(journey.id)
        return version_out(version, journey)


def version_out(version: JourneyVersion, journey: Journey) -> VersionOut:
    base = summary(version, journey)
    return VersionOut(
        **msgspec.structs.asdict(base),
        settings=version.graph.settings,
        flow=graph_to_flow(version.graph),
    )
