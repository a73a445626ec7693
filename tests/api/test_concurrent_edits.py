"""Canvas writers racing for real (concurrent requests on one journey, both databases):
different nodes all merge; one field gives one winner and conflict records for the rest;
whole-flow saves and ops see each other's changes."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.conftest import Org
from tests.api.helpers import big_flow, small_flow


async def test_concurrent_batches_on_different_nodes_all_merge(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    created = await client.post(
        "/api/v1/journeys", json={"name": "J", "flow": big_flow(12)}, headers=org_a.auth()
    )
    journey, base = created.json()["id"], created.json()["revision"]

    async def drag(i: int) -> httpx.Response:
        return await client.post(
            f"/api/v1/journeys/{journey}/flow/ops",
            json={
                "base_revision": base,
                "ops": [
                    {
                        "op": "move_node",
                        "id": f"drag-{i}",
                        "node_id": f"n{i}",
                        "position": {"x": 1000 + i, "y": i},
                    }
                ],
            },
            headers=org_a.auth("editor"),
        )

    responses = await asyncio.gather(*(drag(i) for i in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["revision"] for r in responses) == list(range(base + 1, base + 11))
    flow = (await client.get(f"/api/v1/journeys/{journey}/flow", headers=org_a.auth())).json()
    moved = {n["id"]: n["position"]["x"] for n in flow["nodes"]}
    assert all(moved[f"n{i}"] == 1000 + i for i in range(10))


async def test_concurrent_edits_of_one_field_one_wins_the_rest_are_kept(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    created = await client.post(
        "/api/v1/journeys", json={"name": "J", "flow": small_flow()}, headers=org_a.auth()
    )
    journey, base = created.json()["id"], created.json()["revision"]

    async def rename(i: int) -> httpx.Response:
        return await client.post(
            f"/api/v1/journeys/{journey}/flow/ops",
            json={
                "base_revision": base,
                "ops": [
                    {
                        "op": "update_node",
                        "id": f"rename-{i}",
                        "node_id": "wait",
                        "label": f"Label {i}",
                    }
                ],
            },
            headers=org_a.auth("editor"),
        )

    responses = await asyncio.gather(*(rename(i) for i in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 5
    winner = next(r for r in responses if r.status_code == 200).json()["applied"][0]
    refused = {
        r.json()["rejected"][0]["op_id"]: r.json()["rejected"][0]["conflict_id"]
        for r in responses
        if r.status_code == 409
    }
    conflicts = (
        await client.get(f"/api/v1/journeys/{journey}/conflicts", headers=org_a.auth())
    ).json()["items"]
    assert {c["id"] for c in conflicts} == set(refused.values())
    won = f"Label {winner.removeprefix('rename-')}"
    assert all(c["ours"] == won and c["theirs"] != won for c in conflicts)
    assert {c["detail"]["op_id"] for c in conflicts} == set(refused)


async def test_a_whole_flow_save_and_an_op_see_each_other(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    created = await client.post(
        "/api/v1/journeys", json={"name": "J", "flow": small_flow()}, headers=org_a.auth()
    )
    journey = created.json()
    flow = (await client.get(f"/api/v1/journeys/{journey['id']}/flow", headers=org_a.auth())).json()
    flow["nodes"][2]["data"]["label"] = "Saved whole"
    saved = await client.put(
        f"/api/v1/journeys/{journey['id']}/flow",
        json=flow,
        headers=org_a.auth() | {"If-Match": journey["etag"]},
    )
    assert saved.status_code == 200
    stale = await client.post(
        f"/api/v1/journeys/{journey['id']}/flow/ops",
        json={
            "base_revision": journey["revision"],
            "ops": [
                {"op": "update_node", "id": "late", "node_id": "done", "label": "From an op"},
                {"op": "update_node", "id": "fine", "node_id": "wait", "label": "Other node"},
            ],
        },
        headers=org_a.auth(),
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["applied"] == ["fine"]
    assert body["rejected"][0]["conflicts"][0]["theirs"] == "Saved whole"
    ops = await client.get(
        f"/api/v1/journeys/{journey['id']}/flow/ops",
        params={"since": journey["revision"]},
        headers=org_a.auth(),
    )
    assert [o["kind"] for o in ops.json()["ops"]] == ["replace_flow", "update_node"]
