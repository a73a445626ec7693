"""Events, contacts, enrollments, manual triggers, tasks, action runs and the automation
log through the API, on both databases."""

from __future__ import annotations

from typing import Any

import httpx

from aisle.storage.store import Store
from tests.api.conftest import Org
from tests.api.helpers import small_flow
from tests.api.test_lifecycle_api import Api


async def live_journey(api: Api, *, manual: bool = False) -> str:
    flow = small_flow()
    if manual:
        flow["edges"][1]["data"] = {"trigger": "manual", "config": {"button": "Booked"}}
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={"name": "J", "flow": flow, "settings": {"start_step": "brochure"}},
    )
    await api("POST", f"/journeys/{journey['id']}/publish", 201, json={})
    return str(journey["id"])


async def test_events_are_idempotent_single_and_batch(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    contact = await api("POST", "/contacts", 201, json={"email": "e@example.com"})
    event = {
        "type": "form.submitted",
        "idempotency_key": "form-1",
        "contact_id": contact["id"],
        "payload": {"form_id": "enquiry"},
    }
    first = await api("POST", "/events", json=event)
    assert first["created"] is True and first["status"] == "processed"
    again = await api("POST", "/events", json=event | {"payload": {"form_id": "other"}})
    assert again["created"] is False and again["id"] == first["id"]
    assert again["payload"] == {"form_id": "enquiry"}
    batch = await api(
        "POST",
        "/events/batch",
        json={"events": [event, event | {"idempotency_key": "form-2"}]},
    )
    assert [(e["id"] == first["id"], e["created"]) for e in batch["items"]] == [
        (True, False),
        (False, True),
    ]
    assert batch["items"][1]["status"] == "processed"
    naive = await api("POST", "/events", 422, json=event | {"occurred_at": "2026-01-01T10:00:00"})
    assert "timezone" in naive["detail"]
    missing = await api(
        "POST", "/events", 404, json=event | {"contact_id": "nobody", "idempotency_key": "x"}
    )
    assert "nobody" in missing["detail"]
    await api("POST", "/events", 400, json=event | {"type": "Not A Type"})


async def test_contacts_search_and_the_wedding_date_needs_confirmation(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    ada = await api(
        "POST",
        "/contacts",
        201,
        json={
            "partners": [{"first_name": "Ada", "last_name": "Lovelace"}],
            "wedding_date": "2026-09-12",
            "timezone": "Europe/London",
            "external_ids": {"crm_tave": "T-1"},
        },
    )
    await api("POST", "/contacts", 201, json={"partners": [{"first_name": "Grace"}]})
    found = await api("GET", "/contacts", params={"q": "lovelace"})
    assert [c["id"] for c in found["items"]] == [ada["id"]]
    page = await api("GET", "/contacts", params={"limit": 1})
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await api("GET", "/contacts", params={"limit": 1, "cursor": page["next_cursor"]})
    assert rest["items"][0]["id"] != page["items"][0]["id"] and rest["next_cursor"] is None

    url = f"/contacts/{ada['id']}"
    refused = await api("PATCH", url, 409, json={"wedding_date": "2026-10-03"})
    assert refused["requires_confirmation"] == "confirm_date_change"
    assert refused["errors"][0]["field"] == "wedding_date"
    assert (await api("GET", url))["wedding_date"] == "2026-09-12"
    moved = await api(
        "PATCH",
        url,
        json={
            "wedding_date": "2026-10-03",
            "confirm_date_change": True,
            "custom": {"package": "gold"},
        },
    )
    assert moved["wedding_date"] == "2026-10-03" and moved["custom"] == {"package": "gold"}
    log = await api("GET", "/log", params={"contact_id": ada["id"], "kind": "contact."})
    assert "contact.wedding_date_changed" in {e["kind"] for e in log["items"]}
    await api("PATCH", url, 422, json={"timezone": "Mars/Olympus"})
    taken = await api("POST", "/contacts", 409, json={"external_ids": {"crm_tave": "T-1"}})
    assert taken["errors"][0]["field"] == "external_ids.crm_tave"
    await Api(client, org_a, "admin")("DELETE", url, 204)
    await api("GET", url, 404)


async def test_enroll_trigger_exit_history(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a, "editor")
    jid = await live_journey(Api(client, org_a), manual=True)
    one = await api("POST", "/contacts", 201, json={"email": "1@example.com"})
    two = await api("POST", "/contacts", 201, json={"email": "2@example.com"})
    first = await api(
        "POST", "/enrollments", 201, json={"contact_id": one["id"], "journey_id": jid}
    )
    second = await api(
        "POST", "/enrollments", 201, json={"contact_id": two["id"], "journey_id": jid}
    )
    assert first["step_id"] == "wait" and first["status"] == "active"
    again = await api(
        "POST", "/enrollments", 409, json={"contact_id": one["id"], "journey_id": jid}
    )
    assert "re-enrollment" in again["detail"]

    fired = await api(
        "POST",
        f"/enrollments/{first['id']}/trigger",
        json={"step_id": "wait", "data": {"note": "ok"}},
    )
    assert fired["event"]["type"] == "manual.triggered"
    assert fired["event"]["payload"]["note"] == "ok"
    assert fired["enrollment"]["status"] == "completed"
    await api("POST", f"/enrollments/{first['id']}/trigger", 409, json={"step_id": "wait"})
    await api("POST", f"/enrollments/{second['id']}/trigger", 422, json={})

    exited = await api("POST", f"/enrollments/{second['id']}/exit", json={"reason": "cancelled"})
    assert exited["status"] == "exited"
    active = await api("GET", "/enrollments", params={"journey_id": jid, "status": "active"})
    assert active["items"] == []
    history = await api("GET", f"/enrollments/{first['id']}/history")
    kinds = [e["kind"] for e in history["items"]]
    assert "step.entered" in kinds and "enrollment.completed" in kinds
    assert history["items"][0]["at"] >= history["items"][-1]["at"]  # newest first


async def test_tasks_complete_and_emit_task_completed(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    contact = await api("POST", "/contacts", 201, json={"email": "t@example.com"})
    task, _ = await store.for_org(org_a.id).tasks.create(
        title="Sign the contract",
        assignee="client",
        contact_id=contact["id"],
        step_id="sign",
        required_approvals=2,
    )
    listed = await api("GET", "/tasks", params={"status": "open", "contact_id": contact["id"]})
    assert [t["id"] for t in listed["items"]] == [task.id]
    half = await api("POST", f"/tasks/{task.id}/complete", json={"approver": "partner1"})
    assert half["status"] == "open" and len(half["approvals"]) == 1
    done = await api("POST", f"/tasks/{task.id}/complete", json={"approver": "partner2"})
    assert done["status"] == "completed"
    log = await api("GET", "/log", params={"contact_id": contact["id"], "kind": "task.completed"})
    assert log["items"]
    await api("POST", f"/tasks/{task.id}/complete", 409, json={})


async def test_action_runs_cancel_and_retry(client: httpx.AsyncClient, org_a: Org) -> None:
    admin = Api(client, org_a, "admin")
    jid = await live_journey(admin)
    contact = await admin("POST", "/contacts", 201, json={"email": "r@example.com"})
    await admin("POST", "/enrollments", 201, json={"contact_id": contact["id"], "journey_id": jid})
    runs = await admin("GET", "/action-runs", params={"contact_id": contact["id"]})
    (run,) = runs["items"]
    assert run["executor"] == "email" and run["status"] == "pending"
    cancelled = await admin("POST", f"/action-runs/{run['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    await admin("POST", f"/action-runs/{run['id']}/cancel", 409)
    retried = await admin("POST", f"/action-runs/{run['id']}/retry")
    assert retried["status"] == "pending"
    kinds = {
        e["kind"]
        for e in (await admin("GET", "/log", params={"action_run_id": run["id"]}))["items"]
    }
    assert {"action.cancelled", "action.retried"} <= kinds
    await Api(client, org_a, "editor")("POST", f"/action-runs/{run['id']}/cancel", 403)


async def test_log_filters_and_cursor_pagination(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a)
    jid = await live_journey(api)
    await api("PATCH", f"/journeys/{jid}", json={"name": "Renamed"})
    seen: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"journey_id": jid, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await api("GET", "/log", params=params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) >= 3 and len({e["id"] for e in seen}) == len(seen)
    assert all(e["journey_id"] == jid for e in seen)
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    published = await api("GET", "/log", params={"kind": "journey.", "journey_id": jid})
    assert {e["kind"] for e in published["items"]} >= {"journey.created", "journey.published"}
    window = await api("GET", "/log", params={"since": "2030-01-01T00:00:00Z", "journey_id": jid})
    assert window["items"] == []
    await api("GET", "/log", 422, params={"since": "2030-01-01T00:00:00"})


async def test_a_custom_date_a_waiting_step_counts_from_needs_confirmation(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    owner = Api(client, org_a)
    flow = small_flow()
    flow["edges"][1]["data"] = {
        "trigger": "date_reached",
        "config": {"field": "custom.rehearsal", "days": -1, "at": "18:00"},
    }
    journey = await owner(
        "POST",
        "/journeys",
        201,
        json={"name": "Rehearsal", "flow": flow, "settings": {"start_step": "brochure"}},
    )
    await owner("POST", f"/journeys/{journey['id']}/publish", 201, json={})
    couple = await api(
        "POST",
        "/contacts",
        201,
        json={"email": "r@example.com", "custom": {"rehearsal": "2030-06-01"}},
    )
    await api(
        "POST", "/enrollments", 201, json={"contact_id": couple["id"], "journey_id": journey["id"]}
    )
    url = f"/contacts/{couple['id']}"
    refused = await api("PATCH", url, 409, json={"custom": {"rehearsal": "2030-07-01"}})
    assert refused["errors"][0]["field"] == "custom.rehearsal"
    assert refused["old"] == "2030-06-01" and refused["new"] == "2030-07-01"
    moved = await api(
        "PATCH",
        url,
        json={"custom": {"rehearsal": "2030-07-01"}, "confirm_date_change": True},
    )
    assert moved["custom"] == {"rehearsal": "2030-07-01"}
