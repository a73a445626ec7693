"""The canvas service: reading and editing journeys and their drafts, for one acting
user of one organization.

Every entry point (API, CLI, dashboard) edits journeys through :class:`CanvasService`;
it checks the actor's role on the journey once it is read, and owns the transaction of
each write: serialize writers on the journey, check replays against the op log, merge,
store the draft with the next revision, append to the op log, store conflict records
for refused ops, write the automation log. Collaboration (edit-lock fences, the live
stream, lock annotations) is reached through :class:`CanvasCollab`, which the caller's
layer provides.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from aisle.canvas.admission import GraphLimits, check_graph, condition_errors
from aisle.canvas.etags import etag, required_revision
from aisle.canvas.flow_ops import FlowOp, OpBatch
from aisle.canvas.graph_paths import Change, diff_graphs
from aisle.canvas.merge import ConflictItem, MergeError, RejectedOp, merge_ops
from aisle.canvas.reactflow import FlowDecodeError, FlowDocument, flow_to_graph, graph_to_flow
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.domain.journey import Graph, JourneySettings
from aisle.domain.journey_record import Journey, JourneyStatus
from aisle.domain.user import Role
from aisle.engine.validation import Issue, validate
from aisle.services.errors import Refused
from aisle.services.roles import Actor, ensure_journey_role, ensure_role
from aisle.storage.flow_log import CollaboratorRepository, FlowLogEntry, FlowLogRepository
from aisle.storage.ids import new_id
from aisle.storage.store import OrgScope, Store

__all__ = [
    "ISSUES_CACHE_SIZE",
    "CanvasCollab",
    "CanvasService",
    "ChangedElement",
    "IssuesCache",
    "JourneyChanges",
    "LoggedOp",
    "LoggedOps",
    "OpsOutcome",
    "RefusedOp",
    "ReplayedOp",
]


ISSUES_CACHE_SIZE = 256
"""Journey revisions whose validation issues one API process keeps."""


class ReplayedOp(msgspec.Struct, frozen=True, kw_only=True):
    """An op id seen before: nothing was done again; this is what happened the first time."""

    op_id: str
    status: str
    revision: int
    conflict_ids: list[str] = []


class RefusedOp(msgspec.Struct, frozen=True, kw_only=True):
    """An op refused because it conflicts; its values are kept in ``conflict_id``."""

    op_id: str
    conflict_id: str
    conflicts: list[ConflictItem]


class OpsOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch did. ``revision``/``etag`` are the draft's after the batch."""

    revision: int
    etag: str
    applied: list[str]
    replayed: list[ReplayedOp]
    rejected: list[RefusedOp]


class LoggedOp(msgspec.Struct, frozen=True, kw_only=True):
    """One op-log entry, for clients catching up after a reconnect."""

    op_id: str
    revision: int
    kind: str
    op: dict[str, Any]
    changes: list[dict[str, Any]]
    actor: str


class LoggedOps(msgspec.Struct, kw_only=True):
    """The draft's revision and the ops applied after the revision a client has."""

    revision: int
    etag: str
    ops: list[LoggedOp]


IssuesCache = OrderedDict[tuple[str, int], list[Issue]]
"""Validation issues of recently read drafts, by (journey id, revision)."""


class JourneyChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What a journey update changes (``None``: leave as is)."""

    name: str | None = None
    description: str | None = None
    settings: JourneySettings | None = None
    status: JourneyStatus | None = None


class ChangedElement(Protocol):
    """What a change names: ``kind`` (``nodes``/``edges``) and the element ``id``."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...


class CanvasCollab(Protocol):
    """What the canvas needs from collaboration, provided by the caller's layer."""

    async def enforce_fences(
        self, journey_id: str, changes: Iterable[ChangedElement], fences: Mapping[str, int]
    ) -> None:
        """Inside the write's transaction: refuse changes to elements under someone
        else's edit lock, or made with a stale fencing token."""

    async def announce_flow_log(
        self, journey_id: str, entries: Iterable[Mapping[str, Any]]
    ) -> None:
        """After the commit: the op-log entries written, on the journey's live stream."""

    async def node_locks(self, journey_id: str) -> dict[str, Any]:
        """The lock on each locked node, for the flow document's ``data.lock``."""


