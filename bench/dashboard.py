"""How fast the dashboard's pages answer for a studio of 10,000 couples and 50 journeys.

``dashboard.pages`` (SQLite) and ``dashboard.pages.postgres``: the whole app (API +
dashboard) in this process, its lifespan running, a signed-in session; each page asked
one after another through the ASGI interface (no socket: what is measured is the
page's own work, its queries and its template): the overview (journeys with their
counts, the runs chart), the journeys list, a journey's page (a 50-step draft drawn
with the couples at each step, its problems) and a couples search. The studio: 50
published journeys, 10,000 couples each enrolled in the 50-step journey and in one
other, 20,000 action runs finished over the last two weeks. The row's median and p99
are over every page; the note gives each page's p95 (the goal: under 100 ms).
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.clock import SystemClock
from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.ids import new_id
from aisle.storage.store import OrgScope, Store
from aisle.storage.tables import ActionRunTable, EnrollmentTable
from bench.pictures import fifty_step_journey
from bench.registry import Result, bench, from_samples
from bench.services import fresh_postgres

__all__ = ["PAGES"]

PAGES = ("overview", "journeys", "journey", "couples")
SECRET_KEY = "bench-dashboard-secret-key-0123456789abcdef"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _small_journey(n: int) -> Graph:
    steps = tuple(Step(id=f"j{n}s{i}", type="wait", label=f"Step {i}") for i in range(5))
    edges = tuple(
        Edge(id=f"j{n}e{i}", source=f"j{n}s{i}", target=f"j{n}s{i + 1}", trigger="manual")
        for i in range(4)
    )
    return Graph(steps=steps, edges=edges, settings=JourneySettings(start_step=f"j{n}s0"))


async def _insert(table: type[EnrollmentTable] | type[ActionRunTable], rows: list[object]) -> None:
    for start in range(0, len(rows), 500):
        await table.insert(*rows[start : start + 500])  # type: ignore[arg-type]


async def _fill(scope: OrgScope, couples: int, journeys: int) -> str:
    """The studio; the id of its 50-step journey."""
    now = datetime.now(UTC)
    big = fifty_step_journey()
    made = [await scope.journeys.create(name="Fifty steps", draft=big)]
    await scope.journeys.publish(made[0].id, big)
    for n in range(1, journeys):
        graph = _small_journey(n)
        made.append(await scope.journeys.create(name=f"Journey {n}", draft=graph))
        await scope.journeys.publish(made[-1].id, graph)
    contacts = await scope.contacts.insert_many(
        [Contact(email=f"couple{i}@example.com") for i in range(couples)]
    )
    rng = random.Random(14)
    enrollments: list[object] = []
    runs: list[object] = []
    for i, contact in enumerate(contacts):
        other = made[1 + i % (journeys - 1)]
        for journey, step in ((made[0], f"s{rng.randrange(50)}"), (other, f"j{other.name[8:]}s1")):
            enrollments.append(
                EnrollmentTable(
                    id=new_id(),
                    organization_id=scope.org_id,
                    contact_id=contact.id,
                    journey_id=journey.id,
                    version=1,
                    status="active" if i % 7 else "completed",
                    step_id=step,
                    entered_at=now,
                    visit=1,
                    variables="{}",
                    created_at=now,
                    updated_at=now,
                )
            )
        for k in range(2):
            at = now - timedelta(minutes=rng.randrange(14 * 24 * 60))
            runs.append(
                ActionRunTable(
                    id=new_id(),
                    organization_id=scope.org_id,
                    executor="email",
                    config="{}",
                    idempotency_key=f"bench:{i}:{k}",
                    status="dead" if (i + k) % 20 == 0 else "succeeded",
                    attempts=1,
                    max_attempts=5,
                    contact_id=contact.id,
                    journey_id=made[0].id,
                    step_id=f"s{i % 50}",
                    created_at=at - timedelta(minutes=1),
                    updated_at=at,
                    finished_at=at,
                )
            )
    await _insert(EnrollmentTable, enrollments)
    await _insert(ActionRunTable, runs)
    return made[0].id


async def _measure(database_url: str, quick: bool) -> dict[str, list[float]]:
    couples, journeys = (500, 10) if quick else (10_000, 50)
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY)
    store = await Store.open(settings, clock=SystemClock())
    try:
        org = await store.organizations.create(slug="bench", name="Bench Studio")
        scope = store.for_org(org)
        _, token = await scope.tokens.create(name="bench", role="owner")
        journey_id = await _fill(scope, couples, journeys)
        app = create_app(settings, load_registry(), store=store, config=ApiConfig(rate_limit=0))
        async with (
            app.lifespan(),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench"
            ) as browser,
        ):
            form = await browser.get("/dashboard/login")
            token_field = _CSRF.search(form.text)
            assert token_field is not None, "the sign-in form has no CSRF token"
            signed = await browser.post(
                "/dashboard/login", data={"token": token, "_csrf_token": token_field.group(1)}
            )
            assert signed.status_code == 303, signed.text
            urls = {
                "overview": "/dashboard/",
                "journeys": "/dashboard/journeys",
                "journey": f"/dashboard/journeys/{journey_id}",
                "couples": "/dashboard/couples?q=couple42",
            }
            samples: dict[str, list[float]] = {name: [] for name in PAGES}
            get: Callable[[str], Awaitable[httpx.Response]] = browser.get
            for name in PAGES:  # warm: templates compiled, plans cached
                assert (await get(urls[name])).status_code == 200, name
            for _ in range(10 if quick else 100):
                for name in PAGES:
                    began = time.perf_counter()
                    answered = await get(urls[name])
                    samples[name].append(time.perf_counter() - began)
                    assert answered.status_code == 200, (name, answered.status_code)
            return samples
    finally:
        await store.close()


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _result(name: str, samples: dict[str, list[float]], database: str) -> Result:
    every = [s for page in PAGES for s in samples[page]]
    p95s = ", ".join(f"{page} {_p95(samples[page]) * 1e3:.0f}" for page in PAGES)
    return from_samples(name, every, unit="page", note=f"{database}: p95 ms {p95s}")


@bench("dashboard.pages", "dashboard pages for 10,000 couples and 50 journeys (SQLite)")
def pages_sqlite(quick: bool) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        samples = asyncio.run(_measure(url, quick))
    return _result("dashboard.pages", samples, "SQLite")


@bench(
    "dashboard.pages.postgres",
    "dashboard pages for 10,000 couples and 50 journeys (PostgreSQL)",
    needs=("postgres",),
)
def pages_postgres(quick: bool) -> Result:
    async def run() -> dict[str, list[float]]:
        async with fresh_postgres("aisle_bench_dashboard") as url:
            return await _measure(url, quick)

    return _result("dashboard.pages.postgres", asyncio.run(run()), "PostgreSQL")
