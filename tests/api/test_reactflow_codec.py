"""The React Flow codec: the v12 shape, React-only extras dropped, UI fields round-trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from aisle.canvas.reactflow import (
    FlowDecodeError,
    FlowDocument,
    flow_to_graph,
    graph_to_flow,
)
from aisle.domain.journey import Edge, Graph, JourneySettings, Position, Step, Viewport

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "react_flow_json_object.schema.json").read_text()
)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMA)


def to_object() -> dict[str, Any]:
    """What a canvas's ``toObject()`` hands over: with React Flow's runtime fields."""
    return {
        "nodes": [
            {
                "id": "enquiry",
                "type": "email",
                "position": {"x": 10, "y": 20},
                "data": {"label": "Send brochure", "config": {"subject": "Hello"}, "color": "#fff"},
                "width": 180,
                "height": 64,
                "parentId": "group-1",
                "style": {"border": "1px solid"},
                "sourcePosition": "right",
                "selected": True,
                "dragging": False,
                "measured": {"width": 180, "height": 64},
                "resizing": False,
            },
            {
                "id": "wait",
                "type": "wait",
                "position": {"x": 300.5, "y": 20},
                "data": {"label": "Three days"},
                "extent": "parent",
                "origin": [0.5, 0.5],
            },
        ],
        "edges": [
            {
                "id": "e1",
                "source": "enquiry",
                "target": "wait",
                "sourceHandle": None,
                "targetHandle": None,
                "type": "smoothstep",
                "label": "after 3 days",
                "data": {
                    "trigger": "time_delay",
                    "config": {"days": 3},
                    "priority": 2,
                    "note": "x",
                },
                "animated": True,
                "markerEnd": {"type": "arrowclosed", "color": "#333"},
                "selected": False,
            }
        ],
        "viewport": {"x": -40, "y": 12.5, "zoom": 0.75},
    }


def test_fixture_itself_accepts_to_object_output() -> None:
    _validator().validate(to_object())


def test_fixture_rejects_unknown_top_level_keys() -> None:
    bad = to_object() | {"settings": {}}
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(bad)


def test_decode_keeps_ui_fields_and_drops_react_runtime_fields() -> None:
    graph = flow_to_graph(msgspec.convert(to_object(), FlowDocument))
    step = graph.steps[0]
    assert step == Step(
        id="enquiry",
        type="email",
        position=Position(10, 20),
        label="Send brochure",
        config={"subject": "Hello"},
        ui={
            "width": 180.0,
            "height": 64.0,
            "parentId": "group-1",
            "style": {"border": "1px solid"},
            "sourcePosition": "right",
            "data": {"color": "#fff"},
        },
    )
    edge = graph.edges[0]
    assert edge.trigger == "time_delay"
    assert edge.config == {"days": 3} and edge.priority == 2 and edge.label == "after 3 days"
    assert edge.ui["type"] == "smoothstep" and edge.ui["animated"] is True
    assert edge.ui["data"] == {"note": "x"}
    assert "selected" not in edge.ui and "selected" not in step.ui
    assert graph.viewport == Viewport(-40, 12.5, 0.75)


def test_encode_matches_the_react_flow_types_and_round_trips() -> None:
    first = flow_to_graph(msgspec.convert(to_object(), FlowDocument))
    encoded = msgspec.to_builtins(graph_to_flow(first))
    _validator().validate(encoded)
    assert set(encoded) == {"nodes", "edges", "viewport"}
    node = encoded["nodes"][0]
    assert node["data"] == {
        "label": "Send brochure",
        "config": {"subject": "Hello"},
        "color": "#fff",
    }
    assert "selected" not in node and "measured" not in node
    again = flow_to_graph(msgspec.convert(encoded, FlowDocument))
    assert again == first


def test_read_only_extras_are_emitted_and_ignored_on_the_way_back() -> None:
    graph = Graph(steps=(Step(id="a", type="wait"),))
    flow = graph_to_flow(graph, node_extras={"a": {"issues": [{"code": "dead_end"}], "lock": None}})
    encoded = msgspec.to_builtins(flow)
    assert encoded["nodes"][0]["data"]["issues"] == [{"code": "dead_end"}]
    back = flow_to_graph(msgspec.convert(encoded, FlowDocument))
    assert back.steps[0].ui == {}


def test_edge_type_defaults_to_the_trigger_name() -> None:
    graph = Graph(
        steps=(Step(id="a", type="wait"), Step(id="b", type="end")),
        edges=(Edge(id="e", source="a", target="b", trigger="time_delay"),),
    )
    encoded = msgspec.to_builtins(graph_to_flow(graph))
    assert encoded["edges"][0]["type"] == "time_delay"
    # a canvas that only sets ``type`` to a trigger name gets that trigger
    raw = {"id": "e", "source": "a", "target": "b", "type": "time_delay"}
    doc = msgspec.convert({"nodes": [], "edges": [raw]}, FlowDocument)
    decoded = flow_to_graph(doc, trigger_names=frozenset({"time_delay", "immediate"}))
    assert decoded.edges[0].trigger == "time_delay" and decoded.edges[0].ui == {}
    # an edge component name that is not a trigger leaves the default trigger
    raw["type"] = "smoothstep"
    doc = msgspec.convert({"nodes": [], "edges": [raw]}, FlowDocument)
    decoded = flow_to_graph(doc, trigger_names=frozenset({"time_delay", "immediate"}))
    assert decoded.edges[0].trigger == "immediate" and decoded.edges[0].ui == {"type": "smoothstep"}


def test_settings_are_kept_from_the_stored_draft() -> None:
    stored = Graph(settings=JourneySettings(start_step="a"))
    doc = msgspec.convert({"nodes": [], "edges": []}, FlowDocument)
    assert flow_to_graph(doc, settings=stored).settings.start_step == "a"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["nodes"][0].pop("type"), "nodes[0].type"),
        (lambda d: d["nodes"][1]["data"].update(label=5), "nodes[1].data.label"),
        (lambda d: d["nodes"][0]["data"].update(config=[1]), "nodes[0].data.config"),
        (lambda d: d["edges"][0]["data"].update(priority="high"), "edges[0].data.priority"),
    ],
)
def test_bad_fields_are_named(mutate: Any, field: str) -> None:
    document = to_object()
    mutate(document)
    with pytest.raises(FlowDecodeError) as info:
        flow_to_graph(msgspec.convert(document, FlowDocument))
    assert [e.field for e in info.value.errors] == [field]


def test_wrong_wire_types_fail_with_a_path() -> None:
    document = to_object()
    document["nodes"][0]["position"]["x"] = "left"
    with pytest.raises(msgspec.ValidationError, match=r"\$\.nodes\[0\]\.position\.x"):
        msgspec.convert(document, FlowDocument)