def _issue_json(issue: Issue) -> dict[str, Any]:
    out: dict[str, Any] = {"code": issue.code, "severity": issue.severity, "message": issue.message}
    if issue.field:
        out["field"] = issue.field
    return out


def _extras(graph: Graph, issues: list[Issue]) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {s.id: {"issues": []} for s in graph.steps}
    edges: dict[str, dict[str, Any]] = {e.id: {"issues": []} for e in graph.edges}
    for issue in issues:
        if issue.node_id in nodes:
            nodes[issue.node_id]["issues"].append(_issue_json(issue))
        if issue.edge_id in edges:
            edges[issue.edge_id]["issues"].append(_issue_json(issue))
    return nodes, edges


def _changes_json(changes: Sequence[Change], revision: int) -> list[dict[str, Any]]:
    out = []
    for change in changes:
        item: dict[str, Any] = msgspec.to_builtins(change)
        item["revision"] = revision
        out.append(item)
    return out


def _history(entries: list[FlowLogEntry]) -> list[Change]:
    history: list[Change] = []
    for entry in entries:
        for raw in entry.changes:
            history.append(msgspec.convert(raw, Change))
    return history


def _conflict_values(items: list[ConflictItem], attr: str) -> Any:
    if len(items) == 1:
        return getattr(items[0], attr)
    return {item.path: getattr(item, attr) for item in items}


def _invalid_operations(errors: Sequence[Any]) -> Refused:
    return Refused(
        422,
        "the operations cannot be applied: " + "; ".join(e.message for e in errors[:5]),
        slug="invalid-operations",
        title="Invalid operations",
        errors=errors,
    )


