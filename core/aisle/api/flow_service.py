"""Reading and writing a journey's draft as a canvas does: whole flows and op batches.

Every write runs in one transaction that serializes writers on the journey, checks
replays against the op log, merges, stores the draft with the next revision, appends
to the op log, stores conflict records for refused ops and writes the automation log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from aisle.api.admission import check_graph, condition_errors
from aisle.api.collab.hooks import announce_flow_log, enforce_fences
from aisle.api.context import Scope
from aisle.api.etags import etag, required_revision
from aisle.api.flow_ops import FlowOp, OpBatch
from aisle.api.graph_paths import Change, diff_graphs
from aisle.api.merge import ConflictItem, MergeError, RejectedOp, merge_ops
from aisle.api.problems import Problem
from aisle.api.reactflow import FlowDecodeError, FlowDocument, flow_to_graph, graph_to_flow
from aisle.api.roles import ensure_journey_role
from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey
from aisle.domain.user import Role
from aisle.engine.validation import Issue, validate
from aisle.storage.flow_log import FlowLogEntry
from aisle.storage.ids import new_id

__all__ = [
    "ISSUES_CACHE_SIZE",
    "LoggedOp",
    "OpsOutcome",
    "RefusedOp",
    "ReplayedOp",
    "apply_ops",
    "decode_flow",
    "draft_issues",
    "flow_document",
    "logged_ops",
    "replace_flow",
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


def draft_issues(scope: Scope, journey: Journey) -> list[Issue]:
    """The validation issues of a journey's draft, computed once per revision."""
    cache = scope.ctx.issues_cache
    key = (journey.id, journey.revision)
    issues = cache.get(key)
    if issues is None:
        issues = validate(journey.draft, scope.registry)
        cache[key] = issues
        if len(cache) > ISSUES_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return issues


def flow_document(
    scope: Scope,
    graph: Graph,
    *,
    with_issues: bool = True,
    locks: Mapping[str, Any] | None = None,
    journey: Journey | None = None,
) -> FlowDocument:
    """The draft as ``ReactFlowJsonObject``, nodes and edges annotated with their
    validation issues and (when given) the lock on each node. With ``journey`` (whose
    draft ``graph`` is) the issues come from the per-revision cache."""
    if not with_issues:
        issues: list[Issue] = []
    elif journey is not None:
        issues = draft_issues(scope, journey)
    else:
        issues = validate(graph, scope.registry)
    node_extras, edge_extras = _extras(graph, issues)
    if locks is not None:
        for node_id, extra in node_extras.items():
            extra["lock"] = locks.get(node_id)
    return graph_to_flow(graph, node_extras=node_extras, edge_extras=edge_extras)


def decode_flow(
    scope: Scope, document: FlowDocument, *, settings: Graph, field_prefix: str = ""
) -> Graph:
    """A flow document as the graph to store (journey settings from ``settings``), or a
    422 problem naming each field, node and edge that cannot be stored."""
    try:
        graph = flow_to_graph(
            document, settings=settings, trigger_names=frozenset(scope.registry.trigger_types)
        )
        errors = check_graph(
            graph,
            node_types=scope.registry.node_types.keys(),
            trigger_types=scope.registry.trigger_types.keys(),
            limits=scope.config.graph_limits,
        ) + condition_errors(graph, scope.registry)
        detail = "the flow cannot be stored: " + "; ".join(e.message for e in errors[:5])
    except FlowDecodeError as exc:
        errors, detail = exc.errors, str(exc)
    if not errors:
        return graph
    if field_prefix:
        errors = [msgspec.structs.replace(e, field=f"{field_prefix}{e.field}") for e in errors]
    raise Problem(422, detail, slug="invalid-flow", title="Invalid flow", errors=errors)


def _changes_json(changes: list[Change], revision: int) -> list[dict[str, Any]]:
    out = []
    for change in changes:
        item: dict[str, Any] = msgspec.to_builtins(change)
        item["revision"] = revision
        out.append(item)
    return out


