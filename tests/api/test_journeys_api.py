"""Journeys: paginated list with a status filter, rename with If-Match, pause, soft delete."""

from __future__ import annotations

import httpx

from tests.api.conftest import Org
from tests.api.helpers import small_flow
from tests.api.test_lifecycle_api import Api


async def test_list_filter_patch_pause_delete(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a)
    ids = [
        (
            await api(
                "POST",
                "/journeys",
                201,
                json={
                    "name": f"J{i}",
                    "flow": small_flow(),
                    "settings": {"start_step": "brochure"},
                },
            )
        )["id"]
        for i in range(3)
    ]
    first = await api("GET", "/journeys", params={"limit": 2})
    second = await api("GET", "/journeys", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [j["id"] for j in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None

    await api("POST", f"/journeys/{ids[1]}/publish", 201, json={})
    live = await api("GET", "/journeys", params={"status": "live"})
    assert [j["id"] for j in live["items"]] == [ids[1]]
    await api("GET", "/journeys", 400, params={"status": "gone"})

    journey = await api("GET", f"/journeys/{ids[0]}")
    renamed = await client.patch(
        f"/api/v1/journeys/{ids[0]}",
        json={"name": "Enquiries"},
        headers=api.headers | {"If-Match": journey["etag"]},
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Enquiries"
    moved_on = await api("PATCH", f"/journeys/{ids[0]}", json={"settings": {"start_step": "wait"}})
    assert moved_on["revision"] == journey["revision"] + 1
    stale = await client.patch(
        f"/api/v1/journeys/{ids[0]}",
        json={"name": "Again"},
        headers=api.headers | {"If-Match": journey["etag"]},
    )
    assert stale.status_code == 412
    await api("PATCH", f"/journeys/{ids[0]}", 409, json={"status": "paused"})  # never published
    paused = await api("PATCH", f"/journeys/{ids[1]}", json={"status": "paused"})
    assert paused["status"] == "paused"
    await Api(client, org_a, "editor")("PATCH", f"/journeys/{ids[1]}", 403, json={"status": "live"})

    await api("DELETE", f"/journeys/{ids[2]}", 204)
    await api("GET", f"/journeys/{ids[2]}", 404)
    listed = await api("GET", "/journeys")
    assert ids[2] not in [j["id"] for j in listed["items"]]
    log = await api("GET", "/log", params={"journey_id": ids[2], "kind": "journey.deleted"})
    assert log["items"][0]["actor"].startswith("user:")
