"""``/crm``: connections (credentials never answered), syncs queued and cancelled,
history, held changes decided, CSV files previewed, imported and exported. On SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.crm_records import HeldChangeRepository, NewHeldChange
from aisle.storage.store import Store
from tests.api.conftest import Org, open_client
from tests.api.test_lifecycle_api import Api
from tests.conftest import TEST_SECRET_KEY

SECRET = "tave-key-not-to-be-echoed-93c1"
CSV = (
    "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name\r\n"
    "Ana,Silva,ana@example.com,+44 20 7946 0001,Ben,Costa\r\n"
    "Eve,Ng,not an address,,,\r\n"
)


@pytest.fixture
def app(store: Store, registry: Registry, tmp_path: Path) -> Litestar:
    settings = Settings(
        data_dir=str(tmp_path / "data"), database_url=store.db.url, secret_key=TEST_SECRET_KEY
    )
    return create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(app):
        yield c


async def test_a_connection_keeps_its_credentials_to_itself(
    client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    admin = Api(client, org_a, "admin")
    made = await admin(
        "POST",
        "/crm/connections",
        201,
        json={"provider": "tave", "name": "Tave", "credentials": {"api_key": SECRET}},
    )
    assert made["credentials_set"] == ["api_key", "base_url"] and made["credentials_usable"]
    listed = await client.get("/api/v1/crm/connections", headers=org_a.auth("viewer"))
    assert listed.status_code == 200 and SECRET not in listed.text
    assert [c["id"] for c in listed.json()["items"]] == [made["id"]]
    url = f"/crm/connections/{made['id']}"
    changed = await admin("PATCH", url, json={"schedule_seconds": 3600, "enabled": False})
    assert changed["schedule_seconds"] == 3600 and changed["enabled"] is False
    refused = await admin("PATCH", url, 422, json={"schedule_seconds": 5})
    assert refused["errors"][0]["field"] == "schedule_seconds"
    bad = await admin(
        "POST", "/crm/connections", 422, json={"provider": "nope", "name": "X", "credentials": {}}
    )
    assert bad["errors"][0]["field"] == "provider"
    await Api(client, org_b)("GET", url, 404)
    await Api(client, org_a, "editor")("DELETE", url, 403)
    log = await admin("GET", "/log", params={"kind": "crm.connection_created"})
    assert SECRET not in json.dumps(log)
    await admin("DELETE", url, 204)
    await admin("GET", url, 404)


async def test_an_editor_syncs_cancels_and_reads_the_history(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    admin, editor = Api(client, org_a, "admin"), Api(client, org_a, "editor")
    made = await admin(
        "POST",
        "/crm/connections",
        201,
        json={"provider": "tave", "name": "Tave", "credentials": {"api_key": SECRET}},
    )
    first = await editor("POST", f"/crm/connections/{made['id']}/sync", 202)
    again = await editor("POST", f"/crm/connections/{made['id']}/sync", 202)
    assert first["queued"] and not again["queued"]
    assert again["run"]["id"] == first["run"]["id"]
    run = await editor("GET", f"/crm/runs/{first['run']['id']}")
    assert run["status"] == "queued" and run["phase"] == "queued"
    await editor("POST", f"/crm/runs/{run['id']}/cancel")
    history = await editor("GET", "/crm/runs", params={"connection_id": made["id"]})
    assert [r["id"] for r in history["items"]] == [run["id"]]
    await Api(client, org_a, "viewer")("POST", f"/crm/connections/{made['id']}/sync", 403)
    await editor("GET", "/crm/runs/01NOSUCHRUN", 404)


async def test_held_changes_are_confirmed_or_rejected_by_editors(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    admin, editor = Api(client, org_a, "admin"), Api(client, org_a, "editor")
    made = await admin(
        "POST",
        "/crm/connections",
        201,
        json={"provider": "tave", "name": "Tave", "credentials": {"api_key": SECRET}},
    )
    couple = await editor("POST", "/contacts", 201, json={"venue": "Barn"})
    held = HeldChangeRepository(org_a.id, store.db, store.clock)
    await held.hold_many(
        made["id"],
        None,
        [
            NewHeldChange(
                contact_id=couple["id"], field="venue", old="Barn", new="Hall", reason="protected"
            ),
            NewHeldChange(
                contact_id=couple["id"],
                field="custom.vendor_florist",
                old="Rose & Co",
                new="Loft",
                reason="protected",
            ),
        ],
    )
    pending = (await editor("GET", "/crm/held"))["items"]
    assert sorted(h["new"] for h in pending) == ["Hall", "Loft"]
    by_new = {h["new"]: h["id"] for h in pending}
    await Api(client, org_a, "viewer")("POST", f"/crm/held/{by_new['Hall']}/confirm", 403)
    await editor("POST", f"/crm/held/{by_new['Loft']}/reject")
    confirmed = await editor("POST", f"/crm/held/{by_new['Hall']}/confirm")
    assert confirmed["status"] == "confirmed"
    assert (await editor("GET", f"/contacts/{couple['id']}"))["venue"] == "Hall"
    assert (await editor("GET", "/crm/held"))["items"] == []
    everything = await editor("GET", "/crm/held", params={"status": "all"})
    assert {h["status"] for h in everything["items"]} == {"confirmed", "rejected"}


async def test_csv_files_preview_import_and_export(client: httpx.AsyncClient, org_a: Org) -> None:
    admin, editor = Api(client, org_a, "admin"), Api(client, org_a, "editor")
    made = await admin(
        "POST", "/crm/connections", 201, json={"provider": "studioninja", "name": "SN"}
    )
    base = f"/api/v1/crm/connections/{made['id']}/csv/clients"
    headers = org_a.auth("editor")
    preview = await client.post(
        f"{base}/preview", content=CSV, headers=headers | {"Content-Type": "text/csv"}
    )
    assert preview.status_code == 200, preview.text
    rows = preview.json()["preview"]["rows"]
    assert rows[0]["errors"] == [] and rows[1]["errors"][0]["field"] == "email"
    assert (await editor("GET", "/contacts"))["items"] == []

    imported = await client.post(
        f"{base}/import", files={"file": ("clients.csv", CSV, "text/csv")}, headers=headers
    )
    assert imported.status_code == 200, imported.text
    run = imported.json()
    assert run["status"] == "partial" and run["counts"]["created"] == 1
    assert run["counts"]["failed"] == 1 and "email" in json.dumps(run["errors"])

    exported = await client.get(f"{base}/export", headers=headers)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "ana@example.com" in exported.text and exported.text.startswith("First Name")

    wrong = await client.post(
        f"{base}/import", content=b"{}", headers=headers | {"Content-Type": "application/json"}
    )
    assert wrong.status_code == 415
    unknown = await client.post(
        f"/api/v1/crm/connections/{made['id']}/csv/invoices/preview",
        content=CSV,
        headers=headers | {"Content-Type": "text/csv"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "format"


async def test_a_held_change_of_an_unset_field_reads_with_a_null_old_value(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    admin, editor = Api(client, org_a, "admin"), Api(client, org_a, "editor")
    made = await admin(
        "POST",
        "/crm/connections",
        201,
        json={"provider": "tave", "name": "Tave", "credentials": {"api_key": SECRET}},
    )
    couple = await editor("POST", "/contacts", 201, json={"venue": "Kew"})
    held = HeldChangeRepository(org_a.id, store.db, store.clock)
    await held.hold_many(
        made["id"],
        None,
        [
            NewHeldChange(
                contact_id=couple["id"],
                field="wedding_date",
                old=None,
                new="2027-06-01",
                reason="moves the couple's pending date-relative steps",
            )
        ],
    )
    (pending,) = (await editor("GET", "/crm/held"))["items"]
    assert (pending["field"], pending["old"], pending["new"]) == (
        "wedding_date",
        None,
        "2027-06-01",
    )
    await editor("POST", f"/crm/held/{pending['id']}/confirm")
    assert (await editor("GET", f"/contacts/{couple['id']}"))["wedding_date"] == "2027-06-01"


async def test_a_connection_taking_webhooks_shows_its_inbound_url(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    admin = Api(client, org_a, "admin")
    made = await admin(
        "POST",
        "/crm/connections",
        201,
        json={"provider": "tave", "name": "Tave", "credentials": {"api_key": SECRET}},
    )
    path = f"/api/v1/inbound/crm/{made['id']}"
    assert made["inbound_url"] == path
    assert (await admin("GET", f"/crm/connections/{made['id']}"))["inbound_url"] == path