async def replace_flow(
    scope: Scope,
    journey_id: str,
    document: FlowDocument,
    if_match: str | None,
    fences: Mapping[str, int] | None = None,
) -> Journey:
    """``PUT …/flow``: replace nodes, edges and viewport (settings stay).

    ``fences``: fencing tokens of the caller's edit locks (changed locked elements need
    them).
    """
    async with scope.store.transaction():
        await scope.flow_log.lock_journey(journey_id)
        journey = await scope.org.journeys.get(journey_id)
        expected = required_revision(if_match, journey.id, journey.revision)
        graph = decode_flow(scope, document, settings=journey.draft)
        changes = diff_graphs(journey.draft, graph)
        await enforce_fences(scope, journey.id, changes, fences or {})
        saved = await scope.org.journeys.save_draft(
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
                "actor": scope.caller.actor,
            }
        ]
        await scope.flow_log.record(journey.id, logged)
        await scope.org.log.append(
            "journey.flow_replaced",
            actor=scope.caller.actor,
            journey_id=journey.id,
            message=f"flow replaced: revision {saved.revision}, {len(changes)} changes",
            data={"revision": saved.revision, "changes": len(changes)},
        )
    await announce_flow_log(scope, journey.id, logged)
    return saved


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


async def _store_conflict(
    scope: Scope,
    journey: Journey,
    refused: RejectedOp,
    base: int,
) -> str:
    items = refused.conflicts
    first = items[0]
    record = await scope.org.conflicts.create(
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
            "actor": scope.caller.actor,
            "items": [msgspec.to_builtins(i) for i in items],
        },
    )
    return record.id


async def apply_ops(
    scope: Scope, journey_id: str, batch: OpBatch, *, require: Role | None = None
) -> OpsOutcome:
    """``POST …/flow/ops``: merge a batch; see :mod:`aisle.api.merge` for the rules.

    ``require``: the role the caller needs on the journey (checked once it is read).
    """
    registry = scope.registry
    async with scope.store.transaction():
        await scope.flow_log.lock_journey(journey_id)
        journey = await scope.org.journeys.get(journey_id)
        if require is not None:
            await ensure_journey_role(scope, journey.id, require, "editing the flow")
        seen = await scope.flow_log.find(journey.id, [op.id for op in batch.ops])
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
            _history(await scope.flow_log.since(journey.id, oldest))
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
                limits=scope.config.graph_limits,
                atomic=batch.atomic,
            )
        except MergeError as exc:
            raise Problem(
                422,
                "the operations cannot be applied: " + "; ".join(e.message for e in exc.errors[:5]),
                slug="invalid-operations",
                title="Invalid operations",
                errors=exc.errors,
            ) from None
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
            raise Problem(
                422,
                "the operations cannot be applied: " + "; ".join(e.message for e in conditions[:5]),
                slug="invalid-operations",
                title="Invalid operations",
                errors=conditions,
            )
        await enforce_fences(
            scope, journey.id, (c for a in result.applied for c in a.changes), batch.fences
        )
        saved = journey
        if result.applied:
            saved = await scope.org.journeys.save_draft(
                journey.id, result.graph, expected_revision=journey.revision
            )
        base_of = dict(zip((op.id for op in fresh), bases, strict=True))
        refused: list[RefusedOp] = []
        entries: list[dict[str, Any]] = []
        for rejected in result.rejected:
            conflict_id = await _store_conflict(scope, saved, rejected, base_of[rejected.op.id])
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
                    "actor": scope.caller.actor,
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
                    "actor": scope.caller.actor,
                }
            )
        await scope.flow_log.record(journey.id, entries)
        await scope.org.log.append(
            "journey.ops_applied" if not refused else "journey.ops_conflicted",
            actor=scope.caller.actor,
            journey_id=journey.id,
            message=f"{len(result.applied)} operations applied, {len(refused)} refused "
            f"as conflicts (revision {saved.revision})",
            data={
                "revision": saved.revision,
                "applied": [a.op.id for a in result.applied],
                "refused": [r.op_id for r in refused],
            },
        )
    await announce_flow_log(scope, journey.id, entries)
    return OpsOutcome(
        revision=saved.revision,
        etag=etag(saved.id, saved.revision),
        applied=[a.op.id for a in result.applied],
        replayed=replayed,
        rejected=refused,
    )


async def logged_ops(scope: Scope, journey_id: str, since: int, limit: int) -> list[LoggedOp]:
    """Applied ops after revision ``since`` (whole-flow replacements appear as
    ``replace_flow``: read the flow again when you see one)."""
    journey = await scope.org.journeys.get(journey_id)
    entries = await scope.flow_log.since(journey.id, since, limit=limit)
    return [
        LoggedOp(
            op_id=e.op_id,
            revision=e.revision,
            kind=e.kind,
            op=e.op,
            changes=e.changes,
            actor=e.actor,
        )
        for e in entries
    ]
