"""CSV rows imported per second: a 50,000-row Studio Ninja clients file streamed into
PostgreSQL through the CSV import (a sync run), first as new couples, then again.

The rate is rows divided by the run's wall time from opening the file to the finished
run: parsing, mapping, validation (emails, phones to E.164), links, batched writes and
the ``contact.created`` event of each new couple included. The second import of the
same file finds every row unchanged by its content hash.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.registry import Result, bench
from bench.services import fresh_postgres

__all__ = ["import_csv"]

SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="
HEADER = "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name\r\n"


def write_clients(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in range(rows):
            out.write(f"Ada{n},Lovelace,couple{n}@example.com,+4479111{n:05d},Ben{n},Byron\r\n")


async def import_csv(rows: int) -> tuple[float, float, int]:
    """Import a ``rows``-row file twice; returns (first seconds, second seconds, rows)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clients.csv"
        write_clients(path, rows)
        async with fresh_postgres("aisle_bench_csv") as url:
            return await _import(url, path, path.stat().st_size, rows)


async def _import(url: str, path: Path, size: int, rows: int) -> tuple[float, float, int]:
    from aisle.crm import CRMDeps
    from aisle.crm.connections import ConnectionService
    from aisle.crm.csv_import import CSVImports
    from aisle.plugins.manager import load_registry
    from aisle.runtime import Runtime
    from aisle.services.roles import Operator
    from aisle.settings import Settings
    from aisle.storage.store import Store

    settings = Settings(database_url=url, secret_key=SECRET_KEY)
    store = await Store.open(settings)
    operator = Operator(actor="bench")
    try:
        runtime = Runtime(store, load_registry(), settings)
        deps = CRMDeps.of(runtime)
        org = await store.organizations.create(slug="bench", name="Bench")
        scope = runtime.for_org(org.id)
        connection = await ConnectionService(deps, scope, operator).create(
            provider="studioninja", name="Bench", credentials={}, direction="both"
        )
        imports = CSVImports(deps, scope, operator)
        times = []
        for expected in ("created", "unchanged"):
            started = time.perf_counter()
            with path.open("rb") as stream:
                run = await imports.run(connection.id, "clients", stream, size=size)
            times.append(time.perf_counter() - started)
            if run.status != "succeeded" or run.counts.get(expected) != rows:
                raise RuntimeError(f"the bench import did not {expected} {rows}: {run}")
        return times[0], times[1], rows
    finally:
        await store.close()


@bench(
    "crm.csv_import",
    "CSV rows imported per second: a 50,000-row clients file into PostgreSQL (first import)",
    needs=("postgres",),
)
def crm_csv_import(quick: bool) -> Result:
    first, second, rows = asyncio.run(import_csv(2000 if quick else 50_000))
    return Result(
        name="crm.csv_import",
        n=rows,
        rate=rows / first,
        unit="row",
        note=f"pages of 1,000, contact.created per couple; re-import {rows / second:,.0f} rows/s",
    )
