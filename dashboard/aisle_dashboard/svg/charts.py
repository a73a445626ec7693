"""Charts for the dashboard: action runs per day, and a simulation's predicted timeline.

:func:`render_runs_chart` stacks each day's failed runs on its sent ones, with a value
axis, day labels and a legend. :func:`render_timeline` puts a simulated client's steps
on a date axis, the wedding date marked; labels that would overlap move to rows above.
Both are self-contained SVG (presentation attributes only) with a ``<title>`` and a
``<desc>`` that says in words what the picture shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from aisle.services.stats import RunsOnDay
from aisle_dashboard.svg.markup import attr, attrs, clip, num, text, text_width

__all__ = [
    "SimulatedEntry",
    "TimelinePoint",
    "render_runs_chart",
    "render_timeline",
    "timeline_points",
]

FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
SENT = "#2563eb"
FAILED = "#dc2626"
AXIS = "#94a3b8"
INK = "#334155"
WEDDING = "#be185d"
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.match(prefix):
        raise ValueError(f"id_prefix {prefix!r}: a letter, then letters, digits, _ or -")


def _nice_step(top: int, ticks: int = 5) -> int:
    """A round tick spacing (1, 2 or 5 times a power of ten), about ``ticks`` up to ``top``."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(int(factor * power), 1)
    return int(10 * power)


