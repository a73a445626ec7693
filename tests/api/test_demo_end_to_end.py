"""A fresh ``./scripts/serve``: the demo studio on a new SQLite data dir, no SMTP host, no
Redis. Its journey publishes cleanly, and driving its couples' events through every
step leaves no dead run: emails are captured (listed by the Messages API) and a step
that waits says why (issue 11, acceptance; items 1 and 10).

On e5e9255 every email run of the demo went dead (no AISLE_SMTP_HOST) and there was no
Messages API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.cli.seed import ensure_demo
from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.jobs import drain
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import open_client

# 22:00 in London on a Monday: outside the demo's 08:00-20:00 send window.
START = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


async def test_the_demo_publishes_and_runs_every_step_without_a_dead_run(
    registry: Registry, tmp_path: Path
) -> None:
    settings = Settings.from_env({"AISLE_DATA_DIR": str(tmp_path / "aisle-data")})
    assert settings.embedded and settings.dialect == "sqlite"
    clock = TestClock(START)
    store = await Store.open(settings, clock=clock)
    try:
        runtime = Runtime(store, registry, settings)
        seed = await ensure_demo(runtime)
        assert seed.owner_token and seed.journey_id
        app = create_app(
            settings, registry, store=store, runtime=runtime, config=ApiConfig(rate_limit=0)
        )
        async for client in open_client(app):
            await _walk(client, runtime, clock, seed.owner_token, seed.journey_id)
    finally:
        await store.close()


async def _walk(
    client: httpx.AsyncClient, runtime: Runtime, clock: TestClock, token: str, journey_id: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    async def call(method: str, url: str, **kw: Any) -> Any:
        response = await client.request(method, url, headers=headers, **kw)
        assert response.status_code < 300, (method, url, response.text)
        return response.json()

    published = await client.post(
        f"/api/v1/journeys/{journey_id}/publish", headers=headers, json={"note": "again"}
    )
    assert published.status_code == 201, published.text

    # Enquiries arrived at night: the brochures wait for the send window, and say so.
    await drain(runtime)
    runs = (await call("GET", "/api/v1/action-runs"))["items"]
    assert [r["status"] for r in runs] == ["pending"] * 3
    deferred = (await call("GET", "/api/v1/log", params={"kind": "action.deferred"}))["items"]
    assert len(deferred) == 3
    assert all("send window opens" in e["message"] for e in deferred)

    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    await drain(runtime)
    brochures = (await call("GET", "/api/v1/messages"))["items"]
    assert len(brochures) == 3
    assert {m["status"] for m in brochures} == {"captured"}
    assert all("not sent" in m["note"] for m in brochures)
    shown = await call("GET", f"/api/v1/messages/{brochures[0]['id']}")
    assert shown["channel"] == "email" and shown["step_id"] == "send_brochure"
    assert "Golden Hour Photography" in shown["text"]

    # Three days later: the booked couple is asked for the deposit, the others followed up.
    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    await drain(runtime)
    contacts = {c["email"]: c["id"] for c in (await call("GET", "/api/v1/contacts"))["items"]}
    amira = contacts["amira@example.com"]
    await call(
        "POST",
        "/api/v1/events",
        json={
            "type": "payment.received",
            "idempotency_key": "deposit-amira",
            "contact_id": amira,
            "payload": {"amount": "500.00", "currency": "GBP"},
        },
    )
    # 30 days before the wedding (45 days after the enquiry): the questionnaire.
    clock.set(datetime(2026, 3, 17, 10, 0, tzinfo=UTC))
    await drain(runtime)
    await call(
        "POST",
        "/api/v1/events",
        json={
            "type": "form.submitted",
            "idempotency_key": "questionnaire-amira",
            "contact_id": amira,
            "payload": {"form_id": "questionnaire"},
        },
    )
    await drain(runtime)
    tasks = (await call("GET", "/api/v1/tasks", params={"contact_id": amira}))["items"]
    shot_list = next(t for t in tasks if t["step_id"] == "shot_list")
    await call("POST", f"/api/v1/tasks/{shot_list['id']}/complete", json={})
    # A week before the wedding, 10:00 in London (BST).
    clock.set(datetime(2026, 4, 9, 9, 30, tzinfo=UTC))
    await drain(runtime)

    runs = (await call("GET", "/api/v1/action-runs", params={"limit": 500}))["items"]
    assert {r["status"] for r in runs} == {"succeeded"}, [
        (r["step_id"], r["status"], r["last_error"]) for r in runs
    ]
    assert sorted(r["step_id"] for r in runs if r["executor"] == "email") == sorted(
        ["send_brochure"] * 3 + ["follow_up"] * 2 + ["see_you_soon"]
    )
    messages = (await call("GET", "/api/v1/messages", params={"limit": 500}))["items"]
    assert len(messages) == 6 and {m["status"] for m in messages} == {"captured"}

    enrollments = (await call("GET", "/api/v1/enrollments", params={"limit": 500}))["items"]
    outcomes = {(e["contact_id"] == amira, e["status"], e["outcome"]) for e in enrollments}
    assert outcomes == {(True, "completed", "completed"), (False, "completed", "not_booked")}
    assert {e["failed_actions"]["count"] for e in enrollments} == {0}
    stats = await call("GET", f"/api/v1/journeys/{journey_id}/stats")
    assert stats["failed_actions"] == 0
    assert stats["enrollments"]["completed"] == 3
    assert stats["with_failed_actions"]["completed"] == 0
