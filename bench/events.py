"""Events per second end to end on PostgreSQL: ingested through the runtime, processed.

Each event is an ``enquiry`` form submission for a couple not yet in the demo journey:
the runtime commits the event, matches the journey's entry criteria, runs the engine
(brochure email → wait), and writes the enrollment, its action run (the outbox) and
the automation log in one transaction, then marks the event processed. Couples are
ingested by ``CONCURRENCY`` tasks sharing one connection pool, as API requests would.
"""

from __future__ import annotations

import asyncio
import time

from aisle.demo import DEMO_JOURNEY_NAME, demo_journey
from aisle.domain import Contact
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store
from bench.registry import Result, bench, from_samples
from bench.services import fresh_postgres

__all__ = ["CONCURRENCY", "events_end_to_end", "ingest_enquiries"]

CONCURRENCY = 4
SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="


async def ingest_enquiries(database_url: str, couples: int) -> tuple[float, list[float]]:
    """Ingest one enquiry per couple; returns (wall seconds, per-event seconds)."""
    settings = Settings(
        database_url=database_url, secret_key=SECRET_KEY, db_pool_max=CONCURRENCY + 2
    )
    store = await Store.open(settings, migrate=False)
    try:
        runtime = Runtime(store, load_registry(), settings)
        org = await store.organizations.create(slug="bench", name="Bench Studio")
        scope = store.for_org(org)
        journey = await scope.journeys.create(name=DEMO_JOURNEY_NAME, draft=demo_journey())
        await scope.journeys.publish(journey.id, demo_journey())
        contact_ids = [
            (await scope.contacts.create(Contact(email=f"couple{n}@example.com"))).id
            for n in range(couples)
        ]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for contact_id in contact_ids:
            queue.put_nowait(contact_id)
        samples: list[float] = []

        async def ingest() -> None:
            while not queue.empty():
                contact_id = queue.get_nowait()
                began = time.perf_counter()
                record, _ = await runtime.ingest_event(
                    scope,
                    type="form.submitted",
                    idempotency_key=f"enquiry:{contact_id}",
                    contact_id=contact_id,
                    payload={"form_id": "enquiry"},
                )
                samples.append(time.perf_counter() - began)
                if record.status != "processed":
                    raise RuntimeError(f"event {record.event.id} is {record.status}")

        began = time.perf_counter()
        await asyncio.gather(*(ingest() for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - began
        runs = await scope.action_runs.count_by_status()
        if sum(runs.values()) != couples:
            raise RuntimeError(f"expected {couples} action runs, found {runs}")
        return wall, samples
    finally:
        await store.close()


async def _measure(couples: int) -> tuple[float, list[float]]:
    async with fresh_postgres("aisle_bench_events") as url:
        return await ingest_enquiries(url, couples)


@bench(
    "events.end_to_end",
    "events per second ingested, processed and written (enrollment, outbox, log) on PostgreSQL",
    needs=("postgres",),
)
def events_end_to_end(quick: bool) -> Result:
    couples = 100 if quick else 2000
    wall, samples = asyncio.run(_measure(couples))
    return from_samples(
        "events.end_to_end",
        samples,
        elapsed=wall,
        unit="event",
        note=f"PostgreSQL, {CONCURRENCY} concurrent ingesters, 1 process",
    )
