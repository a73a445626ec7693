"""The three-way, per-property merge of canvas operations into a journey draft.

Pure: given the current draft, the changes recorded since the oldest base revision
among the ops, and the ops, it returns the merged draft, what each applied op changed,
and the ops it refused with both values. An op conflicts when a property it writes was
changed by someone else since its base revision and now holds a different value than
the op wants; ops on different nodes, or on different properties of one node (each
``config``/``data``/``ui`` key is its own property), merge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET

from aisle.canvas.admission import Element, GraphLimits, unknown_type
from aisle.canvas.flow_ops import (
    AddEdge,
    AddNode,
    FlowOp,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    UpdateEdge,
    UpdateNode,
)
from aisle.canvas.graph_paths import (
    Change,
    ElementKind,
    Prop,
    edge_from_props,
    edge_props,
    pointer,
    step_from_props,
    step_props,
)
from aisle.canvas.reactflow import (
    EDGE_UI_FIELDS,
    NODE_UI_FIELDS,
    FlowDecodeError,
    FlowEdge,
    FlowNode,
    edge_from_flow,
    node_from_flow,
)
from aisle.domain.journey import Edge, Graph, Step
from aisle.services.errors import FieldError

__all__ = [
    "AppliedOp",
    "ConflictItem",
    "MergeError",
    "MergeResult",
    "RejectedOp",
    "merge_ops",
]


class ConflictItem(msgspec.Struct, frozen=True, kw_only=True):
    """One property two people changed: the value now stored and the one refused."""

    path: str
    """JSON Pointer of the property, e.g. ``/nodes/n1/config/subject``."""
    field: str
    """The property within the node or edge (``label``, ``config/subject``); empty for
    the element itself (added or removed)."""
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    base: Any = None
    """The value at the op's base revision (as far as the log records it)."""
    theirs: Any = None
    """The value stored now, written by someone else since the base revision."""
    mine: Any = None
    """The value the op wanted (``null`` for a removal)."""
    changed_at_revision: int = 0


@dataclass(frozen=True)
class AppliedOp:
    op: FlowOp
    changes: list[Change]


@dataclass(frozen=True)
class RejectedOp:
    op: FlowOp
    conflicts: list[ConflictItem]


@dataclass
class MergeResult:
    graph: Graph
    applied: list[AppliedOp] = field(default_factory=list)
    rejected: list[RejectedOp] = field(default_factory=list)


