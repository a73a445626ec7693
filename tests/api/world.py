"""One organization's objects of every kind, built through the API (and the store for
the few things only workers create), for tests that go over every endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from aisle.services.webhook_endpoints import endpoint_id
from aisle.storage.crm_records import HeldChangeRepository, NewHeldChange
from aisle.storage.store import Store
from tests.api.conftest import Org
from tests.api.helpers import small_flow

CSV_FILE = "First Name,Last Name,Email\r\nAna,Silva,ana@example.com\r\n"
"""A Studio Ninja clients file of one couple."""


@dataclass
class World:
    journey_id: str
    version: int
    contact_id: str
    enrollment_id: str
    run_id: str
    task_id: str
    conflict_id: str
    event_id: str
    user_id: str
    token_id: str
    collaborator_id: str
    session_id: str
    endpoint_id: str
    message_id: str
    connection_id: str
    sync_run_id: str
    held_id: str

    def params(self) -> dict[str, Any]:
        return {
            "journey_id": self.journey_id,
            "version": self.version,
            "contact_id": self.contact_id,
            "enrollment_id": self.enrollment_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "conflict_id": self.conflict_id,
            "event_id": self.event_id,
            "user_id": self.user_id,
            "token_id": self.token_id,
            "session_id": self.session_id,
            "endpoint_id": self.endpoint_id,
            "message_id": self.message_id,
            "crm_connection_id": self.connection_id,
            "sync_run_id": self.sync_run_id,
            "held_id": self.held_id,
            "csv_format": "clients",
        }


async def build_world(client: httpx.AsyncClient, store: Store, org: Org) -> World:
    owner = org.auth("owner")

    async def call(method: str, url: str, **kw: Any) -> Any:
        response = await client.request(method, url, headers=owner | kw.pop("headers", {}), **kw)
        assert response.status_code < 300, (method, url, response.text)
        return response.json() if response.content else None

    flow = small_flow()
    journey = await call(
        "POST",
        "/api/v1/journeys",
        json={"name": "Enquiries", "flow": flow, "settings": {"start_step": "brochure"}},
    )
    journey_id = journey["id"]
    version = (await call("POST", f"/api/v1/journeys/{journey_id}/publish", json={}))["version"]
    contact = await call(
        "POST",
        "/api/v1/contacts",
        json={
            "partners": [{"first_name": "Ada"}, {"first_name": "Grace"}],
            "email": "couple@example.com",
            "wedding_date": "2026-09-12",
        },
    )
    enrollment = await call(
        "POST",
        "/api/v1/enrollments",
        json={"contact_id": contact["id"], "journey_id": journey_id},
    )
    runs = await call("GET", "/api/v1/action-runs")
    run_id = runs["items"][0]["id"]
    task, _ = await store.for_org(org.id).tasks.create(
        title="Prepare the shot list",
        assignee="vendor",
        contact_id=contact["id"],
        enrollment_id=enrollment["id"],
        step_id="brochure",
    )
    base = (await call("GET", f"/api/v1/journeys/{journey_id}"))["revision"]
    ops_url = f"/api/v1/journeys/{journey_id}/flow/ops"
    await call(
        "POST",
        ops_url,
        json={
            "base_revision": base,
            "ops": [{"op": "update_node", "id": "w1", "node_id": "wait", "label": "first"}],
        },
    )
    refused = await client.post(
        ops_url,
        headers=owner,
        json={
            "base_revision": base,
            "ops": [{"op": "update_node", "id": "w2", "node_id": "wait", "label": "second"}],
        },
    )
    assert refused.status_code == 409, refused.text
    conflict_id = refused.json()["rejected"][0]["conflict_id"]
    event = await call(
        "POST",
        "/api/v1/events",
        json={"type": "form.submitted", "idempotency_key": "world-1", "contact_id": contact["id"]},
    )
    scope = store.for_org(org.id)
    collaborator = await scope.users.create(email=f"collab@{org.slug}.example", role="viewer")
    await call(
        "PUT",
        f"/api/v1/journeys/{journey_id}/collaborators/{collaborator.id}",
        json={"role": "editor"},
    )
    editor = org.auth("editor")
    joined = await client.post(f"/api/v1/journeys/{journey_id}/presence", json={}, headers=editor)
    assert joined.status_code == 201, joined.text
    locked = await client.post(
        f"/api/v1/journeys/{journey_id}/locks", json={"nodes": ["wait"]}, headers=editor
    )
    assert locked.status_code == 200, locked.text
    message, _ = await scope.messages.record(
        channel="email",
        status="captured",
        to=["couple@example.com"],
        subject="Hello",
        text="Dear Ada and Grace",
        executor="email",
        action_run_id=run_id,
        contact_id=contact["id"],
        journey_id=journey_id,
    )
    # A webhook endpoint the executor disabled after a 410 (only workers write these).
    await scope.executor_memory.remember(
        "webhook", "disabled:https://hooks.example/gone", {"at": "2026-01-05", "status": 410}
    )
    # A CRM connection (CSV files: nothing to reach), a finished run and a held change.
    connection = await call(
        "POST", "/api/v1/crm/connections", json={"provider": "studioninja", "name": "SN"}
    )
    imported = await call(
        "POST",
        f"/api/v1/crm/connections/{connection['id']}/csv/clients/import",
        content=CSV_FILE,
        headers={"Content-Type": "text/csv"},
    )
    await HeldChangeRepository(org.id, store.db, store.clock).hold_many(
        connection["id"],
        imported["id"],
        [
            NewHeldChange(
                contact_id=contact["id"], field="venue", old="Barn", new="Hall", reason="x"
            )
        ],
    )
    held = await scope_held(store, org.id)
    tokens = await scope.tokens.list()
    editor_token = next(t for t in tokens if t.role == "editor")
    return World(
        journey_id=journey_id,
        version=version,
        contact_id=contact["id"],
        enrollment_id=enrollment["id"],
        run_id=run_id,
        task_id=task.id,
        conflict_id=conflict_id,
        event_id=event["id"],
        user_id=org.users["editor"],
        token_id=editor_token.id,
        collaborator_id=collaborator.id,
        session_id=joined.json()["id"],
        endpoint_id=endpoint_id("disabled:https://hooks.example/gone"),
        message_id=message.id,
        connection_id=connection["id"],
        sync_run_id=imported["id"],
        held_id=held,
    )


async def scope_held(store: Store, org_id: str) -> str:
    pending = await HeldChangeRepository(org_id, store.db, store.clock).list(status="pending")
    return pending[0].id
