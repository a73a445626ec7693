"""An imported journey takes no clients until it is published: a copy of a live journey
must not enroll every client the original does (issue 11, item 5)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Org
from tests.api.helpers import edge, node
from tests.api.test_lifecycle_api import Api

ENQUIRY = {"entry": {"event_type": "form.submitted"}, "start_step": "wait"}


def waiting_flow() -> dict[str, Any]:
    return {
        "nodes": [node("wait", "wait", label="A week"), node("done", "end", 250, 0)],
        "edges": [edge("e1", "wait", "done", "time_delay", days=7)],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


async def test_an_imported_copy_of_a_live_journey_waits_for_its_publish(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a)
    original = await api(
        "POST",
        "/journeys",
        201,
        json={"name": "Enquiries", "flow": waiting_flow(), "settings": ENQUIRY},
    )
    await api("POST", f"/journeys/{original['id']}/publish", 201, json={})
    document = await api("GET", f"/journeys/{original['id']}/export")
    assert document["status"] == "live"

    copy = await api("POST", "/journeys/import", 201, json=document | {"name": "Enquiries (copy)"})
    assert copy["status"] == "paused" and copy["live_version"] == 1
    (entry,) = [
        e
        for e in (await api("GET", "/log", params={"kind": "journey.imported"}))["items"]
        if e["journey_id"] == copy["id"]
    ]
    assert "paused until published" in entry["message"]

    async def submit(key: str) -> set[str]:
        contact = await api("POST", "/contacts", 201, json={"email": f"{key}@example.com"})
        await api(
            "POST",
            "/events",
            json={"type": "form.submitted", "idempotency_key": key, "contact_id": contact["id"]},
        )
        enrolled = await api("GET", "/enrollments", params={"contact_id": contact["id"]})
        return {e["journey_id"] for e in enrolled["items"]}

    assert await submit("first") == {original["id"]}  # enrolled once, in the original

    await api("POST", f"/journeys/{copy['id']}/publish", 201, json={})
    assert (await api("GET", f"/journeys/{copy['id']}"))["status"] == "live"
    assert await submit("second") == {original["id"], copy["id"]}


async def test_an_export_without_versions_lands_as_a_draft(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a)
    draft = await api("POST", "/journeys", 201, json={"name": "Sketch", "flow": waiting_flow()})
    document = await api("GET", f"/journeys/{draft['id']}/export")
    imported = await api("POST", "/journeys/import", 201, json=document | {"status": "live"})
    assert imported["status"] == "draft" and imported["live_version"] is None
