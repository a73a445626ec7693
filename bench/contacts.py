"""Contacts written in bulk through the HTTP API, on SQLite, over a real socket.

``contacts.bulk_upsert`` — one client sends ``POST /contacts/batch`` with
:data:`BATCH` records a request to an API serving a studio with the demo journey live:
first every couple is created (each with a Tave id, a phone to normalise and a wedding
date; their ``contact.created`` events are accepted in the batch's commit and processed
in the background just after the answer, competing with the next requests),
then every couple is sent again, matched by its Tave id, with a new venue. The rate is
contacts per second of wall time over both passes.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from aisle.storage.database import connect
from aisle.storage.migrate import run_migrations
from bench.api import running_api
from bench.registry import Result, bench

__all__ = ["BATCH"]

BATCH = 1000


def _record(n: int, venue: str) -> dict[str, Any]:
    return {
        "partners": [{"first_name": f"Ada{n}", "last_name": "Lovelace"}],
        "email": f"couple{n}@example.com",
        "phone": f"+44 20 7946 {n % 10000:04d}",
        "wedding_date": f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "venue": venue,
        "external_ids": {"tave": f"T-{n}"},
    }


async def _migrated(url: str) -> None:
    db = await connect(url)
    try:
        await run_migrations(db)
    finally:
        await db.close()


def _upsert(quick: bool) -> tuple[int, float, list[float]]:
    couples = 2 * BATCH if quick else 20 * BATCH
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        asyncio.run(_migrated(url))
        with (
            running_api(url) as (api, _),
            httpx.Client(base_url=api.url, headers=api.auth, timeout=300) as http,
        ):
            samples: list[float] = []
            began = time.perf_counter()
            for venue, expected in (("Barn", "created"), ("Hall", "updated")):
                for start in range(0, couples, BATCH):
                    body = [_record(n, venue) for n in range(start, start + BATCH)]
                    sent = time.perf_counter()
                    response = http.post("/api/v1/contacts/batch", json=body)
                    samples.append(time.perf_counter() - sent)
                    response.raise_for_status()
                    if response.json()[expected] != BATCH:
                        raise RuntimeError(f"not every contact was {expected}: {response.text}")
            return 2 * couples, time.perf_counter() - began, samples


@bench(
    "contacts.bulk_upsert",
    f"contacts created then updated per second through POST /contacts/batch ({BATCH} a call)",
)
def bulk_upsert(quick: bool) -> Result:
    written, elapsed, samples = _upsert(quick)
    ordered = sorted(samples)
    return Result(
        name="contacts.bulk_upsert",
        n=written,
        rate=written / elapsed,
        unit="contact",
        note=f"SQLite, {BATCH} a request (median {ordered[len(ordered) // 2]:.2f} s), "
        "half created, half updated; contact.created processed after each answer",
    )
