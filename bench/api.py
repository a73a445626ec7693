"""The HTTP API on PostgreSQL, over a real socket: canvas latency and events ingested.

``api.flow_get`` / ``api.flow_ops`` — one API process (uvicorn in a thread of its own)
serving a 500-node journey; one client reads ``GET …/flow`` (the React Flow object
with every node's validation issues and locks) or sends ``POST …/flow/ops`` (one
``move_node`` op on its latest revision, as a canvas does after a drag), one request
at a time, so the figures are latency.

``api.events`` / ``api.events.batch`` — ``CONCURRENCY`` clients send enquiry form
submissions for couples already on file through ``POST /events`` (one per request) or
``POST /events/batch`` (``BATCH`` per request); each event is committed, matched
against the live demo journey, run through the engine and written (enrollment,
outbox, log) before the response. The rate is events per second of wall time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.demo import DEMO_JOURNEY_NAME, demo_journey
from aisle.domain import Contact
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_thread
from bench.registry import Result, bench, from_samples
from bench.services import fresh_postgres

__all__ = ["BATCH", "CONCURRENCY", "NODES", "canvas_flow", "running_api"]

NODES = 500
CONCURRENCY = 4
BATCH = 100
SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="


@dataclass
class Api:
    url: str
    token: str
    org_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def canvas_flow(nodes: int) -> dict[str, Any]:
    """A canvas-sized journey: emails and waits in a chain, as React Flow JSON."""
    items: list[dict[str, Any]] = []
    for i in range(nodes):
        if i == nodes - 1:
            kind, config = "end", {}
        elif i % 2 == 0:
            kind = "email"
            config = {"to": "couple", "subject": f"Step {i}", "text": "Hello {{ contact.names }}"}
        else:
            kind, config = "wait", {}
        items.append(
            {
                "id": f"n{i}",
                "type": kind,
                "position": {"x": (i % 20) * 220, "y": (i // 20) * 140},
                "data": {"label": f"Step {i}", "config": config},
                "width": 180,
                "height": 60,
            }
        )
    edges = [
        {
            "id": f"e{i}",
            "source": f"n{i}",
            "target": f"n{i + 1}",
            "sourceHandle": None,
            "targetHandle": None,
            "data": {
                "trigger": "time_delay" if i % 2 else "immediate",
                "config": {"days": 1} if i % 2 else {},
            },
        }
        for i in range(nodes - 1)
    ]
    return {"nodes": items, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


async def _seed(settings: Settings, couples: int) -> tuple[str, str, list[str]]:
    store = await Store.open(settings, migrate=False)
    try:
        org = await store.organizations.create(slug="bench", name="Bench Studio")
        scope = store.for_org(org)
        _, token = await scope.tokens.create(name="bench", role="owner")
        journey = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
        await scope.journeys.publish(journey.id, demo_journey())
        contacts = [
            (await scope.contacts.create(Contact(email=f"couple{n}@example.com"))).id
            for n in range(couples)
        ]
        return org.id, token, contacts
    finally:
        await store.close()


@contextmanager
def running_api(database_url: str, couples: int = 0) -> Iterator[tuple[Api, list[str]]]:
    """Seed an organization (token, live demo journey, ``couples`` contacts) and serve
    the API on a free port until the block ends."""
    settings = Settings(
        database_url=database_url, secret_key=SECRET_KEY, db_pool_max=CONCURRENCY + 4
    )
    org_id, token, contacts = asyncio.run(_seed(settings, couples))
    app = create_app(settings, load_registry(), config=ApiConfig(rate_limit=0))
    with serve_in_thread(app) as url:
        yield Api(url=url, token=token, org_id=org_id), contacts


def _canvas(api: Api, http: httpx.Client) -> str:
    response = http.post("/api/v1/journeys", json={"name": "Canvas", "flow": canvas_flow(NODES)})
    response.raise_for_status()
    return str(response.json()["id"])


def _flow_get(quick: bool) -> list[float]:
    requests = 20 if quick else 300

    async def run() -> list[float]:
        async with fresh_postgres("aisle_bench_api_flow") as url:
            return await asyncio.to_thread(measure, url)

    def measure(url: str) -> list[float]:
        with (
            running_api(url) as (api, _),
            httpx.Client(base_url=api.url, headers=api.auth, timeout=60) as http,
        ):
            journey = _canvas(api, http)
            samples = []
            for _ in range(requests + 3):
                began = time.perf_counter()
                response = http.get(f"/api/v1/journeys/{journey}/flow")
                samples.append(time.perf_counter() - began)
                response.raise_for_status()
                if len(response.json()["nodes"]) != NODES:
                    raise RuntimeError("the flow lost nodes")
            return samples[3:]  # the first reads warm caches and the pool

    return asyncio.run(run())


@bench(
    "api.flow_get",
    f"GET …/flow latency for a {NODES}-node journey (React Flow JSON, issues, locks)",
    needs=("postgres",),
)
def flow_get(quick: bool) -> Result:
    return from_samples(
        "api.flow_get", _flow_get(quick), unit="request", note=f"{NODES} nodes, PostgreSQL"
    )


def _flow_ops(quick: bool) -> list[float]:
    requests = 20 if quick else 300

    def measure(url: str) -> list[float]:
        with (
            running_api(url) as (api, _),
            httpx.Client(base_url=api.url, headers=api.auth, timeout=60) as http,
        ):
            journey = _canvas(api, http)
            revision = http.get(f"/api/v1/journeys/{journey}").json()["revision"]
            samples = []
            for i in range(requests + 3):
                op = {
                    "op": "move_node",
                    "id": f"drag-{i}",
                    "node_id": f"n{(i * 37) % NODES}",
                    "position": {"x": i, "y": i * 2},
                }
                began = time.perf_counter()
                response = http.post(
                    f"/api/v1/journeys/{journey}/flow/ops",
                    json={"base_revision": revision, "ops": [op]},
                )
                samples.append(time.perf_counter() - began)
                response.raise_for_status()
                revision = response.json()["revision"]
            return samples[3:]

    async def run() -> list[float]:
        async with fresh_postgres("aisle_bench_api_ops") as url:
            return await asyncio.to_thread(measure, url)

    return asyncio.run(run())


@bench(
    "api.flow_ops",
    f"POST …/flow/ops latency (one move_node op) on a {NODES}-node journey",
    needs=("postgres",),
)
def flow_ops(quick: bool) -> Result:
    return from_samples(
        "api.flow_ops", _flow_ops(quick), unit="request", note=f"{NODES} nodes, PostgreSQL"
    )


def _events(quick: bool, batch: int) -> tuple[float, int, list[float]]:
    couples = (100 if quick else 2000) if batch == 1 else (200 if quick else 4000)

    def measure(url: str) -> tuple[float, int, list[float]]:
        with running_api(url, couples) as (api, contacts):
            chunks = [contacts[i : i + batch] for i in range(0, len(contacts), batch)]
            return asyncio.run(_send(api, chunks, batch))

    async def run() -> tuple[float, int, list[float]]:
        async with fresh_postgres(f"aisle_bench_api_events_{batch}") as url:
            return await asyncio.to_thread(measure, url)

    return asyncio.run(run())


async def _send(api: Api, chunks: list[list[str]], batch: int) -> tuple[float, int, list[float]]:
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)
    samples: list[float] = []
    sent = 0

    def event(contact_id: str) -> dict[str, Any]:
        return {
            "type": "form.submitted",
            "idempotency_key": f"enquiry:{contact_id}",
            "contact_id": contact_id,
            "payload": {"form_id": "enquiry"},
        }

    async def client() -> None:
        nonlocal sent
        async with httpx.AsyncClient(base_url=api.url, headers=api.auth, timeout=120) as http:
            while not queue.empty():
                chunk = queue.get_nowait()
                began = time.perf_counter()
                if batch == 1:
                    response = await http.post("/api/v1/events", json=event(chunk[0]))
                    statuses = [response.json()["status"]] if response.is_success else []
                else:
                    response = await http.post(
                        "/api/v1/events/batch", json={"events": [event(c) for c in chunk]}
                    )
                    items = response.json()["items"] if response.is_success else []
                    statuses = [item["status"] for item in items]
                samples.append(time.perf_counter() - began)
                response.raise_for_status()
                if statuses != ["processed"] * len(chunk):
                    raise RuntimeError(f"events not processed: {statuses[:3]}…")
                sent += len(chunk)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return time.perf_counter() - began, sent, samples


def _events_result(name: str, quick: bool, batch: int) -> Result:
    wall, sent, samples = _events(quick, batch)
    ordered = sorted(samples)
    return Result(
        name=name,
        n=sent,
        rate=sent / wall,
        median=statistics.median(ordered),
        p99=ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        unit="event",
        note=f"PostgreSQL, {CONCURRENCY} HTTP clients"
        + (f", {batch} per request; latency per request" if batch > 1 else ""),
    )


@bench(
    "api.events",
    "events per second through POST /events (one per request), processed, on PostgreSQL",
    needs=("postgres",),
)
def events_single(quick: bool) -> Result:
    return _events_result("api.events", quick, 1)


@bench(
    "api.events.batch",
    f"events per second through POST /events/batch ({BATCH} per request) on PostgreSQL",
    needs=("postgres",),
)
def events_batch(quick: bool) -> Result:
    return _events_result("api.events.batch", quick, BATCH)
