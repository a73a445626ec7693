"""Server-side pictures for the dashboard's pages, as SVG markup strings.

- :func:`render_journey_graph`: a journey as a laid-out graph (counts, problems, diffs).
- :func:`render_runs_chart`: action runs per day, sent and failed, as stacked bars.
- :func:`render_timeline`: a simulation's predicted steps on a date axis.

Each returns a complete ``<svg>`` element, escaped, ready to put in a page with Jinja's
``|safe`` (or ``Markup``) or to write to a file.
"""

from __future__ import annotations

from aisle_dashboard.svg.charts import (
    TimelinePoint,
    render_runs_chart,
    render_timeline,
    timeline_points,
)
from aisle_dashboard.svg.diff import GraphDiff, diff_view
from aisle_dashboard.svg.graph import render_journey_graph

__all__ = [
    "GraphDiff",
    "TimelinePoint",
    "diff_view",
    "render_journey_graph",
    "render_runs_chart",
    "render_timeline",
    "timeline_points",
]
