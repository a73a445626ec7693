"""The journey graph picture: layout properties, escaping, counts, problems and diffs."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import msgspec
import pytest

from aisle.contracts.registry import Registry
from aisle.demo import demo_journey
from aisle.domain.journey import Edge, Graph, JourneySettings, Position, Step
from aisle.engine.validation import validate
from aisle_dashboard.svg import diff_view, render_journey_graph
from aisle_dashboard.svg.edge_text import trigger_summary
from aisle_dashboard.svg.layout import EdgeSpec, Layout, layered_layout

SVG = "{http://www.w3.org/2000/svg}"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "svg"


def parse(svg: str) -> ET.Element:
    """The picture as XML: fails on anything not well-formed (an unescaped label)."""
    return ET.fromstring(svg)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def title_of(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    assert found is not None
    return found.text or ""


def boxes_overlap(layout: Layout) -> list[tuple[str, str]]:
    items = list(layout.nodes.values())
    clashes = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if (
                abs(a.x - b.x) < (a.width + b.width) / 2
                and abs(a.y - b.y) < (a.height + b.height) / 2
            ):
                clashes.append((a.key, b.key))
    return clashes


def chain(n: int) -> Graph:
    steps = tuple(Step(id=f"s{i}", type="wait", label=f"Step {i}") for i in range(n))
    edges = tuple(
        Edge(
            id=f"e{i}", source=f"s{i}", target=f"s{i + 1}", trigger="time_delay", config={"days": 1}
        )
        for i in range(n - 1)
    )
    return Graph(steps=steps, edges=edges, settings=JourneySettings(start_step="s0"))


def random_dag(n: int, extra: int, seed: int) -> Graph:
    rng = random.Random(seed)
    steps = tuple(Step(id=f"n{i}", type="email", label=f"Email {i}") for i in range(n))
    pairs = {(i, i + 1) for i in range(n - 1)}
    while len(pairs) < n - 1 + extra:
        a, b = sorted(rng.sample(range(n), 2))
        pairs.add((a, b))
    edges = tuple(
        Edge(id=f"e{a}-{b}", source=f"n{a}", target=f"n{b}", trigger="immediate")
        for a, b in sorted(pairs)
    )
    return Graph(steps=steps, edges=edges, settings=JourneySettings(start_step="n0"))


def lay_out(graph: Graph) -> Layout:
    return layered_layout(
        [(s.id, 200.0, 60.0) for s in graph.steps],
        [EdgeSpec(e.id, e.source, e.target, 80.0, 20.0) for e in graph.edges],
        first=graph.settings.start_step,
    )


# -- layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_50_step_journey_has_no_overlaps_and_every_edge_runs_down(seed: int) -> None:
    graph = random_dag(50, 40, seed)
    layout = lay_out(graph)
    assert boxes_overlap(layout) == []
    assert {r.edge.id for r in layout.routes} == {e.id for e in graph.edges}
    for route in layout.routes:
        assert not route.reversed
        source, target = layout.nodes[route.edge.source], layout.nodes[route.edge.target]
        ys = [source.y, *(y for _, y in route.points), target.y]
        assert all(a < b for a, b in pairwise(ys)), route.edge.id


def test_label_holders_and_bends_do_not_overlap_each_other_either() -> None:
    layout = lay_out(random_dag(30, 30, 7))
    # Items of one rank are kept apart by the placement; check every rank's neighbours.
    by_rank: dict[float, list[tuple[float, float]]] = {}
    for route in layout.routes:
        for x, y in route.points:
            by_rank.setdefault(y, []).append((x, 1.0))
    for item in layout.nodes.values():
        by_rank.setdefault(item.y, []).append((item.x, item.width))
    for row in by_rank.values():
        row.sort()
        for (x0, _), (x1, _) in pairwise(row):
            assert x1 - x0 >= 1.0


def test_ordering_removes_avoidable_crossings() -> None:
    # Given in an order that crosses (a→d, b→c with c before d), it is untangled.
    layout = layered_layout(
        [("a", 50.0, 20.0), ("b", 50.0, 20.0), ("c", 50.0, 20.0), ("d", 50.0, 20.0)],
        [EdgeSpec("ad", "a", "d"), EdgeSpec("bc", "b", "c")],
    )
    nodes = layout.nodes
    assert (nodes["a"].x < nodes["b"].x) == (nodes["d"].x < nodes["c"].x)


def test_a_cycle_is_drawn_with_its_back_edge_going_up() -> None:
    graph = Graph(
        steps=(
            Step(id="ask", type="email"),
            Step(id="wait", type="wait"),
            Step(id="check", type="decision"),
            Step(id="done", type="end"),
        ),
        edges=(
            Edge(id="e1", source="ask", target="wait"),
            Edge(id="e2", source="wait", target="check", trigger="time_delay", config={"days": 2}),
            Edge(id="again", source="check", target="ask", trigger="otherwise"),
            Edge(id="e3", source="check", target="done", trigger="condition"),
            Edge(id="self", source="wait", target="wait", trigger="manual"),
        ),
        settings=JourneySettings(start_step="ask"),
    )
    layout = lay_out(graph)
    routes = {r.edge.id: r for r in layout.routes}
    assert routes["again"].reversed
    assert [r for r in routes.values() if r.reversed] == [routes["again"]]
    assert layout.nodes["check"].y > layout.nodes["ask"].y
    assert routes["self"].points == ()
    assert boxes_overlap(layout) == []
    root = parse(render_journey_graph(graph, title="Loop"))
    assert {g.get("data-edge-id") for g in groups(root, "edge")} == {
        "e1",
        "e2",
        "again",
        "e3",
        "self",
    }


def test_the_same_input_gives_the_same_bytes(registry: Registry) -> None:
    graph = random_dag(40, 30, 11)
    first = render_journey_graph(graph, title="x", node_types=registry.node_types)
    again = render_journey_graph(graph, title="x", node_types=registry.node_types)
    assert first == again


def test_the_bench_row_draws_a_50_step_journey(quick_bench: Callable[..., list[str]]) -> None:
    # The time is measured by the bench (python -m bench --only svg.journey_graph).
    [row] = quick_bench("svg.journey_graph")
    assert row.startswith("svg.journey_graph ") and row.split()[7] == "10"


# -- the picture ------------------------------------------------------------------------


def test_the_demo_journey_draws_every_step_and_edge(registry: Registry) -> None:
    graph = demo_journey()
    counts = {"send_brochure": 3, "is_booked": 1250}
    svg = render_journey_graph(
        graph,
        title="Wedding photography client journey",
        node_types=registry.node_types,
        trigger_types=registry.trigger_types,
        counts=counts,
        issues=validate(graph, registry),
    )
    root = parse(svg)
    assert root.get("role") == "img"
    ids = (root.get("aria-labelledby") or "").split()
    assert [root.find(f"{SVG}title"), root.find(f"{SVG}desc")] == [
        e for e in root.iter() if e.get("id") in ids
    ]
    steps = {g.get("data-step-id"): g for g in groups(root, "step")}
    assert set(steps) == {s.id for s in graph.steps}
    assert {g.get("data-edge-id") for g in groups(root, "edge")} == {e.id for e in graph.edges}
    badges = {
        step_id: [b.get("data-count") for b in groups(g, "count")] for step_id, g in steps.items()
    }
    assert badges["send_brochure"] == ["3"]
    assert badges["is_booked"] == ["1250"]
    assert badges["done"] == ["0"]
    assert "1,250" in ET.tostring(steps["is_booked"], encoding="unicode")
    # Each step names its icon, one symbol per icon used.
    symbols = {s.get("id") for s in root.iter(f"{SVG}symbol")}
    uses = {u.get("href") for u in root.iter(f"{SVG}use")}
    assert {f"#{s}" for s in symbols} == uses
    assert "#jg-icon-mail" in uses and "#jg-icon-git-branch" in uses
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "Send the brochure (Send email), 3 couples here now" in (
        desc.text or ""
    )
    edge_titles = {g.get("data-edge-id"): title_of(g) for g in groups(root, "edge")}
    assert edge_titles["wait_for_reply-to-is_booked"] == "after 3 days (3 days later)"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "demo-journey.svg").write_text(svg)


def test_without_counts_there_are_no_badges() -> None:
    root = parse(render_journey_graph(demo_journey(), title="Demo"))
    assert groups(root, "count") == []


def test_user_text_is_escaped_everywhere() -> None:
    nasty = "<script>alert(\"x\")</script> & 'quoted'"
    graph = Graph(
        steps=(
            Step(id='a"<b>', type="email", label=nasty),
            Step(id="b", type="x<y>", label="plain"),
        ),
        edges=(
            Edge(
                id="e'1",
                source='a"<b>',
                target="b",
                trigger="some_plugin_trigger",
                label=nasty,
                config={"note": nasty},
            ),
        ),
        settings=JourneySettings(start_step='a"<b>'),
    )
    svg = render_journey_graph(
        graph, title=nasty, step_href=lambda step_id: f"/journeys/j1/steps/{step_id}?x=1&y=2"
    )
    assert "<script" not in svg
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == nasty
    step = next(g for g in groups(root, "step") if g.get("data-step-id") == 'a"<b>')
    assert nasty.split(" &")[0][:10] in title_of(step)
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert '/journeys/j1/steps/a"<b>?x=1&y=2' in links
    assert root.get("role") == "group"
    edge = groups(root, "edge")[0]
    assert edge.get("data-edge-id") == "e'1"
    assert nasty in title_of(edge)


def test_problems_are_marked_on_their_steps(registry: Registry) -> None:
    graph = demo_journey()
    broken = msgspec.structs.replace(
        graph,
        steps=tuple(
            msgspec.structs.replace(s, config={**s.config, "currency": "pounds"})
            if s.id == "request_deposit"
            else s
            for s in graph.steps
        ),
    )
    issues = validate(broken, registry)
    assert {i.node_id for i in issues} == {"request_deposit"}
    root = parse(render_journey_graph(broken, title="Broken", issues=issues))
    marked = {g.get("data-step-id"): g for g in groups(root, "step") if g.get("data-problems")}
    assert list(marked) == ["request_deposit"]
    step = marked["request_deposit"]
    assert issues[0].message in title_of(step)
    assert groups(step, "problem")
    rect = step.find(f"{SVG}rect")
    assert rect is not None and rect.get("stroke") == "#dc2626"


def test_a_version_diff_marks_added_changed_and_removed(registry: Registry) -> None:
    old = demo_journey()
    kept = []
    for s in old.steps:
        if s.id == "send_brochure":
            kept.append(msgspec.structs.replace(s, label="Send our brochure"))
        elif s.id == "wait_for_reply":
            kept.append(msgspec.structs.replace(s, position=Position(999, 999)))
        elif s.id != "follow_up":
            kept.append(s)
    new = msgspec.structs.replace(
        old,
        steps=(*kept, Step(id="thank_you", type="email", label="Thank you")),
        edges=(
            *(e for e in old.edges if "follow_up" not in e.id),
            Edge(id="not_booked-thanks", source="not_booked", target="thank_you"),
        ),
    )
    union, diff = diff_view(old, new)
    assert diff.added == {"thank_you", "not_booked-thanks"}
    assert diff.changed == {"send_brochure"}  # moving a box is no change
    assert diff.removed == {"follow_up", "is_booked-to-follow_up", "follow_up-to-not_booked"}
    svg = render_journey_graph(union, title="v1 → v2", node_types=registry.node_types, diff=diff)
    root = parse(svg)
    states = {g.get("data-step-id"): g.get("data-diff") for g in groups(root, "step")}
    assert states["thank_you"] == "added"
    assert states["send_brochure"] == "changed"
    assert states["follow_up"] == "removed"
    assert states["wait_for_reply"] is None
    edges = {g.get("data-edge-id"): g.get("data-diff") for g in groups(root, "edge")}
    assert edges["is_booked-to-follow_up"] == "removed"
    assert groups(root, "legend")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "demo-journey-diff.svg").write_text(svg)


def test_duplicate_ids_and_dangling_edges_still_draw() -> None:
    graph = Graph(
        steps=(Step(id="a", type="email"), Step(id="a", type="sms"), Step(id="b", type="end")),
        edges=(Edge(id="e", source="a", target="b"), Edge(id="dangling", source="a", target="zz")),
    )
    root = parse(render_journey_graph(graph, title="odd"))
    assert [g.get("data-step-id") for g in groups(root, "step")] == ["a", "b"]
    assert [g.get("data-edge-id") for g in groups(root, "edge")] == ["e"]


def test_two_pictures_on_a_page_get_their_own_ids() -> None:
    svg = render_journey_graph(chain(3), title="x", id_prefix="v2")
    ids = [e.get("id") for e in parse(svg).iter() if e.get("id")]
    assert ids and all(i.startswith("v2-") for i in ids)
    with pytest.raises(ValueError, match="id_prefix"):
        render_journey_graph(chain(3), title="x", id_prefix='x" onload="')


@pytest.mark.parametrize(
    ("trigger", "config", "label", "expected"),
    [
        ("immediate", {}, "", "immediately"),
        ("time_delay", {"days": 3}, "", "after 3 days"),
        ("time_delay", {"days": 1, "hours": 2}, "", "after 1 day 2 hours"),
        ("date_reached", {"days": -7, "at": "10:00"}, "", "7 days before the wedding at 10:00"),
        (
            "date_reached",
            {"field": "custom.shoot", "days": 1},
            "",
            "1 day after custom.shoot at 09:00",
        ),
        (
            "payment_received",
            {"min_amount": "500.00", "currency": "GBP"},
            "",
            "payment ≥ 500.00 GBP",
        ),
        ("form_submission", {"form_id": "questionnaire"}, "", "form questionnaire submitted"),
        ("condition", {"expression": "contact.custom.booked"}, "", "if contact.custom.booked"),
        (
            "email_opened",
            {"step": "welcome", "flag": True},
            "Email opened",
            "email opened, step welcome",
        ),
        ("email_opened", {}, "", "email opened"),
    ],
)
def test_edge_labels_say_when_a_couple_moves_on(
    trigger: str, config: dict[str, object], label: str, expected: str
) -> None:
    assert trigger_summary(trigger, config, label) == expected
