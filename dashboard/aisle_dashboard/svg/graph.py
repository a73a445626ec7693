"""A journey's graph as an SVG picture, laid out on the server.

:func:`render_journey_graph` draws each step as a box with its type's icon, label and
type, a badge with the couples at that step now, a mark on the steps validation found
problems with, and, for a version diff, the steps and edges added, changed or removed
in colour; each edge is a path with an arrow and a label saying when a couple takes it.

The picture is self-contained (presentation attributes, no stylesheet), so it draws the
same inline in a page, in a file, or under a strict Content-Security-Policy.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aisle.domain.journey import Edge, Graph, Step
from aisle_dashboard.svg import icons
from aisle_dashboard.svg.diff import GraphDiff
from aisle_dashboard.svg.edge_text import trigger_summary
from aisle_dashboard.svg.layout import EdgeSpec, Layout, Route, layered_layout
from aisle_dashboard.svg.markup import attr, attrs, clip, num, text, text_width

__all__ = [
    "IssueLike",
    "NodeTypeLook",
    "TriggerTypeLook",
    "render_journey_graph",
]

NODE_WIDTH = 216.0
NODE_HEIGHT = 60.0
LABEL_SIZE = 11.0
LABEL_LINE = 15.0
LABEL_CHARS = 34
LEGEND_HEIGHT = 30.0
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"

CATEGORY_COLOURS = {
    "message": "#2563eb",
    "task": "#7c3aed",
    "logic": "#c2410c",
    "flow": "#0e7490",
    "integration": "#047857",
}
DEFAULT_COLOUR = "#475569"
DIFF_STYLE = {
    # state: (stroke, fill, legend text)
    "added": ("#15803d", "#f0fdf4", "added"),
    "changed": ("#b45309", "#fffbeb", "changed"),
    "removed": ("#64748b", "#f1f5f9", "removed"),
}
SEVERITY_COLOURS = {"error": "#dc2626", "warning": "#d97706"}
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")


class NodeTypeLook(Protocol):
    """What the drawing reads of a node type (``Registry.node_types`` values fit)."""

    @property
    def icon(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def label(self) -> str: ...


class TriggerTypeLook(Protocol):
    """What the drawing reads of a trigger type (``Registry.trigger_types`` values fit)."""

    @property
    def label(self) -> str: ...


class IssueLike(Protocol):
    """A validation finding (``CanvasService.draft_issues`` gives these)."""

    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def node_id(self) -> str | None: ...
    @property
    def edge_id(self) -> str | None: ...


@dataclass(frozen=True)
class _EdgeText:
    summary: str
    label: str

    @property
    def lines(self) -> list[str]:
        return [clip(line, LABEL_CHARS) for line in (self.summary, self.label) if line]

    @property
    def size(self) -> tuple[float, float]:
        lines = self.lines
        width = max(text_width(line, LABEL_SIZE) for line in lines) + 12
        return width, len(lines) * LABEL_LINE + 6


def _severity(found: list[IssueLike]) -> str:
    return "error" if any(i.severity == "error" for i in found) else "warning"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class _Drawing:
    """One rendering: the inputs, the layout and the markup being written."""

    def __init__(
        self,
        graph: Graph,
        *,
        node_types: Mapping[str, NodeTypeLook],
        trigger_types: Mapping[str, TriggerTypeLook],
        counts: Mapping[str, int] | None,
        issues: Iterable[IssueLike],
        diff: GraphDiff | None,
        step_href: Callable[[str], str] | None,
        prefix: str,
    ) -> None:
        # Duplicate ids and dangling edges are validation errors (marked as issues);
        # the picture draws the first of each id and the edges it can place.
        steps = {s.id: s for s in reversed(graph.steps)}
        known = set(steps)
        edges = {e.id: e for e in reversed(graph.edges) if e.source in known and e.target in known}
        self.graph = Graph(
            steps=tuple(s for s in graph.steps if steps.get(s.id) is s),
            edges=tuple(e for e in graph.edges if edges.get(e.id) is e),
            settings=graph.settings,
        )
        self.node_types = node_types
        self.counts = counts
        self.diff = diff or GraphDiff()
        self.has_diff = diff is not None
        self.step_href = step_href
        self.prefix = prefix
        self.node_issues: dict[str, list[IssueLike]] = defaultdict(list)
        self.edge_issues: dict[str, list[IssueLike]] = defaultdict(list)
        for issue in issues:
            if issue.node_id:
                self.node_issues[issue.node_id].append(issue)
            if issue.edge_id:
                self.edge_issues[issue.edge_id].append(issue)
        self.edge_text = {
            e.id: _EdgeText(
                summary=trigger_summary(
                    e.trigger,
                    e.config,
                    trigger_types[e.trigger].label if e.trigger in trigger_types else "",
                ),
                label=e.label,
            )
            for e in self.graph.edges
        }
        self.layout = self._lay_out()
        self.ports = self._ports()

    # -- layout -----------------------------------------------------------------------

    def _lay_out(self) -> Layout:
        steps = [s.id for s in self.graph.steps]
        specs = []
        for edge in self.graph.edges:
            width, height = self.edge_text[edge.id].size
            specs.append(EdgeSpec(edge.id, edge.source, edge.target, width, height))
        return layered_layout(
            [(s, NODE_WIDTH, NODE_HEIGHT) for s in steps],
            specs,
            first=self.graph.settings.start_step,
        )

    def _ports(self) -> dict[tuple[str, str], tuple[float, float]]:
        """Where each edge leaves and enters its boxes, spread along the box's side in
        the order the edges run, so edges sharing a side do not start on one point."""
        sides: dict[tuple[str, str], list[tuple[float, str, str]]] = defaultdict(list)
        nodes = self.layout.nodes
        for route in self.layout.routes:
            if not route.points:
                continue
            edge = route.edge
            first, last = route.points[0], route.points[-1]
            out_side, in_side = ("top", "bottom") if route.reversed else ("bottom", "top")
            sides[(edge.source, out_side)].append((first[0], edge.id, "out"))
            sides[(edge.target, in_side)].append((last[0], edge.id, "in"))
        ports: dict[tuple[str, str], tuple[float, float]] = {}
        for (node_id, side), ends in sides.items():
            node = nodes[node_id]
            ends.sort()
            spread = min(NODE_WIDTH * 0.6, 24.0 * (len(ends) - 1))
            y = node.y - node.height / 2 if side == "top" else node.y + node.height / 2
            for i, (_, edge_id, end) in enumerate(ends):
                shift = -spread / 2 + (spread * i / (len(ends) - 1) if len(ends) > 1 else 0)
                ports[(edge_id, end)] = (node.x + shift, y)
        return ports

    # -- markup -----------------------------------------------------------------------

    def _id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def type_look(self, step: Step) -> tuple[str, str, str]:
        """(icon name, colour, type label) of a step's type."""
        look = self.node_types.get(step.type)
        if look is None:
            return icons.icon_for("", ""), DEFAULT_COLOUR, step.type.replace("_", " ")
        return (
            icons.icon_for(look.icon, look.category),
            CATEGORY_COLOURS.get(look.category, DEFAULT_COLOUR),
            look.label or step.type.replace("_", " "),
        )

    def _count(self, step_id: str) -> int:
        return self.counts.get(step_id, 0) if self.counts is not None else 0

    def description(self) -> str:
        steps = self.graph.steps
        parts = [
            f"{_plural(len(steps), 'step', 'steps')} and "
            f"{_plural(len(self.graph.edges), 'connection', 'connections')}."
        ]
        start = self.graph.step(self.graph.settings.start_step or "")
        if start is not None:
            parts.append(f"Starts at {start.label or start.id}.")
        for step in steps:
            _, _, type_label = self.type_look(step)
            bits = [f"{step.label or step.id} ({type_label})"]
            if self.counts is not None:
                bits.append(_plural(self._count(step.id), "couple", "couples") + " here now")
            found = self.node_issues.get(step.id, [])
            if found:
                bits.append(_plural(len(found), "problem", "problems"))
            state = self.diff.state(step.id)
            if state:
                bits.append(state)
            parts.append(", ".join(bits) + ".")
        return " ".join(parts)

    def node(self, step: Step) -> str:
        item = self.layout.nodes[step.id]
        x, y = item.x - item.width / 2, item.y - item.height / 2
        icon, colour, type_label = self.type_look(step)
        state = self.diff.state(step.id)
        found = self.node_issues.get(step.id, [])
        stroke, fill, width = "#94a3b8", "#ffffff", 1.5
        if state:
            stroke, fill, _ = DIFF_STYLE[state]
            width = 2.5
        if found:
            stroke, width = SEVERITY_COLOURS[_severity(found)], 2.5
        name = step.label or step.id
        tooltip = [f"{name} ({type_label})"]
        if self.counts is not None:
            tooltip.append(_plural(self._count(step.id), "couple", "couples") + " here now")
        tooltip.extend(f"{i.severity}: {i.message}" for i in found)
        if state:
            tooltip.append(f"{state} in this version")
        out = [
            f'<g class="step"{attrs({"data-step-id": step.id})}'
            + (f' data-diff="{state}"' if state else "")
            + (' data-problems="' + str(len(found)) + '"' if found else "")
            + ">",
            f"<title>{text('. '.join(tooltip))}</title>",
            "<rect"
            + attrs({"x": x, "y": y, "width": item.width, "height": item.height, "rx": 10})
            + f' fill="{fill}" stroke="{stroke}" stroke-width="{num(width)}"'
            + (' stroke-dasharray="6 4"' if state == "removed" else "")
            + "/>",
            f'<use href="#{self._id("icon-" + icon)}"'
            + attrs({"x": x + 12, "y": y + 18, "width": 24, "height": 24})
            + f' color="{colour}"/>',
            f'<text{attrs({"x": x + 46, "y": y + 26})} font-size="13" font-weight="600"'
            f' fill="#0f172a"'
            + (' text-decoration="line-through"' if state == "removed" else "")
            + f">{text(clip(name, 20))}</text>",
            f'<text{attrs({"x": x + 46, "y": y + 44})} font-size="11" fill="#475569">'
            f"{text(clip(type_label, 26))}</text>",
        ]
        if self.counts is not None:
            out.append(self._badge(x + item.width, y, self._count(step.id)))
        if found:
            colour = SEVERITY_COLOURS[_severity(found)]
            out.append(
                f'<g class="problem"><circle{attrs({"cx": x, "cy": y, "r": 10})} fill="{colour}"/>'
                f'<text{attrs({"x": x, "y": y + 4.5})} font-size="13" font-weight="700" '
                f'fill="#ffffff" text-anchor="middle">!</text></g>'
            )
        out.append("</g>")
        body = "".join(out)
        if self.step_href is not None:
            label = f"{name}: {type_label}"
            body = (
                f'<a href="{attr(self.step_href(step.id))}" aria-label="{attr(label)}">{body}</a>'
            )
        return body

    def _badge(self, right: float, top: float, count: int) -> str:
        shown = f"{count:,}"
        width = max(24.0, text_width(shown, 12) + 14)
        fill, ink = ("#1d4ed8", "#ffffff") if count else ("#e2e8f0", "#334155")
        return (
            f'<g class="count" data-count="{count}">'
            + "<rect"
            + attrs(
                {
                    "x": right - width + 8,
                    "y": top - 11,
                    "width": width,
                    "height": 22,
                    "rx": 11,
                }
            )
            + f' fill="{fill}" stroke="#ffffff" stroke-width="2"/>'
            + f'<text{attrs({"x": right - width / 2 + 8, "y": top + 4.5})} font-size="12" '
            f'font-weight="700" fill="{ink}" text-anchor="middle">{shown}</text></g>'
        )

    def edge(self, edge: Edge, route: Route) -> str:
        state = self.diff.state(edge.id)
        found = self.edge_issues.get(edge.id, [])
        stroke = "#64748b"
        if state:
            stroke = DIFF_STYLE[state][0]
        if found:
            stroke = SEVERITY_COLOURS[_severity(found)]
        words = self.edge_text[edge.id]
        tooltip = [f"{words.summary}" + (f" ({words.label})" if words.label else "")]
        tooltip.extend(f"{i.severity}: {i.message}" for i in found)
        if state:
            tooltip.append(f"{state} in this version")
        marker = self._id("arrow-" + ("plain" if not (state or found) else stroke[1:]))
        dash = ' stroke-dasharray="6 4"' if state == "removed" or route.reversed else ""
        head = (
            f'<g class="edge"{attrs({"data-edge-id": edge.id})}'
            + (f' data-diff="{state}"' if state else "")
            + f"><title>{text('. '.join(tooltip))}</title>"
        )
        if not route.points:
            return head + self._self_loop(edge, stroke, marker) + "</g>"
        points = [self.ports[(edge.id, "out")], *route.points, self.ports[(edge.id, "in")]]
        path = [f"M{num(points[0][0])} {num(points[0][1])}"]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            bend = (y1 - y0) / 2
            path.append(
                f"C{num(x0)} {num(y0 + bend)} {num(x1)} {num(y1 - bend)} {num(x1)} {num(y1)}"
            )
        out = [
            head,
            f'<path d="{" ".join(path)}" fill="none" stroke="{stroke}" stroke-width="1.6"'
            f'{dash} marker-end="url(#{marker})"/>',
        ]
        if route.label is not None:
            out.append(self._label(words, route.label, stroke))
        out.append("</g>")
        return "".join(out)

    def _label(self, words: _EdgeText, centre: tuple[float, float], stroke: str) -> str:
        width, height = words.size
        cx, cy = centre
        out = [
            "<rect"
            + attrs(
                {
                    "x": cx - width / 2,
                    "y": cy - height / 2,
                    "width": width,
                    "height": height,
                    "rx": 6,
                }
            )
            + f' fill="#f8fafc" stroke="{stroke}" stroke-width="0.8"/>'
        ]
        for i, line in enumerate(words.lines):
            y = cy - height / 2 + 3 + LABEL_LINE * (i + 0.75)
            style = ' font-style="italic"' if i == 1 else ""
            out.append(
                f'<text{attrs({"x": cx, "y": y})} font-size="{num(LABEL_SIZE)}" fill="#334155"'
                f' text-anchor="middle"{style}>{text(line)}</text>'
            )
        return "".join(out)

    def _self_loop(self, edge: Edge, stroke: str, marker: str) -> str:
        item = self.layout.nodes[edge.source]
        right = item.x + item.width / 2
        top, bottom = item.y - 12, item.y + 12
        path = (
            f"M{num(right)} {num(top)} C{num(right + 44)} {num(top - 26)} "
            f"{num(right + 44)} {num(bottom + 26)} {num(right)} {num(bottom)}"
        )
        words = self.edge_text[edge.id]
        return (
            f'<path d="{path}" fill="none" stroke="{stroke}" stroke-width="1.6"'
            f' marker-end="url(#{marker})"/>'
            f'<text{attrs({"x": right + 48, "y": item.y + 4})} font-size="{num(LABEL_SIZE)}"'
            f' fill="#334155">{text(words.lines[0])}</text>'
        )

    def markers(self) -> str:
        colours = {"plain": "#64748b"}
        for colour, *_ in DIFF_STYLE.values():
            colours[colour[1:]] = colour
        for colour in SEVERITY_COLOURS.values():
            colours[colour[1:]] = colour
        return "".join(
            f'<marker id="{self._id("arrow-" + name)}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
            for name, colour in colours.items()
        )

    def legend(self) -> str:
        out = ['<g class="legend" font-size="12" fill="#334155">']
        x = 24.0
        for state, (stroke, fill, words) in DIFF_STYLE.items():
            out.append(
                "<rect"
                + attrs({"x": x, "y": 10, "width": 16, "height": 12, "rx": 3})
                + f' fill="{fill}" stroke="{stroke}" stroke-width="2"'
                + (' stroke-dasharray="4 2"' if state == "removed" else "")
                + "/>"
                + f"<text{attrs({'x': x + 22, 'y': 20})}>{text(words)}</text>"
            )
            x += 34 + text_width(words, 12)
        out.append("</g>")
        return "".join(out)

    def render(self, title: str) -> str:
        layout = self.layout
        loops = [self.edge_text[e.id] for e in self.graph.edges if e.source == e.target]
        extra = max((text_width(w.lines[0], LABEL_SIZE) + 56 for w in loops), default=0.0)
        top = LEGEND_HEIGHT if self.has_diff else 0.0
        width, height = layout.width + extra, layout.height + top
        used_icons = {self.type_look(s)[0] for s in self.graph.steps}
        routes = {r.edge.id: r for r in layout.routes}
        edges = [self.edge(e, routes[e.id]) for e in self.graph.edges if e.id in routes]
        nodes = [self.node(s) for s in self.graph.steps]
        label_ids = f"{self._id('title')} {self._id('desc')}"
        return "".join(
            [
                '<svg xmlns="http://www.w3.org/2000/svg"'
                + attrs(
                    {
                        "viewBox": f"0 0 {num(width)} {num(height)}",
                        "width": width,
                        "height": height,
                        "role": "group" if self.step_href else "img",
                        "aria-labelledby": label_ids,
                        "class": "journey-graph",
                        "font-family": FONT,
                    }
                )
                + ">",
                f'<title id="{self._id("title")}">{text(title)}</title>',
                f'<desc id="{self._id("desc")}">{text(self.description())}</desc>',
                "<defs>",
                icons.symbols(used_icons, self.prefix),
                self.markers(),
                "</defs>",
                self.legend() if self.has_diff else "",
                f'<g transform="translate(0 {num(top)})">',
                '<g class="edges">',
                *edges,
                "</g>",
                '<g class="steps">',
                *nodes,
                "</g>",
                "</g>",
                "</svg>",
            ]
        )