class CanvasService:
    """One organization's journeys as ``actor`` reads and edits them."""

    def __init__(
        self,
        store: Store,
        scope: OrgScope,
        actor: Actor,
        *,
        registry: Registry,
        limits: GraphLimits,
        collab: CanvasCollab,
        issues_cache: IssuesCache | None = None,
    ) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor
        self.registry = registry
        self.limits = limits
        self.collab = collab
        self.issues_cache: IssuesCache = issues_cache if issues_cache is not None else OrderedDict()
        self.flow_log = FlowLogRepository(scope.org_id, store.db, store.clock)
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    # -- reading ---------------------------------------------------------------------

    async def journey(self, journey_id: str) -> Journey:
        """The journey (``NotFound`` when it is not in this organization)."""
        return await self.scope.journeys.get(journey_id)

    def draft_issues(self, journey: Journey) -> list[Issue]:
        """The validation issues of a journey's draft, computed once per revision."""
        cache = self.issues_cache
        key = (journey.id, journey.revision)
        issues = cache.get(key)
        if issues is None:
            issues = validate(journey.draft, self.registry)
            cache[key] = issues
            if len(cache) > ISSUES_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return issues

    async def document(self, journey: Journey, *, with_issues: bool = True) -> FlowDocument:
        """The draft as ``ReactFlowJsonObject``, nodes and edges annotated with their
        validation issues (from the per-revision cache) and the lock on each node."""
        issues = self.draft_issues(journey) if with_issues else []
        node_extras, edge_extras = _extras(journey.draft, issues)
        locks = await self.collab.node_locks(journey.id)
        for node_id, extra in node_extras.items():
            extra["lock"] = locks.get(node_id)
        return graph_to_flow(journey.draft, node_extras=node_extras, edge_extras=edge_extras)

    async def logged_ops(self, journey_id: str, since: int, limit: int) -> LoggedOps:
        """Applied ops after revision ``since`` (whole-flow replacements appear as
        ``replace_flow``: read the flow again when you see one)."""
        journey = await self.scope.journeys.get(journey_id)
        entries = await self.flow_log.since(journey.id, since, limit=limit)
        return LoggedOps(
            revision=journey.revision,
            etag=etag(journey.id, journey.revision),
            ops=[
                LoggedOp(
                    op_id=e.op_id,
                    revision=e.revision,
                    kind=e.kind,
                    op=e.op,
                    changes=e.changes,
                    actor=e.actor,
                )
                for e in entries
            ],
        )

    # -- checking what may be stored -------------------------------------------------

    def decode(self, document: FlowDocument, *, settings: Graph, field_prefix: str = "") -> Graph:
        """A flow document as the graph to store (journey settings from ``settings``), or
        a 422 refusal naming each field, node and edge that cannot be stored."""
        registry = self.registry
        try:
            graph = flow_to_graph(
                document, settings=settings, trigger_names=frozenset(registry.trigger_types)
            )
            errors = check_graph(
                graph,
                node_types=registry.node_types.keys(),
                trigger_types=registry.trigger_types.keys(),
                limits=self.limits,
            ) + condition_errors(graph, registry)
            detail = "the flow cannot be stored: " + "; ".join(e.message for e in errors[:5])
        except FlowDecodeError as exc:
            errors, detail = exc.errors, str(exc)
        if not errors:
            return graph
        if field_prefix:
            errors = [msgspec.structs.replace(e, field=f"{field_prefix}{e.field}") for e in errors]
        raise Refused(422, detail, slug="invalid-flow", title="Invalid flow", errors=errors)

    def admit_settings(self, settings: JourneySettings) -> None:
        """A 422 naming each entry or exit filter that may not be stored (over the CEL
        limits)."""
        errors = condition_errors(Graph(settings=settings), self.registry)
        if errors:
            detail = "the settings cannot be stored: " + "; ".join(e.message for e in errors[:5])
            raise Refused(422, detail, errors=errors)

    # -- journeys --------------------------------------------------------------------

    async def create_journey(
        self,
        name: str,
        description: str,
        settings: JourneySettings,
        flow: FlowDocument | None = None,
    ) -> Journey:
        """A new journey whose draft holds ``settings`` (and ``flow``, when given)."""
        ensure_role(self.actor, "editor", "creating a journey")
        self.admit_settings(settings)
        graph = Graph(settings=settings)
        if flow is not None:
            graph = self.decode(flow, settings=graph, field_prefix="flow.")
        async with self.store.transaction():
            journey = await self.scope.journeys.create(
                name=name, description=description, draft=graph
            )
            await self.flow_log.record(
                journey.id,
                [
                    {
                        "op_id": f"create:{new_id()}",
                        "revision": journey.revision,
                        "status": "applied",
                        "kind": "create",
                        "op": {"op": "create", "nodes": len(graph.steps)},
                        "actor": self.actor.actor,
                    }
                ],
            )
            await self.scope.log.append(
                LogKind.JOURNEY_CREATED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"journey {journey.name!r} created",
            )
        return journey

    async def update_journey(
        self,
        journey_id: str,
        changes: JourneyChanges,
        *,
        if_match: str | None = None,
        fields: Sequence[str] = (),
    ) -> Journey:
        """Rename, reconfigure, pause or resume a journey (pausing and resuming need
        ``admin``). ``if_match``, when given, must name the current draft revision;
        ``fields`` are the names the request set, for the log."""
        async with self.store.transaction():
            await self.flow_log.lock_journey(journey_id)
            journey = await self.scope.journeys.get(journey_id)
            await ensure_journey_role(
                self.actor,
                self.collaborators,
                journey.id,
                "admin" if changes.status is not None else "editor",
                "this change",
            )
            if if_match:
                required_revision(if_match, journey.id, journey.revision)  # 412 when stale
            if changes.name is not None or changes.description is not None:
                journey = await self.scope.journeys.update(
                    journey.id, name=changes.name, description=changes.description
                )
            if changes.settings is not None and changes.settings != journey.draft.settings:
                self.admit_settings(changes.settings)
                graph = msgspec.structs.replace(journey.draft, settings=changes.settings)
                journey = await self.scope.journeys.save_draft(
                    journey.id, graph, expected_revision=journey.revision
                )
                await self.flow_log.record(
                    journey.id,
                    [
                        {
                            "op_id": f"settings:{new_id()}",
                            "revision": journey.revision,
                            "status": "applied",
                            "kind": "update_settings",
                            "op": {
                                "op": "update_settings",
                                "settings": msgspec.to_builtins(changes.settings),
                            },
                            "actor": self.actor.actor,
                        }
                    ],
                )
            if changes.status is not None and changes.status != journey.status:
                journey = await self.scope.journeys.set_status(journey.id, changes.status)
            await self.scope.log.append(
                LogKind.JOURNEY_UPDATED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message="journey updated",
                data={"fields": list(fields)},
            )
        return journey

    async def delete_journey(self, journey_id: str, *, reason: str = "") -> None:
        """Soft-delete a journey (``admin`` on it); ``reason`` goes to the log."""
        async with self.store.transaction():
            journey = await self.scope.journeys.get(journey_id)
            await ensure_journey_role(
                self.actor, self.collaborators, journey.id, "admin", "deleting a journey"
            )
            await self.scope.journeys.soft_delete(journey.id)
            await self.scope.log.append(
                LogKind.JOURNEY_DELETED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"journey {journey.name!r} deleted (soft; restorable)"
                + (f": {reason}" if reason else ""),
            )

    # -- editing the draft -----------------------------------------------------------

    async def replace_flow(
        self,
        journey_id: str,
        document: FlowDocument,
        if_match: str | None,
        fences: Mapping[str, int] | None = None,
    ) -> Journey:
        """``PUT …/flow``: replace nodes, edges and viewport (settings stay); ``editor``
        on the journey.

        ``fences``: fencing tokens of the actor's edit locks (changed locked elements
        need them).
        """
        async with self.store.transaction():
            await self.flow_log.lock_journey(journey_id)
            journey = await self.scope.journeys.get(journey_id)
            await ensure_journey_role(
                self.actor, self.collaborators, journey.id, "editor", "editing the flow"
            )
            expected = required_revision(if_match, journey.id, journey.revision)
            graph = self.decode(document, settings=journey.draft)
            changes = diff_graphs(journey.draft, graph)
            await self.collab.enforce_fences(journey.id, changes, fences or {})
            saved = await self.scope.journeys.save_draft(
                journey.id,
                graph,
                expected_revision=expected if expected is not None else journey.revision,
            )
            logged = [
                {
                    "op_id": f"put:{new_id()}",
                    "revision": saved.revision,
                    "status": "applied",
                    "kind": "replace_flow",
                    "op": {
                        "op": "replace_flow",
                        "nodes": len(graph.steps),
                        "edges": len(graph.edges),
                    },
                    "changes": _changes_json(changes, saved.revision),
                    "actor": self.actor.actor,
                }
            ]
            await self.flow_log.record(journey.id, logged)
            await self.scope.log.append(
                LogKind.JOURNEY_FLOW_REPLACED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"flow replaced: revision {saved.revision}, {len(changes)} changes",
                data={"revision": saved.revision, "changes": len(changes)},
            )
        await self.collab.announce_flow_log(journey.id, logged)
        return saved

    async def _store_conflict(self, journey: Journey, refused: RejectedOp, base: int) -> str:
        items = refused.conflicts
        first = items[0]
        record = await self.scope.conflicts.create(
            kind="graph",
            field=first.path,
            # ``ours`` is what the draft holds (it won), ``theirs`` the refused value
            ours=_conflict_values(items, "theirs"),
            theirs=_conflict_values(items, "mine"),
            base=_conflict_values(items, "base"),
            journey_id=journey.id,
            target=first.node_id or first.edge_id,
            detail={
                "op_id": refused.op.id,
                "op": msgspec.to_builtins(refused.op),
                "base_revision": base,
                "revision": journey.revision,
                "actor": self.actor.actor,
                "items": [msgspec.to_builtins(i) for i in items],
            },
        )
        return record.id

    async def apply_ops(
        self, journey_id: str, batch: OpBatch, *, require: Role = "editor"
    ) -> OpsOutcome:
        """``POST …/flow/ops``: merge a batch; see :mod:`aisle.canvas.merge` for the
        rules. ``require``: the role the actor needs on the journey."""
        registry = self.registry
        async with self.store.transaction():
            await self.flow_log.lock_journey(journey_id)
            journey = await self.scope.journeys.get(journey_id)
            await ensure_journey_role(
                self.actor, self.collaborators, journey.id, require, "editing the flow"
            )
            seen = await self.flow_log.find(journey.id, [op.id for op in batch.ops])
            replayed = [
                ReplayedOp(
                    op_id=e.op_id, status=e.status, revision=e.revision, conflict_ids=e.conflict_ids
                )
                for e in seen.values()
            ]
            fresh: list[FlowOp] = [op for op in batch.ops if op.id not in seen]
            if not fresh:
                return OpsOutcome(
                    revision=journey.revision,
                    etag=etag(journey.id, journey.revision),
                    applied=[],
                    replayed=replayed,
                    rejected=[],
                )
            bases = [
                op.base_revision if op.base_revision is not None else batch.base_revision
                for op in fresh
            ]
            oldest = min(bases)
            history = (
                _history(await self.flow_log.since(journey.id, oldest))
                if oldest < journey.revision
                else []
            )
            try:
                result = merge_ops(
                    journey.draft,
                    fresh,
                    base_revision=batch.base_revision,
                    current_revision=journey.revision,
                    history=history,
                    node_types=registry.node_types.keys(),
                    trigger_types=registry.trigger_types.keys(),
                    limits=self.limits,
                    atomic=batch.atomic,
                )
            except MergeError as exc:
                raise _invalid_operations(exc.errors) from None
            # Only what this batch brings in: a condition stored before the limits existed
            # is a validation issue of the draft and must not block unrelated edits.
            before = {
                (e.node_id, e.edge_id, e.message) for e in condition_errors(journey.draft, registry)
            }
            conditions = [
                e
                for e in (condition_errors(result.graph, registry) if result.applied else [])
                if (e.node_id, e.edge_id, e.message) not in before
            ]
            if conditions:
                raise _invalid_operations(conditions)
            await self.collab.enforce_fences(
                journey.id, (c for a in result.applied for c in a.changes), batch.fences
            )
            saved = journey
            if result.applied:
                saved = await self.scope.journeys.save_draft(
                    journey.id, result.graph, expected_revision=journey.revision
                )
            base_of = dict(zip((op.id for op in fresh), bases, strict=True))
            refused: list[RefusedOp] = []
            entries: list[dict[str, Any]] = []
            for rejected in result.rejected:
                conflict_id = await self._store_conflict(saved, rejected, base_of[rejected.op.id])
                refused.append(
                    RefusedOp(
                        op_id=rejected.op.id, conflict_id=conflict_id, conflicts=rejected.conflicts
                    )
                )
                entries.append(
                    {
                        "op_id": rejected.op.id,
                        "revision": saved.revision,
                        "status": "rejected",
                        "kind": type(rejected.op).__struct_config__.tag,
                        "op": msgspec.to_builtins(rejected.op),
                        "conflict_ids": [conflict_id],
                        "actor": self.actor.actor,
                    }
                )
            for applied in result.applied:
                entries.append(
                    {
                        "op_id": applied.op.id,
                        "revision": saved.revision,
                        "status": "applied",
                        "kind": type(applied.op).__struct_config__.tag,
                        "op": msgspec.to_builtins(applied.op),
                        "changes": _changes_json(applied.changes, saved.revision),
                        "actor": self.actor.actor,
                    }
                )
            await self.flow_log.record(journey.id, entries)
            await self.scope.log.append(
                LogKind.JOURNEY_OPS_APPLIED if not refused else LogKind.JOURNEY_OPS_CONFLICTED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"{len(result.applied)} operations applied, {len(refused)} refused "
                f"as conflicts (revision {saved.revision})",
                data={
                    "revision": saved.revision,
                    "applied": [a.op.id for a in result.applied],
                    "refused": [r.op_id for r in refused],
                },
            )
        await self.collab.announce_flow_log(journey.id, entries)
        return OpsOutcome(
            revision=saved.revision,
            etag=etag(saved.id, saved.revision),
            applied=[a.op.id for a in result.applied],
            replayed=replayed,
            rejected=refused,
        )