class MergeError(ValueError):
    """Ops that are wrong whatever anyone else did (unknown ids or types, dangling edges)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


_DELETE = object()


def _field(prop: Prop) -> str:
    return "/".join(prop)


class _Conflict(Exception):
    def __init__(self, items: list[ConflictItem]) -> None:
        self.items = items


class _Invalid(Exception):
    def __init__(self, error: FieldError) -> None:
        self.error = error


_ABSENT: Any = object()


class _Table:
    """The elements of one kind while a batch is merged.

    Untouched elements stay the :class:`Step`/:class:`Edge` objects they were (a big
    draft is not converted for a one-node edit); an element becomes a property map when
    an op reads or writes it. Every change of the current op is journaled, so a refused
    op is undone without copying the table; a removal leaves a tombstone so an undo
    keeps the element's place in the order.
    """

    def __init__(self, kind: ElementKind, items: Iterable[Step | Edge]) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {item.id: item for item in items}
        self.count = len(self.items)
        self.journal: list[tuple[str, Any]] = []

    def __contains__(self, element_id: str) -> bool:
        return self.items.get(element_id, _ABSENT) is not _ABSENT

    def __len__(self) -> int:
        return self.count

    def props(self, element_id: str) -> dict[Prop, Any] | None:
        value = self.items.get(element_id, _ABSENT)
        if value is _ABSENT:
            return None
        if isinstance(value, dict):
            return value
        props = step_props(value) if self.kind == "nodes" else edge_props(value)
        self.items[element_id] = props  # same element, another form: no journal entry
        return props

    def _remember(self, element_id: str) -> None:
        value = self.items.get(element_id, _ABSENT)
        self.journal.append((element_id, dict(value) if isinstance(value, dict) else value))

    def editable(self, element_id: str) -> dict[Prop, Any]:
        props = self.props(element_id)
        assert props is not None
        self._remember(element_id)
        return props

    def put(self, element_id: str, props: dict[Prop, Any]) -> None:
        self._remember(element_id)
        if element_id not in self:
            self.count += 1
        self.items[element_id] = props

    def drop(self, element_id: str) -> None:
        self._remember(element_id)
        self.items[element_id] = _ABSENT
        self.count -= 1

    def mark(self) -> int:
        return len(self.journal)

    def undo(self, mark: int) -> None:
        while len(self.journal) > mark:
            element_id, value = self.journal.pop()
            if (value is _ABSENT) != (element_id not in self):
                self.count += -1 if value is _ABSENT else 1
            self.items[element_id] = value

    def endpoints(self) -> Iterator[tuple[str, str, str]]:
        """``(edge id, source, target)`` of every edge (edges table only)."""
        for edge_id, value in self.items.items():
            if value is _ABSENT:
                continue
            if isinstance(value, dict):
                yield edge_id, value[("source",)], value[("target",)]
            else:
                yield edge_id, value.source, value.target

    def elements(self) -> tuple[Any, ...]:
        out = []
        for element_id, value in self.items.items():
            if value is _ABSENT:
                continue
            if isinstance(value, dict):
                value = (
                    step_from_props(element_id, value)
                    if self.kind == "nodes"
                    else edge_from_props(element_id, value)
                )
            out.append(value)
        return tuple(out)


class _Merger:
    def __init__(
        self,
        graph: Graph,
        history: Iterable[Change],
        node_types: Collection[str],
        trigger_types: Collection[str],
        limits: GraphLimits,
    ) -> None:
        self.nodes = _Table("nodes", graph.steps)
        self.edges = _Table("edges", graph.edges)
        self.base_graph = graph
        self.node_types = node_types
        self.trigger_types = trigger_types
        self.limits = limits
        self.history: dict[tuple[str, str], list[Change]] = defaultdict(list)
        for change in history:
            self.history[(change.kind, change.id)].append(change)
        for changes in self.history.values():
            changes.sort(key=lambda c: c.revision)

    # -- helpers -----------------------------------------------------------------------

    def table(self, kind: ElementKind) -> _Table:
        return self.nodes if kind == "nodes" else self.edges

    def mark(self) -> tuple[int, int]:
        return self.nodes.mark(), self.edges.mark()

    def undo(self, mark: tuple[int, int]) -> None:
        self.nodes.undo(mark[0])
        self.edges.undo(mark[1])

    def since(self, kind: str, element_id: str, base: int) -> list[Change]:
        return [c for c in self.history.get((kind, element_id), ()) if c.revision > base]

    @staticmethod
    def ids(kind: ElementKind, element_id: str) -> dict[str, str]:
        return {"node_id": element_id} if kind == "nodes" else {"edge_id": element_id}

    def element_json(self, kind: ElementKind, element_id: str) -> Any:
        props = self.table(kind).props(element_id)
        if props is None:
            return None
        item = (
            step_from_props(element_id, props)
            if kind == "nodes"
            else edge_from_props(element_id, props)
        )
        return msgspec.to_builtins(item)

    def require(self, kind: ElementKind, element_id: str, base: int, where: str) -> None:
        """The element exists now; else a conflict (removed since base) or an error."""
        if element_id in self.table(kind):
            return
        gone = [c for c in self.since(kind, element_id, base) if not c.prop and c.new is None]
        noun = "node" if kind == "nodes" else "edge"
        if gone:
            raise _Conflict(
                [
                    ConflictItem(
                        path=pointer(kind, element_id),
                        field="",
                        message=f"{noun} {element_id!r} was removed at revision "
                        f"{gone[-1].revision}, after revision {base}",
                        base=gone[-1].old,
                        theirs=None,
                        changed_at_revision=gone[-1].revision,
                        **self.ids(kind, element_id),
                    )
                ]
            )
        raise _Invalid(
            FieldError(
                message=f"no {noun} {element_id!r} in this journey",
                field=where,
                code=f"unknown_{noun}",
                **self.ids(kind, element_id),
            )
        )

    def check_writes(
        self, kind: ElementKind, element_id: str, writes: Mapping[Prop, Any], base: int
    ) -> list[ConflictItem]:
        recent = self.since(kind, element_id, base)
        if not recent:
            return []
        current = self.table(kind).props(element_id)
        assert current is not None
        items: list[ConflictItem] = []
        for prop, mine in writes.items():
            touched = [c for c in recent if c.prop in ((), prop)]
            if not touched:
                continue
            theirs = current.get(prop)
            wanted = None if mine is _DELETE else mine
            if theirs == wanted and ((prop in current) == (mine is not _DELETE)):
                continue  # both made the same change
            first = touched[0]
            items.append(
                ConflictItem(
                    path=pointer(kind, element_id, prop),
                    field=_field(prop),
                    message=f"{_field(prop)} of {'node' if kind == 'nodes' else 'edge'} "
                    f"{element_id!r} was changed at revision {touched[-1].revision}, after "
                    f"revision {base}",
                    base=first.old if first.prop else None,
                    theirs=theirs,
                    mine=wanted,
                    changed_at_revision=touched[-1].revision,
                    **self.ids(kind, element_id),
                )
            )
        return items

    def write(self, kind: ElementKind, element_id: str, writes: Mapping[Prop, Any]) -> list[Change]:
        current = self.table(kind).editable(element_id)
        changes: list[Change] = []
        for prop, value in writes.items():
            had = prop in current
            old = current.get(prop)
            if value is _DELETE:
                if had:
                    del current[prop]
                    changes.append(Change(kind=kind, id=element_id, prop=prop, old=old))
            elif not had or old != value:
                current[prop] = value
                changes.append(Change(kind=kind, id=element_id, prop=prop, old=old, new=value))
        return changes

    def add(
        self, kind: ElementKind, element_id: str, props: dict[Prop, Any], base: int
    ) -> list[Change]:
        table = self.table(kind)
        if element_id in table:
            if table.props(element_id) == props:
                return []  # someone (or an earlier op) added exactly this
            recent = [c for c in self.since(kind, element_id, base) if not c.prop]
            noun = "node" if kind == "nodes" else "edge"
            if not recent:
                raise _Invalid(
                    FieldError(
                        message=f"a {noun} with id {element_id!r} already exists",
                        field=f"{noun}.id",
                        code="duplicate_id",
                        **self.ids(kind, element_id),
                    )
                )
            raise _Conflict(
                [
                    ConflictItem(
                        path=pointer(kind, element_id),
                        field="",
                        message=f"{noun} {element_id!r} was added by someone else at "
                        f"revision {recent[-1].revision}",
                        theirs=self.element_json(kind, element_id),
                        mine=self.element_from(kind, element_id, props),
                        changed_at_revision=recent[-1].revision,
                        **self.ids(kind, element_id),
                    )
                ]
            )
        limit = self.limits.max_nodes if kind == "nodes" else self.limits.max_edges
        if len(table) >= limit:
            raise _Invalid(
                FieldError(
                    message=f"too many {kind}: the limit is {limit}",
                    field=kind,
                    code=f"too_many_{kind}",
                )
            )
        table.put(element_id, props)
        return [Change(kind=kind, id=element_id, new=self.element_json(kind, element_id))]

    @staticmethod
    def element_from(kind: ElementKind, element_id: str, props: Mapping[Prop, Any]) -> Any:
        if kind == "nodes":
            return msgspec.to_builtins(step_from_props(element_id, props))
        return msgspec.to_builtins(edge_from_props(element_id, props))

    def remove(self, kind: ElementKind, element_id: str, base: int, where: str) -> list[Change]:
        table = self.table(kind)
        if element_id not in table:
            if any(not c.prop and c.new is None for c in self.since(kind, element_id, base)):
                return []  # someone else removed it already: both wanted it gone
            self.require(kind, element_id, base, where)
        attached = (
            [eid for eid, src, dst in self.edges.endpoints() if element_id in (src, dst)]
            if kind == "nodes"
            else []
        )
        items: list[ConflictItem] = []
        for k, eid in [(kind, element_id), *(("edges", e) for e in attached)]:
            recent = self.since(k, eid, base)
            if recent:
                items.append(
                    ConflictItem(
                        path=pointer(k, eid),
                        field="",
                        message=f"{'node' if k == 'nodes' else 'edge'} {eid!r} was changed "
                        f"at revision {recent[-1].revision}, after revision {base}; "
                        "removing it would drop that change",
                        theirs=self.element_json(k, eid),
                        mine=None,
                        changed_at_revision=recent[-1].revision,
                        **self.ids(k, eid),
                    )
                )
        if items:
            raise _Conflict(items)
        changes = []
        for k, eid in [*(("edges", e) for e in attached), (kind, element_id)]:
            changes.append(Change(kind=k, id=eid, old=self.element_json(k, eid)))
            self.table(k).drop(eid)
        return changes

    def check_type(self, kind: Element, name: str, element_id: str, where: str) -> None:
        known = self.node_types if kind == "node" else self.trigger_types
        if name not in known:
            raise _Invalid(unknown_type(kind, name, known, where, element_id))

    def check_endpoints(
        self, props: Mapping[Prop, Any], edge_id: str, base: int, where: str
    ) -> None:
        for end in ("source", "target"):
            node_id = props[(end,)]
            if node_id in self.nodes:
                continue
            try:
                self.require("nodes", node_id, base, f"{where}.{end}")
            except _Invalid:
                raise _Invalid(
                    FieldError(
                        message=f"edge {edge_id!r} {end} {node_id!r} is not a node of this journey",
                        field=f"{where}.{end}",
                        edge_id=edge_id,
                        code="dangling_edge",
                    )
                ) from None

    # -- ops ---------------------------------------------------------------------------

    def apply(self, op: FlowOp, base: int, where: str) -> list[Change]:
        if isinstance(op, AddNode):
            return self.add_node(op.node, base, where)
        if isinstance(op, MoveNode):
            self.require("nodes", op.node_id, base, f"{where}.node_id")
            writes: dict[Prop, Any] = {("position",): {"x": op.position.x, "y": op.position.y}}
            return self.guarded_write("nodes", op.node_id, writes, base)
        if isinstance(op, UpdateNode):
            return self.update_node(op, base, where)
        if isinstance(op, RemoveNode):
            return self.remove("nodes", op.node_id, base, f"{where}.node_id")
        if isinstance(op, AddEdge):
            return self.add_edge(op.edge, base, where)
        if isinstance(op, UpdateEdge):
            return self.update_edge(op, base, where)
        assert isinstance(op, RemoveEdge)
        return self.remove("edges", op.edge_id, base, f"{where}.edge_id")

    def guarded_write(
        self, kind: ElementKind, element_id: str, writes: Mapping[Prop, Any], base: int
    ) -> list[Change]:
        conflicts = self.check_writes(kind, element_id, writes, base)
        if conflicts:
            raise _Conflict(conflicts)
        return self.write(kind, element_id, writes)

    def add_node(self, node: FlowNode, base: int, where: str) -> list[Change]:
        try:
            step = node_from_flow(node, f"{where}.node")
        except FlowDecodeError as exc:
            raise _Invalid(exc.errors[0]) from None
        self.check_type("node", step.type, step.id, f"{where}.node.type")
        return self.add("nodes", step.id, step_props(step), base)

    def add_edge(self, flow: FlowEdge, base: int, where: str) -> list[Change]:
        try:
            edge = edge_from_flow(
                flow, f"{where}.edge", trigger_names=frozenset(self.trigger_types)
            )
        except FlowDecodeError as exc:
            raise _Invalid(exc.errors[0]) from None
        self.check_type("edge", edge.trigger, edge.id, f"{where}.edge.data.trigger")
        props = edge_props(edge)
        self.check_endpoints(props, edge.id, base, f"{where}.edge")
        return self.add("edges", edge.id, props, base)

    @staticmethod
    def patch(prefix: str, patch: Mapping[str, Any], writes: dict[Prop, Any]) -> None:
        for key, value in patch.items():
            writes[(prefix, key)] = _DELETE if value is None else value

    def check_ui(
        self, kind: ElementKind, element_id: str, ui: Mapping[str, Any], where: str
    ) -> None:
        allowed = NODE_UI_FIELDS if kind == "nodes" else EDGE_UI_FIELDS
        probe: dict[str, Any] = {"id": element_id}
        if kind == "nodes":
            probe.update(position={"x": 0, "y": 0}, data={})
        else:
            probe.update(source="s", target="t")
        for key, value in ui.items():
            if key not in allowed:
                raise _Invalid(
                    FieldError(
                        message=f"{key!r} is not a React Flow "
                        f"{'node' if kind == 'nodes' else 'edge'} field Aisle keeps "
                        f"(allowed: {', '.join(sorted(allowed))})",
                        field=f"{where}.ui.{key}",
                        code="unknown_ui_field",
                        **self.ids(kind, element_id),
                    )
                )
            if value is not None:
                probe[key] = value
        try:
            msgspec.convert(probe, FlowNode if kind == "nodes" else FlowEdge)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `$")
            raise _Invalid(
                FieldError(
                    message=message,
                    field=f"{where}.ui{path.rstrip('`')}",
                    code="invalid_ui_field",
                    **self.ids(kind, element_id),
                )
            ) from None

    def update_node(self, op: UpdateNode, base: int, where: str) -> list[Change]:
        self.require("nodes", op.node_id, base, f"{where}.node_id")
        writes: dict[Prop, Any] = {}
        if op.type is not UNSET:
            self.check_type("node", op.type, op.node_id, f"{where}.type")
            writes[("type",)] = op.type
        if op.label is not UNSET:
            writes[("label",)] = op.label
        if op.position is not UNSET:
            writes[("position",)] = {"x": op.position.x, "y": op.position.y}
        if op.config is not UNSET:
            self.patch("config", op.config, writes)
        if op.data is not UNSET:
            self.patch("data", op.data, writes)
        if op.ui is not UNSET:
            self.check_ui("nodes", op.node_id, op.ui, where)
            self.patch("ui", op.ui, writes)
        return self.guarded_write("nodes", op.node_id, writes, base)

    def update_edge(self, op: UpdateEdge, base: int, where: str) -> list[Change]:
        self.require("edges", op.edge_id, base, f"{where}.edge_id")
        writes: dict[Prop, Any] = {}
        scalar = {
            "source": op.source,
            "target": op.target,
            "sourceHandle": op.source_handle,
            "targetHandle": op.target_handle,
            "trigger": op.trigger,
            "priority": op.priority,
            "label": op.label,
        }
        for name, value in scalar.items():
            if value is not UNSET:
                writes[(name,)] = value
        if op.trigger is not UNSET:
            self.check_type("edge", op.trigger, op.edge_id, f"{where}.trigger")
        if op.config is not UNSET:
            self.patch("config", op.config, writes)
        if op.data is not UNSET:
            self.patch("data", op.data, writes)
        if op.ui is not UNSET:
            self.check_ui("edges", op.edge_id, op.ui, where)
            self.patch("ui", op.ui, writes)
        current = self.edges.props(op.edge_id)
        assert current is not None
        after = {**current, **writes}
        self.check_endpoints(after, op.edge_id, base, where)
        return self.guarded_write("edges", op.edge_id, writes, base)

    def merged(self) -> Graph:
        return msgspec.structs.replace(
            self.base_graph,
            steps=self.nodes.elements(),
            edges=self.edges.elements(),
        )


def merge_ops(
    graph: Graph,
    ops: Sequence[FlowOp],
    *,
    base_revision: int,
    current_revision: int,
    history: Iterable[Change],
    node_types: Collection[str],
    trigger_types: Collection[str],
    limits: GraphLimits | None = None,
    atomic: bool = False,
) -> MergeResult:
    """Apply ``ops`` in order to ``graph`` (the draft at ``current_revision``).

    ``history`` holds the changes recorded after the oldest base revision of the ops
    (each with its ``revision``). Raises :class:`MergeError` (nothing applied) when an op
    is wrong on its own terms: unknown ids or types, dangling edges, base revisions
    ahead of the draft, duplicate op ids.
    """
    merger = _Merger(graph, history, node_types, trigger_types, limits or GraphLimits())
    errors: list[FieldError] = []
    seen: set[str] = set()
    result = MergeResult(graph=graph)
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        base = op.base_revision if op.base_revision is not None else base_revision
        if op.id in seen:
            errors.append(
                FieldError(
                    message=f"op id {op.id!r} appears twice in the batch", field=f"{where}.id"
                )
            )
            continue
        seen.add(op.id)
        if base > current_revision:
            errors.append(
                FieldError(
                    message=f"base revision {base} is ahead of the draft (revision "
                    f"{current_revision})",
                    field=f"{where}.base_revision",
                    code="revision_ahead",
                )
            )
            continue
        mark = merger.mark()
        try:
            changes = merger.apply(op, base, where)
        except _Invalid as exc:
            errors.append(exc.error)
            merger.undo(mark)
        except _Conflict as exc:
            result.rejected.append(RejectedOp(op, exc.items))
            merger.undo(mark)
        else:
            result.applied.append(AppliedOp(op, changes))
    if errors:
        raise MergeError(errors)
    if atomic and result.rejected:
        return MergeResult(
            graph=graph,
            applied=[],
            rejected=result.rejected,
        )
    result.graph = merger.merged() if result.applied else graph
    return result