def render_journey_graph(
    graph: Graph,
    *,
    title: str,
    node_types: Mapping[str, NodeTypeLook] | None = None,
    trigger_types: Mapping[str, TriggerTypeLook] | None = None,
    counts: Mapping[str, int] | None = None,
    issues: Iterable[IssueLike] = (),
    diff: GraphDiff | None = None,
    step_href: Callable[[str], str] | None = None,
    id_prefix: str = "jg",
) -> str:
    """The journey ``graph`` as an SVG document string, laid out top to bottom.

    - ``title``: what the picture is called (``<title>``; e.g. the journey's name).
    - ``node_types`` / ``trigger_types``: ``Registry.node_types`` / ``.trigger_types``;
      they give each step its icon, colour and type label and each edge the trigger's
      label (a type missing from them draws with a generic look).
    - ``counts``: couples at each step now, by step id (``JourneyStatistics.
      at_each_step``); every step gets a badge (0 when absent). ``None``: no badges.
    - ``issues``: validation findings (``CanvasService.draft_issues``); a step or edge
      named by one is outlined in red (amber for warnings only) and lists them in its
      ``<title>``.
    - ``diff``: from :func:`~aisle_dashboard.svg.diff.diff_view`; added, changed and
      removed steps and edges are coloured and a legend is drawn.
    - ``step_href``: a link for each step (the picture is then a ``group`` of links
      rather than one ``img``, so each step is reachable by keyboard).
    - ``id_prefix``: prefixes every ``id`` in the picture; give each picture on one
      page its own.

    Each step is a ``<g class="step" data-step-id="…">`` with a ``<g class="count"
    data-count="N">`` badge; each edge a ``<g class="edge" data-edge-id="…">``.
    Deterministic: the same input gives the same bytes.
    """
    if not _PREFIX.match(id_prefix):
        raise ValueError(f"id_prefix {id_prefix!r}: a letter, then letters, digits, _ or -")
    return _Drawing(
        graph,
        node_types=node_types or {},
        trigger_types=trigger_types or {},
        counts=counts,
        issues=issues,
        diff=diff,
        step_href=step_href,
        prefix=id_prefix,
    ).render(title)
