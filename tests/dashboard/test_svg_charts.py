"""The runs-per-day chart and the simulation timeline picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aisle.contracts.registry import Registry
from aisle.demo import demo_journey
from aisle.domain.contact import Contact
from aisle.engine.core import compile_journey
from aisle.engine.simulation import ScriptedEvent, simulate
from aisle.services.stats import RunsOnDay
from aisle_dashboard.svg import render_runs_chart, render_timeline, timeline_points
from aisle_dashboard.svg.charts import TimelinePoint

SVG = "{http://www.w3.org/2000/svg}"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "svg"
LONDON = ZoneInfo("Europe/London")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == cls]


def fortnight() -> list[RunsOnDay]:
    first = date(2026, 5, 25)
    return [
        RunsOnDay(day=first + timedelta(days=i), sent=(i * 7) % 23, failed=3 if i in (4, 9) else 0)
        for i in range(14)
    ]


def test_runs_chart_stacks_failed_on_sent_to_scale() -> None:
    days = fortnight()
    svg = render_runs_chart(days, title="Runs per day, last 14 days")
    root = parse(svg)
    assert root.get("role") == "img"
    bars = by_class(root, "day")
    assert [b.get("data-day") for b in bars] == [d.day.isoformat() for d in days]
    scale = None
    for bar, day in zip(bars, days, strict=True):
        rects = bar.findall(f"{SVG}rect")
        assert len(rects) == (day.sent > 0) + (day.failed > 0)
        heights = [float(r.get("height") or 0) for r in rects]
        if day.sent and day.failed:
            sent, failed = rects
            assert sent.get("fill") == "#2563eb" and failed.get("fill") == "#dc2626"
            # The failed segment sits right on top of the sent one.
            assert float(failed.get("y") or 0) + heights[1] == pytest.approx(
                float(sent.get("y") or 0), abs=0.1
            )
        if day.sent:
            ratio = heights[0] / day.sent
            scale = scale or ratio
            assert ratio == pytest.approx(scale, abs=0.05)
        title = bar.find(f"{SVG}title")
        assert title is not None and f"{day.sent} sent, {day.failed} failed" in (title.text or "")
    desc = root.find(f"{SVG}desc")
    sent_total = sum(d.sent for d in days)
    assert desc is not None and f"{sent_total} runs sent and 6 failed" in (desc.text or "")
    # The month shows under the first bar and where it changes (25 May … 7 June).
    months = [t.text for t in root.iter(f"{SVG}text") if t.text in ("May", "Jun")]
    assert months == ["May", "Jun"]
    assert {t.text for t in by_class(root, "legend")[0].iter(f"{SVG}text")} == {"sent", "failed"}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "runs-per-day.svg").write_text(svg)


def test_a_quiet_fortnight_draws_empty_days_without_dividing_by_zero() -> None:
    days = [RunsOnDay(day=date(2026, 1, 1) + timedelta(days=i)) for i in range(14)]
    root = parse(render_runs_chart(days))
    assert len(by_class(root, "day")) == 14
    assert all(not b.findall(f"{SVG}rect") for b in by_class(root, "day"))
    assert parse(render_runs_chart([])).get("role") == "img"


def test_value_axis_ticks_are_round_numbers() -> None:
    days = [RunsOnDay(day=date(2026, 1, 1), sent=870, failed=45)]
    root = parse(render_runs_chart(days))
    ticks = [t.text for t in by_class(root, "value-axis")[0].iter(f"{SVG}text")]
    assert ticks == ["0", "200", "400", "600", "800", "1,000"]


def test_chart_titles_are_escaped() -> None:
    svg = render_runs_chart(fortnight(), title='<script>"x"</script>')
    assert "<script" not in svg
    title = parse(svg).find(f"{SVG}title")
    assert title is not None and title.text == '<script>"x"</script>'


def simulated(registry: Registry) -> tuple[list[TimelinePoint], datetime, datetime]:
    graph = demo_journey()
    compiled = compile_journey(
        graph, registry, journey_id="j", version=1, studio_timezone="Europe/London"
    )
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    couple = Contact(
        id="c", email="c@example.com", wedding_date=date(2026, 6, 20), custom={"booked": True}
    )
    script = [
        ScriptedEvent(
            at=datetime(2026, 1, 9, 12, tzinfo=UTC),
            type="payment.received",
            payload={"amount": "500.00", "currency": "GBP"},
        ),
        ScriptedEvent(
            at=datetime(2026, 5, 25, 12, tzinfo=UTC),
            type="form.submitted",
            payload={"form_id": "questionnaire"},
        ),
        ScriptedEvent(
            at=datetime(2026, 6, 1, 12, tzinfo=UTC),
            type="task.completed",
            payload={"step_id": "shot_list"},
        ),
    ]
    timeline = simulate(compiled, couple, script, start, timedelta(days=200))
    labels = {s.id: s.label for s in graph.steps}
    return timeline_points(timeline.entries, labels), timeline.start_at, timeline.end_at


def test_the_timeline_puts_each_step_on_the_date_axis(registry: Registry) -> None:
    points, start, end = simulated(registry)
    labels = [p.label for p in points]
    assert labels[0] == "Send the brochure"
    assert "See you soon" in labels and labels[-1] == "completed"
    svg = render_timeline(points, start=start, end=end, wedding_date=date(2026, 6, 20), zone=LONDON)
    root = parse(svg)
    drawn = by_class(root, "point")
    assert [p.find(f"{SVG}text").text for p in drawn] == labels  # type: ignore[union-attr]
    xs = [float(p.find(f"{SVG}circle").get("cx") or 0) for p in drawn]  # type: ignore[union-attr]
    assert xs == sorted(xs)
    # Labels sharing a moment (the brochure, the wait and the decision) are not on one row.
    rows = {}
    for point in drawn:
        label = point.find(f"{SVG}text")
        assert label is not None
        rows.setdefault(label.get("y"), []).append(float(label.get("x") or 0))
    for row in rows.values():
        assert len(row) == len(set(row))
    wedding = by_class(root, "wedding")
    assert len(wedding) == 1
    line = wedding[0].find(f"{SVG}line")
    assert line is not None
    share = (datetime(2026, 6, 20, tzinfo=LONDON) - start) / (end - start)
    assert float(line.get("x1") or 0) == pytest.approx(24 + 832 * share, abs=0.2)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "Wedding on 20 Jun 2026." in (desc.text or "")
    ticks = [t.text for t in by_class(root, "ticks")[0].iter(f"{SVG}text")]
    assert ticks[:3] == ["Feb 2026", "Mar 2026", "Apr 2026"]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "simulation-timeline.svg").write_text(svg)


def test_a_wedding_outside_the_span_is_named_but_not_drawn() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [TimelinePoint(at=start + timedelta(days=1), label="<b>Hi</b> & bye")]
    svg = render_timeline(
        points, start=start, end=start + timedelta(days=10), wedding_date=date(2027, 1, 1)
    )
    root = parse(svg)
    assert by_class(root, "wedding") == []
    ticks = [t.text for t in by_class(root, "ticks")[0].iter(f"{SVG}text")]
    assert ticks[:2] == ["01 Jan", "02 Jan"]
    assert "<b>" not in svg and by_class(root, "point")[0].find(f"{SVG}text").text == (  # type: ignore[union-attr]
        "<b>Hi</b> & bye"
    )
