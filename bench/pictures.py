"""What the dashboard's pictures cost: laying out and drawing a journey, and reading the
counts they show for a studio of 10,000 couples.

``svg.journey_graph`` — a 50-step journey (branches, long edges, counts on every step)
laid out and drawn as SVG. ``stats.pictures`` — on SQLite (and ``.postgres``), one
journey with 10,000 enrolled couples and 50,000 action runs finished over 30 days: the
couples at each step (``JourneyStatistics.at_each_step``) and the runs per day of the
last 14 days (``runs_per_day``), each a single grouped query.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aisle.clock import TestClock
from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.plugins.manager import load_registry
from aisle.services.stats import JourneyStatistics
from aisle.storage.database import connect
from aisle.storage.ids import new_id
from aisle.storage.migrate import run_migrations
from aisle.storage.store import OrgScope, Store
from aisle.storage.tables import ActionRunTable, EnrollmentTable
from aisle_dashboard.svg import render_journey_graph
from bench.registry import Result, bench, from_samples
from bench.services import fresh_postgres

__all__ = ["fifty_step_journey"]

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
TYPES = ("email", "wait", "decision", "client_action", "vendor_action", "payment", "sms")
TRIGGERS = (("immediate", {}), ("time_delay", {"days": 3}), ("manual", {"button": "Go"}))


def fifty_step_journey(steps: int = 50, seed: int = 14) -> Graph:
    """A journey of ``steps`` steps: a main line with branches that rejoin further down."""
    rng = random.Random(seed)
    nodes = tuple(
        Step(id=f"s{i}", type=TYPES[i % len(TYPES)], label=f"Step {i}: {TYPES[i % 7]}")
        for i in range(steps)
    )
    pairs = {(i, i + 1) for i in range(steps - 1)}
    while len(pairs) < steps - 1 + steps // 2:
        a = rng.randrange(steps - 2)
        pairs.add((a, min(steps - 1, a + rng.randint(2, 6))))
    edges = []
    for a, b in sorted(pairs):
        trigger, config = TRIGGERS[(a + b) % len(TRIGGERS)]
        edges.append(
            Edge(id=f"s{a}-s{b}", source=f"s{a}", target=f"s{b}", trigger=trigger, config=config)
        )
    return Graph(steps=nodes, edges=tuple(edges), settings=JourneySettings(start_step="s0"))


@bench("svg.journey_graph", "a 50-step journey laid out and drawn as SVG")
def journey_graph(quick: bool) -> Result:
    registry = load_registry()
    graph = fifty_step_journey()
    counts = {s.id: i * 37 for i, s in enumerate(graph.steps)}
    samples = []
    for _ in range(10 if quick else 200):
        began = time.perf_counter()
        render_journey_graph(
            graph,
            title="Fifty steps",
            node_types=registry.node_types,
            trigger_types=registry.trigger_types,
            counts=counts,
        )
        samples.append(time.perf_counter() - began)
    return from_samples(
        "svg.journey_graph", samples, unit="graph", note=f"{len(graph.edges)} edges"
    )


async def _fill(scope: OrgScope, couples: int, runs: int) -> str:
    journey = await scope.journeys.create(name="Bench journey")
    contacts = await scope.contacts.insert_many(
        [Contact(email=f"couple{i}@example.com") for i in range(couples)]
    )
    rng = random.Random(3)
    enrollments = [
        EnrollmentTable(
            id=new_id(),
            organization_id=scope.org_id,
            contact_id=c.id,
            journey_id=journey.id,
            version=1,
            status="active" if i % 5 else "completed",
            step_id=f"s{rng.randrange(50)}",
            entered_at=NOW,
            visit=1,
            variables="{}",
            created_at=NOW,
            updated_at=NOW,
        )
        for i, c in enumerate(contacts)
    ]
    finished = []
    for i in range(runs):
        at = NOW - timedelta(minutes=rng.randrange(30 * 24 * 60))
        finished.append(
            ActionRunTable(
                id=new_id(),
                organization_id=scope.org_id,
                executor="email",
                config="{}",
                idempotency_key=f"bench:{i}",
                status="dead" if i % 20 == 0 else "succeeded",
                attempts=1,
                max_attempts=5,
                contact_id=contacts[i % couples].id,
                journey_id=journey.id,
                step_id=f"s{i % 50}",
                created_at=at - timedelta(minutes=1),
                updated_at=at,
                finished_at=at,
            )
        )
    for rows, table in ((enrollments, EnrollmentTable), (finished, ActionRunTable)):
        for start in range(0, len(rows), 500):
            await table.insert(*rows[start : start + 500])  # type: ignore[arg-type]
    return journey.id


def _read_counts(url: str, quick: bool) -> tuple[list[float], list[float]]:
    couples, runs = (500, 2500) if quick else (10_000, 50_000)

    async def measure() -> tuple[list[float], list[float]]:
        db = await connect(url)
        try:
            await run_migrations(db)
            store = Store(db, TestClock(NOW))
            org = await store.organizations.create(slug="bench", name="Bench")
            scope = store.for_org(org)
            journey_id = await _fill(scope, couples, runs)
            stats = JourneyStatistics(scope)
            steps, days = [], []
            for _ in range(10 if quick else 100):
                began = time.perf_counter()
                await stats.at_each_step(journey_id)
                steps.append(time.perf_counter() - began)
                began = time.perf_counter()
                await stats.runs_per_day("Europe/London")
                days.append(time.perf_counter() - began)
            return steps, days
        finally:
            await db.close()

    return asyncio.run(measure())


def _result(name: str, steps: list[float], days: list[float], database: str) -> Result:
    step_median = sorted(steps)[len(steps) // 2]
    return from_samples(
        name,
        days,
        unit="read",
        note=f"{database}: runs_per_day (14 days) shown; at_each_step median "
        f"{step_median * 1e3:.2f} ms",
    )


@bench("stats.pictures", "runs per day and couples per step for 10,000 couples (SQLite)")
def pictures_sqlite(quick: bool) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        steps, days = _read_counts(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", quick)
    return _result("stats.pictures", steps, days, "SQLite")


@bench(
    "stats.pictures.postgres",
    "runs per day and couples per step for 10,000 couples (PostgreSQL)",
    needs=("postgres",),
)
def pictures_postgres(quick: bool) -> Result:
    async def prepared() -> tuple[list[float], list[float]]:
        async with fresh_postgres("aisle_bench_pictures") as url:
            return await asyncio.to_thread(_read_counts, url, quick)

    steps, days = asyncio.run(prepared())
    return _result("stats.pictures.postgres", steps, days, "PostgreSQL")
