"""The per-property three-way merge of canvas operations."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from aisle.canvas.flow_ops import FlowOp, OpBatch
from aisle.canvas.graph_paths import Change, diff_graphs
from aisle.canvas.merge import MergeError, MergeResult, merge_ops
from aisle.domain.journey import Edge, Graph, Position, Step

NODE_TYPES = frozenset({"email", "wait", "end", "decision"})
TRIGGERS = frozenset({"immediate", "time_delay", "condition"})


def base_graph() -> Graph:
    return Graph(
        steps=(
            Step(id="a", type="email", label="Brochure", config={"subject": "Hi", "body": "x"}),
            Step(id="b", type="wait", position=Position(100, 0)),
            Step(id="c", type="end", position=Position(200, 0)),
        ),
        edges=(
            Edge(id="ab", source="a", target="b"),
            Edge(id="bc", source="b", target="c", trigger="time_delay", config={"days": 3}),
        ),
    )


def ops(*raw: dict[str, Any], base: int = 0) -> list[FlowOp]:
    return msgspec.convert({"base_revision": base, "ops": list(raw)}, OpBatch).ops


class Draft:
    """A tiny in-memory draft with an op history, like the store keeps it."""

    def __init__(self) -> None:
        self.graph = base_graph()
        self.revision = 0
        self.history: list[Change] = []

    def submit(self, batch: list[FlowOp], base: int, atomic: bool = False) -> MergeResult:
        result = merge_ops(
            self.graph,
            batch,
            base_revision=base,
            current_revision=self.revision,
            history=[c for c in self.history if c.revision > base],
            node_types=NODE_TYPES,
            trigger_types=TRIGGERS,
            atomic=atomic,
        )
        if result.applied:
            self.revision += 1
            for applied in result.applied:
                self.history += [
                    msgspec.structs.replace(c, revision=self.revision) for c in applied.changes
                ]
            self.graph = result.graph
        return result


def test_edits_to_different_nodes_from_the_same_base_both_apply() -> None:
    draft = Draft()
    one = draft.submit(
        ops({"op": "move_node", "id": "1", "node_id": "a", "position": {"x": 5, "y": 6}}), 0
    )
    two = draft.submit(ops({"op": "update_node", "id": "2", "node_id": "b", "label": "Wait"}), 0)
    assert not one.rejected and not two.rejected
    assert draft.graph.step("a").position == Position(5, 6)  # type: ignore[union-attr]
    assert draft.graph.step("b").label == "Wait"  # type: ignore[union-attr]
    assert draft.revision == 2


def test_different_config_keys_of_one_node_merge() -> None:
    draft = Draft()
    draft.submit(
        ops({"op": "update_node", "id": "1", "node_id": "a", "config": {"subject": "New"}}), 0
    )
    result = draft.submit(
        ops({"op": "update_node", "id": "2", "node_id": "a", "config": {"body": None}}), 0
    )
    assert not result.rejected
    assert draft.graph.step("a").config == {"subject": "New"}  # type: ignore[union-attr]


def test_same_field_from_a_stale_base_is_a_conflict_with_both_values() -> None:
    draft = Draft()
    draft.submit(ops({"op": "update_node", "id": "1", "node_id": "a", "label": "Mine first"}), 0)
    result = draft.submit(
        ops(
            {"op": "update_node", "id": "2", "node_id": "a", "label": "Theirs later"},
            {"op": "move_node", "id": "3", "node_id": "c", "position": {"x": 1, "y": 1}},
        ),
        0,
    )
    assert [r.op.id for r in result.rejected] == ["2"]
    (item,) = result.rejected[0].conflicts
    assert item.path == "/nodes/a/label" and item.node_id == "a" and item.field == "label"
    assert (item.base, item.theirs, item.mine) == ("Brochure", "Mine first", "Theirs later")
    assert [a.op.id for a in result.applied] == ["3"]  # the rest of the batch merged
    assert draft.graph.step("a").label == "Mine first"  # type: ignore[union-attr]


def test_atomic_batch_with_a_conflict_applies_nothing() -> None:
    draft = Draft()
    draft.submit(ops({"op": "update_node", "id": "1", "node_id": "a", "label": "X"}), 0)
    result = draft.submit(
        ops(
            {"op": "update_node", "id": "2", "node_id": "a", "label": "Y"},
            {"op": "move_node", "id": "3", "node_id": "c", "position": {"x": 1, "y": 1}},
        ),
        0,
        atomic=True,
    )
    assert not result.applied and len(result.rejected) == 1
    assert draft.graph.step("c").position == Position(200, 0)  # type: ignore[union-attr]


def test_the_same_change_twice_is_not_a_conflict() -> None:
    draft = Draft()
    draft.submit(ops({"op": "update_node", "id": "1", "node_id": "a", "label": "Same"}), 0)
    result = draft.submit(ops({"op": "update_node", "id": "2", "node_id": "a", "label": "Same"}), 0)
    assert not result.rejected


def test_up_to_date_base_overwrites_without_conflict() -> None:
    draft = Draft()
    draft.submit(ops({"op": "update_node", "id": "1", "node_id": "a", "label": "One"}), 0)
    result = draft.submit(ops({"op": "update_node", "id": "2", "node_id": "a", "label": "Two"}), 1)
    assert not result.rejected and draft.graph.step("a").label == "Two"  # type: ignore[union-attr]


def test_editing_a_node_removed_since_base_conflicts() -> None:
    draft = Draft()
    draft.submit(ops({"op": "remove_node", "id": "1", "node_id": "b"}), 0)
    assert draft.graph.step("b") is None and len(draft.graph.edges) == 0  # edges went with it
    result = draft.submit(ops({"op": "update_node", "id": "2", "node_id": "b", "label": "?"}), 0)
    (item,) = result.rejected[0].conflicts
    assert item.path == "/nodes/b" and item.theirs is None and item.base["id"] == "b"


def test_removing_a_node_someone_just_edited_conflicts() -> None:
    draft = Draft()
    draft.submit(ops({"op": "update_edge", "id": "1", "edge_id": "bc", "config": {"days": 5}}), 0)
    result = draft.submit(ops({"op": "remove_node", "id": "2", "node_id": "c"}), 0)
    (item,) = result.rejected[0].conflicts
    assert item.edge_id == "bc" and item.theirs["config"] == {"days": 5} and item.mine is None


def test_removing_twice_is_a_no_op() -> None:
    draft = Draft()
    draft.submit(ops({"op": "remove_edge", "id": "1", "edge_id": "ab"}), 0)
    result = draft.submit(ops({"op": "remove_edge", "id": "2", "edge_id": "ab"}), 0)
    assert not result.rejected and result.applied[0].changes == []


def test_add_node_and_edge_in_one_batch() -> None:
    draft = Draft()
    result = draft.submit(
        ops(
            {
                "op": "add_node",
                "id": "1",
                "node": {
                    "id": "d",
                    "type": "email",
                    "position": {"x": 0, "y": 9},
                    "data": {"label": "D"},
                    "selected": True,
                    "width": 120,
                },
            },
            {"op": "add_edge", "id": "2", "edge": {"id": "cd", "source": "c", "target": "d"}},
        ),
        0,
    )
    assert not result.rejected
    assert draft.graph.step("d").ui == {"width": 120.0}  # type: ignore[union-attr]
    assert draft.graph.edges[-1].trigger == "immediate"


def test_concurrent_adds_of_the_same_id_conflict_unless_identical() -> None:
    draft = Draft()
    node = {"id": "d", "type": "email", "position": {"x": 0, "y": 0}, "data": {"label": "D"}}
    draft.submit(ops({"op": "add_node", "id": "1", "node": node}), 0)
    same = draft.submit(ops({"op": "add_node", "id": "2", "node": node}), 0)
    assert not same.rejected
    other = draft.submit(
        ops({"op": "add_node", "id": "3", "node": node | {"data": {"label": "E"}}}), 0
    )
    (item,) = other.rejected[0].conflicts
    assert item.theirs["label"] == "D" and item.mine["label"] == "E"


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        (
            {
                "op": "add_node",
                "id": "x",
                "node": {"id": "z", "type": "nope", "position": {"x": 0, "y": 0}, "data": {}},
            },
            "ops[0].node.type",
            "unknown_node_type",
        ),
        (
            {"op": "add_edge", "id": "x", "edge": {"id": "z", "source": "a", "target": "ghost"}},
            "ops[0].edge.target",
            "dangling_edge",
        ),
        (
            {
                "op": "add_edge",
                "id": "x",
                "edge": {"id": "z", "source": "a", "target": "b", "data": {"trigger": "bogus"}},
            },
            "ops[0].edge.data.trigger",
            "unknown_trigger_type",
        ),
        (
            {"op": "move_node", "id": "x", "node_id": "ghost", "position": {"x": 0, "y": 0}},
            "ops[0].node_id",
            "unknown_node",
        ),
        (
            {
                "op": "add_node",
                "id": "x",
                "node": {"id": "a", "type": "email", "position": {"x": 0, "y": 0}, "data": {}},
            },
            "node.id",
            "duplicate_id",
        ),
        (
            {"op": "update_node", "id": "x", "node_id": "a", "ui": {"selected": True}},
            "ops[0].ui.selected",
            "unknown_ui_field",
        ),
        (
            {"op": "update_node", "id": "x", "node_id": "a", "ui": {"width": "wide"}},
            "ops[0].ui.width",
            "invalid_ui_field",
        ),
        (
            {"op": "update_edge", "id": "x", "edge_id": "ab", "target": "ghost"},
            "ops[0].target",
            "dangling_edge",
        ),
    ],
)
def test_invalid_ops_name_the_field(raw: dict[str, Any], field: str, code: str) -> None:
    draft = Draft()
    with pytest.raises(MergeError) as info:
        draft.submit(ops(raw), 0)
    (error,) = info.value.errors
    assert (error.field, error.code) == (field, code)
    assert draft.revision == 0


def test_base_ahead_of_the_draft_is_refused() -> None:
    with pytest.raises(MergeError, match="ahead"):
        Draft().submit(ops({"op": "remove_edge", "id": "1", "edge_id": "ab"}, base=3), 3)


def test_diff_graphs_names_each_changed_property() -> None:
    old = base_graph()
    new = msgspec.structs.replace(
        old,
        steps=(msgspec.structs.replace(old.steps[0], label="Changed"), *old.steps[1:]),
        edges=old.edges[1:],
    )
    paths = {c.path: (c.old, c.new) for c in diff_graphs(old, new)}
    assert paths["/nodes/a/label"] == ("Brochure", "Changed")
    assert paths["/edges/ab"][1] is None
    assert len(paths) == 2
