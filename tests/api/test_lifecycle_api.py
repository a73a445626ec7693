"""Validate, publish, versions, diff, rollback, impact, migration, simulation,
export/import and conflict resolution, through the API on both databases."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Org
from tests.api.helpers import edge, node, small_flow


class Api:
    def __init__(self, client: httpx.AsyncClient, org: Org, role: str = "owner") -> None:
        self.client, self.headers = client, org.auth(role)

    async def __call__(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, f"/api/v1{url}", headers=self.headers, **kw)
        assert response.status_code == status, (method, url, response.text)
        return response.json() if response.content else None


async def test_publish_refuses_an_invalid_draft_then_versions_diff_rollback(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a)
    flow = small_flow()
    flow["nodes"][0]["data"]["config"]["subject"] = 5  # not a string
    journey = await api("POST", "/journeys", 201, json={"name": "J", "flow": flow})
    jid = journey["id"]
    report = await api("POST", f"/journeys/{jid}/validate")
    assert report["valid"] is False
    errors = [i for i in report["issues"] if i["severity"] == "error"]
    assert errors[0]["node_id"] == "brochure" and "subject" in (errors[0]["field"] or "")
    refused = await api("POST", f"/journeys/{jid}/publish", 422, json={})
    assert refused["errors"][0]["node_id"] == "brochure" and refused["issues"]
    marked = await api("GET", f"/journeys/{jid}/flow")
    assert marked["nodes"][0]["data"]["issues"][0]["severity"] == "error"

    await api(
        "POST",
        f"/journeys/{jid}/flow/ops",
        json={
            "base_revision": journey["revision"],
            "ops": [
                {
                    "op": "update_node",
                    "id": "fix",
                    "node_id": "brochure",
                    "config": {"subject": "Our brochure"},
                }
            ],
        },
    )
    await api("PATCH", f"/journeys/{jid}", json={"settings": {"start_step": "brochure"}})
    assert (await api("POST", f"/journeys/{jid}/validate"))["valid"] is True
    v1 = await api("POST", f"/journeys/{jid}/publish", 201, json={"note": "first"})
    assert v1["version"] == 1 and v1["live"] is True and v1["flow"]["nodes"]

    current = await api("GET", f"/journeys/{jid}")
    await api(
        "POST",
        f"/journeys/{jid}/flow/ops",
        json={
            "base_revision": current["revision"],
            "ops": [
                {"op": "update_node", "id": "l", "node_id": "wait", "label": "Four days"},
                {"op": "update_edge", "id": "d", "edge_id": "e2", "config": {"days": 4}},
            ],
        },
    )
    v2 = await api("POST", f"/journeys/{jid}/publish", 201, json={})
    assert v2["version"] == 2

    diff = await api("GET", f"/journeys/{jid}/diff", params={"from": "1", "to": "2"})
    assert diff["from"] == "1"
    changed = {c["id"]: c["changes"] for c in diff["nodes"]["changed"]}
    assert changed["wait"] == [{"field": "label", "old": "Three days", "new": "Four days"}]
    assert diff["edges"]["changed"][0]["changes"][0]["new"] == 4
    assert diff["nodes"]["added"] == [] and diff["settings_changed"] is False

    rolled = await api("POST", f"/journeys/{jid}/rollback", 201, json={"version": 1})
    assert rolled["version"] == 3 and rolled["source_version"] == 1
    assert rolled["flow"] == v1["flow"]
    versions = await api("GET", f"/journeys/{jid}/versions")
    assert [v["version"] for v in versions["items"]] == [1, 2, 3]
    assert [v["live"] for v in versions["items"]] == [False, False, True]
    # the draft is untouched by a rollback
    draft = await api("GET", f"/journeys/{jid}/diff", params={"from": "2", "to": "draft"})
    assert draft["nodes"]["changed"] == []
    await api("GET", f"/journeys/{jid}/versions/9", 404)


async def test_impact_preview_and_migration_with_a_step_mapping(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a)
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={"name": "J", "flow": small_flow(), "settings": {"start_step": "brochure"}},
    )
    jid = journey["id"]
    await api("POST", f"/journeys/{jid}/publish", 201, json={})
    contact = await api("POST", "/contacts", 201, json={"email": "a@example.com"})
    enrollment = await api(
        "POST", "/enrollments", 201, json={"contact_id": contact["id"], "journey_id": jid}
    )
    assert enrollment["step_id"] == "wait" and enrollment["version"] == 1

    # version 2 replaces "wait" with "pause"
    flow = small_flow()
    flow["nodes"][1]["id"] = "pause"
    flow["edges"][0]["target"] = "pause"
    flow["edges"][1]["source"] = "pause"
    current = await api("GET", f"/journeys/{jid}")
    await client.put(
        f"/api/v1/journeys/{jid}/flow",
        json=flow,
        headers=api.headers | {"If-Match": current["etag"]},
    )
    impact = await api("GET", f"/journeys/{jid}/impact", params={"to": "draft"})
    assert impact["active"] == 1
    (step,) = impact["steps"]
    assert (step["version"], step["step_id"], step["impact"]) == (1, "wait", "removed")
    await api("POST", f"/journeys/{jid}/publish", 201, json={})

    unmapped = await api(
        "POST", f"/journeys/{jid}/migrate", 422, json={"from_version": 1, "to_version": 2}
    )
    assert unmapped["errors"][0]["field"] == "step_mapping.wait"
    body = {"from_version": 1, "to_version": 2, "step_mapping": {"wait": "pause"}}
    dry = await api("POST", f"/journeys/{jid}/migrate", json=body | {"dry_run": True})
    assert dry["moved"] == [
        {"enrollment_id": enrollment["id"], "from_step": "wait", "to_step": "pause"}
    ]
    assert (await api("GET", f"/enrollments/{enrollment['id']}"))["version"] == 1
    done = await api("POST", f"/journeys/{jid}/migrate", json=body)
    assert len(done["moved"]) == 1
    moved = await api("GET", f"/enrollments/{enrollment['id']}")
    assert (moved["version"], moved["step_id"], moved["status"]) == (2, "pause", "active")
    assert moved["wake_at"] is not None
    log = await api(
        "GET", "/log", params={"enrollment_id": enrollment["id"], "kind": "enrollment.migrated"}
    )
    assert len(log["items"]) == 1


async def test_simulation_of_the_draft(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a, "viewer")
    owner = Api(client, org_a)
    journey = await owner(
        "POST",
        "/journeys",
        201,
        json={"name": "J", "flow": small_flow(), "settings": {"start_step": "brochure"}},
    )
    result = await api(
        "POST",
        f"/journeys/{journey['id']}/simulate",
        json={
            "contact": {"email": "c@example.com", "wedding_date": "2026-09-12"},
            "start_at": "2026-03-01T09:00:00Z",
            "horizon_days": 10,
        },
    )
    assert result["path"] == ["brochure", "wait", "done"]
    assert result["status"] == "completed"
    sent = [e for e in result["entries"] if e["kind"] == "action"]
    assert sent[0]["executor"] == "email" and sent[0]["at"].startswith("2026-03-01")
    invalid = await owner("POST", "/journeys", 201, json={"name": "empty"})
    refused = await api("POST", f"/journeys/{invalid['id']}/simulate", 422, json={})
    assert refused["issues"]


async def test_export_and_import_between_studios(
    client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    a, b = Api(client, org_a), Api(client, org_b)
    journey = await a(
        "POST",
        "/journeys",
        201,
        json={"name": "Export me", "flow": small_flow(), "settings": {"start_step": "brochure"}},
    )
    await a("POST", f"/journeys/{journey['id']}/publish", 201, json={"note": "v1"})
    document = await a("GET", f"/journeys/{journey['id']}/export")
    assert document["format"] == "aisle.journey/v1" and len(document["versions"]) == 1
    imported = await b("POST", "/journeys/import", 201, json=document)
    assert imported["id"] != journey["id"] and imported["live_version"] == 1
    assert imported["nodes"] == 3 and imported["status"] == "paused"  # live once published
    original = await a("GET", f"/journeys/{journey['id']}/flow")
    copy = await b("GET", f"/journeys/{imported['id']}/flow")
    assert copy == original
    document["draft"]["steps"][0]["type"] = "teleport"
    refused = await b("POST", "/journeys/import", 422, json=document)
    assert refused["errors"][0]["field"] == "draft.steps[0].type"


async def test_conflicts_are_listed_and_resolved(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a)
    journey = await api("POST", "/journeys", 201, json={"name": "J", "flow": small_flow()})
    jid, base = journey["id"], journey["revision"]
    ops = f"/journeys/{jid}/flow/ops"

    async def edit(op_id: str, label: str) -> httpx.Response:
        return await client.post(
            f"/api/v1{ops}",
            headers=api.headers,
            json={
                "base_revision": base,
                "ops": [{"op": "update_node", "id": op_id, "node_id": "done", "label": label}],
            },
        )

    assert (await edit("1", "Kept")).status_code == 200
    first = (await edit("2", "Refused once")).json()["rejected"][0]["conflict_id"]
    second = (await edit("3", "Applied later")).json()["rejected"][0]["conflict_id"]
    listed = await api("GET", "/conflicts", params={"status": "open", "kind": "graph"})
    assert {c["id"] for c in listed["items"]} == {first, second}

    kept = await api("POST", f"/conflicts/{first}/resolve", json={"choice": "keep"})
    assert kept["conflict"]["status"] == "resolved" and kept["outcome"] is None
    applied = await api("POST", f"/conflicts/{second}/resolve", json={"choice": "apply"})
    assert applied["outcome"]["applied"]
    flow = await api("GET", f"/journeys/{jid}/flow")
    assert next(n for n in flow["nodes"] if n["id"] == "done")["data"]["label"] == "Applied later"
    again = await api("POST", f"/conflicts/{second}/resolve", 409, json={"choice": "keep"})
    assert "already resolved" in again["detail"]
    assert (await api("GET", f"/journeys/{jid}/conflicts", params={"status": "open"}))[
        "items"
    ] == []


async def test_type_registry_for_canvases(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a, "viewer")
    nodes = {t["name"]: t for t in (await api("GET", "/node-types"))["items"]}
    decision = nodes["decision"]
    assert decision["dynamic_handles"] is True
    assert {"type": "source", "id": "otherwise", "label": "otherwise"} in decision["handles"]
    assert nodes["end"]["terminal"] is True
    assert all(h["type"] == "target" for h in nodes["end"]["handles"])
    assert nodes["email"]["config_schema"]["$ref"] or nodes["email"]["config_schema"]["properties"]
    assert nodes["email"]["distribution"] == "aisle-journeys"
    triggers = {t["name"]: t for t in (await api("GET", "/trigger-types"))["items"]}
    assert triggers["payment_received"]["event_types"] == ["payment.received"]
    assert triggers["time_delay"]["time_based"] is True


async def test_edges_with_handles_round_trip(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a)
    flow = {
        "nodes": [node("d", "decision"), node("yes", "end"), node("no", "end")],
        "edges": [
            edge("y", "d", "yes", "condition", expression="contact.custom.booked == true")
            | {"sourceHandle": "booked"},
            edge("n", "d", "no", "otherwise") | {"sourceHandle": "otherwise"},
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    journey = await api("POST", "/journeys", 201, json={"name": "J", "flow": flow})
    read = await api("GET", f"/journeys/{journey['id']}/flow")
    handles = {e["id"]: e["sourceHandle"] for e in read["edges"]}
    assert handles == {"y": "booked", "n": "otherwise"}
