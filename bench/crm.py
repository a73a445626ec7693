"""CRM contacts synced per second: a first pull of 10,000 contacts from FakeCRMServer
(real socket, pages of 500) into PostgreSQL through the sync engine, as a sync run.

The rate is contacts created divided by the run's wall time, from the first page
request to the finished run (mapping, validation, links, batched writes and the
``contact.created`` event of each couple included).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec

from aisle import CRMProvider, ExternalRecord, Page, hookimpl
from bench.registry import Result, bench
from bench.services import fresh_postgres

__all__ = ["sync_contacts"]

API_KEY = "bench-crm-key"
SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="
PAGE = 500


class _Credentials(msgspec.Struct):
    api_key: str
    base_url: str


class _Client:
    def __init__(self, credentials: _Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        page = int(cursor or "1")
        response = await self._http.get(
            f"{self._credentials.base_url}/{kind}",
            params={"page": page, "pageSize": PAGE},
            headers={"X-API-KEY": self._credentials.api_key},
        )
        response.raise_for_status()
        body = response.json()
        meta: Mapping[str, Any] = body["meta"]
        return Page(
            records=[ExternalRecord(id=str(r["id"]), kind=kind, fields=r) for r in body["data"]],
            next_cursor=str(page + 1) if meta["page"] < meta["totalPages"] else None,
            total=meta["total"],
        )


PROVIDER = CRMProvider(
    name="benchcrm",
    label="Bench CRM",
    credentials=_Credentials,
    capabilities=frozenset({"pull"}),
    client=_Client,
    field_mapping={
        "email": "email",
        "phone": "phone",
        "partners.0.first_name": "first_name",
        "partners.0.last_name": "last_name",
        "wedding_date": "event_date",
    },
)


class _Plugin:
    @hookimpl
    def aisle_crm_providers(self) -> list[CRMProvider]:
        return [PROVIDER]


async def sync_contacts(count: int) -> tuple[float, int]:
    """Sync ``count`` contacts once; returns (seconds, contacts created)."""
    async with fresh_postgres("aisle_bench_crm") as url:
        return await _sync(url, count)


async def _sync(url: str, count: int) -> tuple[float, int]:
    from aisle.crm import CRMDeps
    from aisle.crm.connections import ConnectionService
    from aisle.crm.runs import SyncRuns, execute_sync_run
    from aisle.http import client
    from aisle.plugins.manager import load_registry
    from aisle.runtime import Runtime
    from aisle.services.roles import Operator
    from aisle.settings import Settings
    from aisle.storage.store import Store
    from aisle.testing import FakeCRMServer

    settings = Settings(database_url=url, secret_key=SECRET_KEY)
    registry = load_registry(extra_plugins=[("benchcrm", _Plugin())], entry_points=False)
    store = await Store.open(settings)
    operator = Operator(actor="bench")
    try:
        runtime = Runtime(store, registry, settings)
        deps = CRMDeps.of(runtime, http=lambda: client(allow=["127.0.0.1/32"], timeout=30.0))
        org = await store.organizations.create(slug="bench", name="Bench")
        scope = runtime.for_org(org.id)
        with FakeCRMServer(api_key=API_KEY, page_size=PAGE) as fake:
            fake.seed(
                "contacts",
                [
                    {
                        "email": f"couple{i}@example.com",
                        "phone": f"+4479111{i:05d}",
                        "first_name": f"Ada{i}",
                        "last_name": "Lovelace",
                        "event_date": "2027-06-12",
                    }
                    for i in range(count)
                ],
            )
            connection = await ConnectionService(deps, scope, operator).create(
                provider="benchcrm",
                name="Bench",
                credentials={"api_key": API_KEY, "base_url": fake.url},
            )
            run, _ = await SyncRuns(deps, scope, operator).request(connection.id)
            started = time.perf_counter()
            done = await execute_sync_run(deps, org.id, run.id, worker="bench")
            elapsed = time.perf_counter() - started
        if done is None or done.status != "succeeded":
            raise RuntimeError(f"the bench sync did not succeed: {done}")
        return elapsed, done.counts["created"]
    finally:
        await store.close()


@bench(
    "crm.sync_contacts",
    "CRM contacts synced per second: first pull of 10,000 from FakeCRMServer into PostgreSQL",
    needs=("postgres",),
)
def crm_sync_contacts(quick: bool) -> Result:
    count = 1000 if quick else 10_000
    elapsed, created = asyncio.run(sync_contacts(count))
    return Result(
        name="crm.sync_contacts",
        n=created,
        rate=created / elapsed,
        unit="contact",
        note=f"pages of {PAGE}, contact.created event per couple",
    )
