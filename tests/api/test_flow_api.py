"""The canvas endpoints end to end on both databases: React Flow shape, If-Match, ops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.api.conftest import Org
from tests.api.helpers import small_flow

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "react_flow_json_object.schema.json").read_text()
)

Client = httpx.AsyncClient


async def create_journey(client: Client, org: Org, flow: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"name": "Photography clients"}
    if flow is not None:
        body["flow"] = flow
    response = await client.post("/api/v1/journeys", json=body, headers=org.auth("editor"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_flow_built_through_the_api_is_react_flow_json_and_round_trips(
    client: Client, org_a: Org
) -> None:
    journey = await create_journey(client, org_a)
    ops = [
        {
            "op": "add_node",
            "id": "o1",
            "node": {
                "id": "brochure",
                "type": "email",
                "position": {"x": 0, "y": 0},
                "data": {
                    "label": "Send brochure",
                    "config": {"to": "couple", "subject": "Brochure", "text": "Hi"},
                },
            },
        },
        {
            "op": "add_node",
            "id": "o2",
            "node": {
                "id": "done",
                "type": "end",
                "position": {"x": 300, "y": 0},
                "data": {"label": "Done"},
                "width": 150,
            },
        },
        {
            "op": "add_edge",
            "id": "o3",
            "edge": {
                "id": "e1",
                "source": "brochure",
                "target": "done",
                "type": "smoothstep",
                "animated": True,
            },
        },
    ]
    response = await client.post(
        f"/api/v1/journeys/{journey}/flow/ops",
        json={"base_revision": 0, "ops": ops},
        headers=org_a.auth("editor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == ["o1", "o2", "o3"]

    read = await client.get(f"/api/v1/journeys/{journey}/flow", headers=org_a.auth("viewer"))
    assert read.status_code == 200
    document = read.json()
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert set(document) == {"nodes", "edges", "viewport"}
    brochure = document["nodes"][0]
    assert brochure["type"] == "email" and brochure["data"]["label"] == "Send brochure"
    assert brochure["data"]["issues"] == [] or all("code" in i for i in brochure["data"]["issues"])
    assert document["nodes"][1]["width"] == 150
    assert document["edges"][0]["type"] == "smoothstep"
    assert document["edges"][0]["data"]["trigger"] == "immediate"
    tag = read.headers["etag"]

    # what toObject() would hand back after the user clicked around
    for item in document["nodes"]:
        item.update(selected=True, dragging=False, measured={"width": 150, "height": 40})
    for item in document["edges"]:
        item["selected"] = False
    saved = await client.put(
        f"/api/v1/journeys/{journey}/flow",
        json=document,
        headers=org_a.auth("editor") | {"If-Match": tag},
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] != tag
    again = (await client.get(f"/api/v1/journeys/{journey}/flow", headers=org_a.auth())).json()
    for item in document["nodes"]:
        for key in ("selected", "dragging", "measured"):
            item.pop(key)
    for item in document["edges"]:
        item.pop("selected")
    assert again == document


async def test_put_needs_if_match_and_refuses_a_stale_one(client: Client, org_a: Org) -> None:
    journey = await create_journey(client, org_a, small_flow())
    url = f"/api/v1/journeys/{journey}/flow"
    read = await client.get(url, headers=org_a.auth())
    missing = await client.put(url, json=read.json(), headers=org_a.auth())
    assert missing.status_code == 428
    assert missing.headers["content-type"].startswith("application/problem+json")
    ok = await client.put(
        url, json=read.json(), headers=org_a.auth() | {"If-Match": read.headers["etag"]}
    )
    assert ok.status_code == 200
    stale = await client.put(
        url, json=read.json(), headers=org_a.auth() | {"If-Match": read.headers["etag"]}
    )
    assert stale.status_code == 412
    assert stale.json()["etag"] == ok.headers["etag"]
    cached = await client.get(url, headers=org_a.auth() | {"If-None-Match": ok.headers["etag"]})
    assert cached.status_code == 304


async def test_two_clients_different_nodes_merge_same_field_conflicts_and_is_kept(
    client: Client, org_a: Org
) -> None:
    journey = await create_journey(client, org_a, small_flow())
    url = f"/api/v1/journeys/{journey}/flow/ops"
    base = (await client.get(f"/api/v1/journeys/{journey}", headers=org_a.auth())).json()[
        "revision"
    ]

    alice = await client.post(
        url,
        headers=org_a.auth("editor"),
        json={
            "base_revision": base,
            "ops": [
                {
                    "op": "update_node",
                    "id": "alice-1",
                    "node_id": "brochure",
                    "label": "Alice's label",
                }
            ],
        },
    )
    bob = await client.post(
        url,
        headers=org_a.auth("admin"),
        json={
            "base_revision": base,
            "ops": [
                {"op": "move_node", "id": "bob-1", "node_id": "wait", "position": {"x": 9, "y": 9}}
            ],
        },
    )
    assert alice.status_code == 200 and bob.status_code == 200

    carol = await client.post(
        url,
        headers=org_a.auth("owner"),
        json={
            "base_revision": base,
            "ops": [
                {
                    "op": "update_node",
                    "id": "carol-1",
                    "node_id": "brochure",
                    "label": "Carol's label",
                }
            ],
        },
    )
    assert carol.status_code == 409
    assert carol.headers["content-type"].startswith("application/problem+json")
    problem = carol.json()
    (refused,) = problem["rejected"]
    (item,) = refused["conflicts"]
    assert item["node_id"] == "brochure" and item["field"] == "label"
    assert item["theirs"] == "Alice's label" and item["mine"] == "Carol's label"

    flow = (await client.get(f"/api/v1/journeys/{journey}/flow", headers=org_a.auth())).json()
    labels = {n["id"]: n["data"]["label"] for n in flow["nodes"]}
    assert labels["brochure"] == "Alice's label"
    assert next(n for n in flow["nodes"] if n["id"] == "wait")["position"] == {"x": 9, "y": 9}

    conflicts = await client.get(f"/api/v1/journeys/{journey}/conflicts", headers=org_a.auth())
    assert conflicts.status_code == 200
    (record,) = conflicts.json()["items"]
    assert record["id"] == refused["conflict_id"]
    assert record["theirs"] == "Carol's label" and record["ours"] == "Alice's label"

    # replaying carol's op is a no-op that reports the first outcome
    replay = await client.post(
        url,
        headers=org_a.auth("owner"),
        json={
            "base_revision": base,
            "ops": [
                {
                    "op": "update_node",
                    "id": "carol-1",
                    "node_id": "brochure",
                    "label": "Carol's label",
                }
            ],
        },
    )
    assert replay.status_code == 200
    assert replay.json()["replayed"][0]["status"] == "rejected"

    # a reconnecting client catches up from the base revision
    missed = await client.get(f"{url}?since={base}", headers=org_a.auth())
    assert [op["op_id"] for op in missed.json()["ops"]] == ["alice-1", "bob-1"]
