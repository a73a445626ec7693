"""A dead action run is visible on its enrollment, in the journey's statistics and in the
log (issue 11, item 7): on e5e9255 the enrollment only said ``completed``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar

from aisle import PermanentError
from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.jobs import drain
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import Org, open_client
from tests.api.helpers import edge, node
from tests.conftest import Recorder

FLOW = {
    "nodes": [
        node("notify", "webhook", label="Tell the CRM", config={"url": "https://crm.example/h"}),
        node("done", "end", 300, 0, label="Done"),
    ],
    "edges": [edge("e1", "notify", "done")],
    "viewport": {"x": 0, "y": 0, "zoom": 1},
}


async def test_a_dead_run_shows_on_its_completed_enrollment_stats_and_log(
    store: Store,
    jobs_registry: Registry,
    recorder: Recorder,
    settings: Settings,
    tmp_path: Path,
    org_a: Org,
) -> None:
    app: Litestar = create_app(settings, jobs_registry, store=store, config=ApiConfig(rate_limit=0))
    runtime = Runtime(store, jobs_registry, settings)
    recorder.fail("webhook", PermanentError("the receiver answered 401: bad signature"))
    async for client in open_client(app):

        async def call(method: str, url: str, client: httpx.AsyncClient = client, **kw: Any) -> Any:
            response = await client.request(method, url, headers=org_a.auth(), **kw)
            assert response.status_code < 300, (url, response.text)
            return response.json()

        journey = await call(
            "POST",
            "/api/v1/journeys",
            json={"name": "Notify", "flow": FLOW, "settings": {"start_step": "notify"}},
        )
        await call("POST", f"/api/v1/journeys/{journey['id']}/publish", json={})
        ok, failing = [
            await call("POST", "/api/v1/contacts", json={"email": f"{name}@example.com"})
            for name in ("ok", "failing")
        ]
        enrolled = {}
        # The failure is armed for the first run to execute: enroll the failing couple
        # first and drain before enrolling the other.
        for contact in (failing, ok):
            enrolled[contact["id"]] = await call(
                "POST",
                "/api/v1/enrollments",
                json={"contact_id": contact["id"], "journey_id": journey["id"]},
            )
            await drain(runtime)

        bad = await call("GET", f"/api/v1/enrollments/{enrolled[failing['id']]['id']}")
        assert bad["status"] == "completed"
        failed = bad["failed_actions"]
        assert failed["count"] == 1
        assert "401: bad signature" in failed["last_error"]
        assert failed["last_failed_at"] is not None
        good = await call("GET", f"/api/v1/enrollments/{enrolled[ok['id']]['id']}")
        assert good["status"] == "completed"
        assert good["failed_actions"] == {"count": 0, "last_error": None, "last_failed_at": None}
        listed = await call("GET", "/api/v1/enrollments", params={"journey_id": journey["id"]})
        assert sorted(e["failed_actions"]["count"] for e in listed["items"]) == [0, 1]

        stats = await call("GET", f"/api/v1/journeys/{journey['id']}/stats")
        assert stats["enrollments"]["completed"] == 2
        assert stats["with_failed_actions"]["completed"] == 1
        assert stats["failed_actions"] == 1
        notify = next(s for s in stats["steps"] if s["step_id"] == "notify")
        assert (notify["actions"]["dead"], notify["actions"]["succeeded"]) == (1, 1)
        assert notify["failed_actions"]["count"] == 1
        assert "bad signature" in notify["failed_actions"]["last_error"]

        log = await call("GET", "/api/v1/log", params={"kind": "action.dead"})
        (entry,) = log["items"]
        assert entry["enrollment_id"] == bad["id"]
        assert "bad signature" in entry["message"]