def _svg_open(width: float, height: float, prefix: str, kind: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg"'
        + attrs(
            {
                "viewBox": f"0 0 {num(width)} {num(height)}",
                "width": width,
                "height": height,
                "role": "img",
                "aria-labelledby": f"{prefix}-title {prefix}-desc",
                "class": kind,
                "font-family": FONT,
            }
        )
        + ">"
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def render_runs_chart(
    days: Sequence[RunsOnDay],
    *,
    title: str = "Action runs per day",
    id_prefix: str = "runs",
) -> str:
    """``days`` (oldest first, one per day, e.g. ``JourneyStatistics.runs_per_day``) as
    stacked bars: sent below, failed above, each bar's numbers in its ``<title>``."""
    _check_prefix(id_prefix)
    slot, left, right, top, bottom = 40.0, 48.0, 16.0, 40.0, 44.0
    plot_height = 160.0
    width = left + right + slot * max(len(days), 1)
    height = top + plot_height + bottom
    peak = max((d.sent + d.failed for d in days), default=0)
    step = _nice_step(peak)
    ceiling = max(step * math.ceil(peak / step), step)
    scale = plot_height / ceiling
    base = top + plot_height
    out = [
        _svg_open(width, height, id_prefix, "runs-chart"),
        f'<title id="{id_prefix}-title">{text(title)}</title>',
    ]
    sent, failed = sum(d.sent for d in days), sum(d.failed for d in days)
    summary = (
        f"{_plural(sent, 'run', 'runs')} sent and {failed:,} failed over "
        f"{_plural(len(days), 'day', 'days')}"
    )
    if days:
        summary += f", {days[0].day:%d %b %Y} to {days[-1].day:%d %b %Y}"
        summary += ". " + "; ".join(
            f"{d.day:%d %b}: {d.sent} sent, {d.failed} failed" for d in days
        )
    out.append(f'<desc id="{id_prefix}-desc">{text(summary)}.</desc>')
    # Legend.
    out.append(f'<g class="legend" font-size="12" fill="{INK}">')
    x = left
    for name, colour in (("sent", SENT), ("failed", FAILED)):
        out.append(
            f"<rect{attrs({'x': x, 'y': 12, 'width': 12, 'height': 12, 'rx': 2})}"
            f' fill="{colour}"/><text{attrs({"x": x + 18, "y": 22})}>{name}</text>'
        )
        x += 30 + text_width(name, 12)
    out.append("</g>")
    # Value axis and grid.
    out.append(f'<g class="value-axis" font-size="11" fill="{INK}">')
    for value in range(0, ceiling + 1, step):
        y = base - value * scale
        out.append(
            f"<line{attrs({'x1': left, 'x2': width - right, 'y1': y, 'y2': y})}"
            f' stroke="{AXIS if value == 0 else "#e2e8f0"}" stroke-width="1"/>'
            f'<text{attrs({"x": left - 6, "y": y + 4})} text-anchor="end">{value:,}</text>'
        )
    out.append("</g>")
    out.append(f'<g class="bars" font-size="11" fill="{INK}">')
    previous_month = None
    for i, d in enumerate(days):
        x = left + slot * i + 8
        bar = slot - 16
        out.append(
            f'<g class="day" data-day="{d.day.isoformat()}" data-sent="{d.sent}"'
            f' data-failed="{d.failed}">'
        )
        out.append(f"<title>{d.day:%a %d %b}: {d.sent:,} sent, {d.failed:,} failed</title>")
        sent_height = d.sent * scale
        failed_height = d.failed * scale
        if d.sent:
            out.append(
                "<rect"
                + attrs({"x": x, "y": base - sent_height, "width": bar, "height": sent_height})
                + f' fill="{SENT}"/>'
            )
        if d.failed:
            y = base - sent_height - failed_height
            out.append(
                f"<rect{attrs({'x': x, 'y': y, 'width': bar, 'height': failed_height})}"
                f' fill="{FAILED}"/>'
            )
        centre = x + bar / 2
        out.append(
            f'<text{attrs({"x": centre, "y": base + 16})} text-anchor="middle">{d.day.day}</text>'
        )
        if d.day.month != previous_month:
            out.append(
                f'<text{attrs({"x": centre, "y": base + 31})} text-anchor="middle"'
                f' fill="#64748b">{d.day:%b}</text>'
            )
            previous_month = d.day.month
        out.append("</g>")
    out.append("</g></svg>")
    return "".join(out)


# -- simulation timeline ----------------------------------------------------------------


class SimulatedEntry(Protocol):
    """A simulation timeline entry (``POST /journeys/{id}/simulate``'s ``entries``)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def step_id(self) -> str | None: ...


@dataclass(frozen=True)
class TimelinePoint:
    """One moment on the timeline: a step entered, or how the journey ended."""

    at: datetime
    label: str
    kind: str = "entered"


_ENDINGS = {
    "completed": "completed",
    "exited": "exited",
    "failed": "failed",
    "stopped": "simulation stopped",
}


def timeline_points(
    entries: Iterable[SimulatedEntry], step_labels: Mapping[str, str]
) -> list[TimelinePoint]:
    """The points to draw for a simulation's ``entries``: each step entered (named by
    ``step_labels``, else its id) and the ending, in time order."""
    points = []
    for entry in entries:
        if entry.kind == "entered" and entry.step_id:
            points.append(
                TimelinePoint(at=entry.at, label=step_labels.get(entry.step_id, entry.step_id))
            )
        elif entry.kind in _ENDINGS:
            points.append(TimelinePoint(at=entry.at, label=_ENDINGS[entry.kind], kind=entry.kind))
    return sorted(points, key=lambda p: p.at)


def _ticks(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[datetime, str]]:
    """Local midnights to label: days, weeks, months or quarters, by the span."""
    span = end - start
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    if span <= timedelta(days=16):
        dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        fmt = "%d %b"
    elif span <= timedelta(days=120):
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        dates = [monday + timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]
        fmt = "%d %b"
    else:
        every = 1 if span <= timedelta(days=400) else 3
        dates = []
        year, month = first.year, first.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            day = date(year, month, 1)
            if day > last:
                break
            if (month - 1) % every == 0:
                dates.append(day)
        fmt = "%b %Y"
    out = []
    for day in dates:
        moment = datetime(day.year, day.month, day.day, tzinfo=zone)
        if start <= moment <= end:
            out.append((moment, f"{day:{fmt}}"))
    return out


def render_timeline(
    points: Sequence[TimelinePoint],
    *,
    start: datetime,
    end: datetime,
    wedding_date: date | None = None,
    zone: tzinfo = UTC,
    title: str = "Predicted timeline",
    id_prefix: str = "timeline",
) -> str:
    """``points`` (see :func:`timeline_points`) on a date axis from ``start`` to ``end``
    (the simulation's), dates shown in ``zone``; ``wedding_date`` is marked when it
    falls in the span. Labels that would overlap go on rows above the axis."""
    _check_prefix(id_prefix)
    if end <= start:
        end = start + timedelta(days=1)
    width, left, right = 880.0, 24.0, 24.0
    size, row = 11.0, 18.0
    span = (end - start).total_seconds()

    def x_of(moment: datetime) -> float:
        share = (moment - start).total_seconds() / span
        return left + (width - left - right) * min(max(share, 0.0), 1.0)

    placed: list[tuple[TimelinePoint, float, float, int, str]] = []
    row_ends: list[float] = []
    for point in points:
        x = x_of(point.at)
        label = clip(point.label, 28)
        half = text_width(label, size) / 2 + 6
        # A label near either end is moved inwards so it stays in the picture.
        centre = min(max(x, half), width - half)
        lane = next((i for i, e in enumerate(row_ends) if e < centre - half), len(row_ends))
        if lane == len(row_ends):
            row_ends.append(0.0)
        row_ends[lane] = centre + half
        placed.append((point, x, centre, lane, label))
    top = 44.0 + row * max(len(row_ends), 1)
    axis = top + 10
    height = axis + 44
    out = [
        _svg_open(width, height, id_prefix, "timeline"),
        f'<title id="{id_prefix}-title">{text(title)}</title>',
    ]
    words = [
        f"From {start.astimezone(zone):%d %b %Y} to {end.astimezone(zone):%d %b %Y}: "
        f"{_plural(len(points), 'moment', 'moments')}."
    ]
    words += [f"{p.at.astimezone(zone):%d %b %Y %H:%M} {p.label}." for p in points]
    wedding_x = None
    if wedding_date is not None:
        moment = datetime(wedding_date.year, wedding_date.month, wedding_date.day, tzinfo=zone)
        words.append(f"Wedding on {wedding_date:%d %b %Y}.")
        if start <= moment <= end:
            wedding_x = x_of(moment)
    out.append(f'<desc id="{id_prefix}-desc">{text(" ".join(words))}</desc>')
    out.append(
        f"<line{attrs({'x1': left, 'x2': width - right, 'y1': axis, 'y2': axis})}"
        f' stroke="{AXIS}" stroke-width="2"/>'
    )
    out.append('<g class="ticks" font-size="11" fill="#64748b">')
    for moment, label in _ticks(start, end, zone):
        x = x_of(moment)
        out.append(
            f"<line{attrs({'x1': x, 'x2': x, 'y1': axis - 4, 'y2': axis + 4})}"
            f' stroke="{AXIS}"/>'
            f'<text{attrs({"x": x, "y": axis + 18})} text-anchor="middle">{text(label)}</text>'
        )
    out.append("</g>")
    if wedding_x is not None and wedding_date is not None:
        out.append(
            f'<g class="wedding"><title>Wedding: {wedding_date:%A %d %B %Y}</title>'
            f"<line{attrs({'x1': wedding_x, 'x2': wedding_x, 'y1': 24, 'y2': axis + 24})}"
            f' stroke="{WEDDING}" stroke-width="2" stroke-dasharray="5 3"/>'
            f'<text{attrs({"x": wedding_x, "y": 16})} font-size="12" font-weight="700"'
            f' fill="{WEDDING}" text-anchor="middle">Wedding {wedding_date:%d %b %Y}</text></g>'
        )
    out.append(f'<g class="points" font-size="{num(size)}" fill="{INK}">')
    for point, x, centre, lane, label in placed:
        y = top - row * lane
        colour = FAILED if point.kind == "failed" else SENT
        out.append(
            f'<g class="point" data-kind="{attr(point.kind)}">'
            f"<title>{text(f'{point.at.astimezone(zone):%a %d %b %Y %H:%M}: {point.label}')}"
            "</title>"
            f"<line{attrs({'x1': centre, 'x2': x, 'y1': y + 3, 'y2': axis})}"
            f' stroke="#cbd5e1" stroke-width="1"/>'
            f'<circle{attrs({"cx": x, "cy": axis, "r": 5})} fill="{colour}"'
            f' stroke="#ffffff" stroke-width="1.5"/>'
            f'<text{attrs({"x": centre, "y": y})} text-anchor="middle">{text(label)}</text></g>'
        )
    out.append("</g></svg>")
    return "".join(out)
