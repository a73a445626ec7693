"""Previews through the API with the real ``email`` and ``sms`` executors, on both
databases: rendered for the sample couple or a contact, nothing sent or stored, and
every failure a problem naming the field (and step) at fault."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from aisle import ActionContext, ActionExecutor, ActionResult
from aisle.api import previews
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.storage.store import Store
from tests.api.conftest import Org, build_app, open_client
from tests.api.helpers import edge, node
from tests.api.test_lifecycle_api import Api

EMAIL = {
    "subject": "{{ couple }}: {{ wedding.weekday }} {{ wedding.date_medium }}",
    "text": "See you on {{ wedding_date }} at {{ venue }}.\n{{ studio.name }}",
    "html": "<p>Dear {{ partner1.first_name }}, see you at {{ venue }}</p>",
}

COUPLE = {
    "partners": [
        {"first_name": "Ada", "email": "ada@example.com", "phone": "+12025550111"},
        {"first_name": "Grace", "email": "grace@example.com"},
    ],
    "wedding_date": "2026-09-12",
    "venue": "Barn <& Co>",
}


def journey_flow(**email: Any) -> dict[str, Any]:
    """Email → SMS → a vendor to-do → wait → end, all chained."""
    return {
        "nodes": [
            node("hello", "email", label="Hello", config={"to": "couple", **EMAIL, **email}),
            node("text", "sms", label="Text", config={"body": "Hi {{ partner1.first_name }} 🎉"}),
            node(
                "todo",
                "vendor_action",
                label="Shot list",
                config={"title": "Prepare the shot list", "vendor_type": "photographer"},
            ),
            node("wait", "wait", label="Wait"),
            node("done", "end", label="Done"),
        ],
        "edges": [
            edge("e1", "hello", "text"),
            edge("e2", "text", "todo"),
            edge("e3", "todo", "wait"),
            edge("e4", "wait", "done", "time_delay", days=3),
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


async def new_journey(api: Api, **email: Any) -> str:
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={
            "name": "Preview",
            "flow": journey_flow(**email),
            "settings": {"start_step": "hello"},
        },
    )
    return str(journey["id"])


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


async def test_email_preview_for_the_sample_couple_and_a_contact_sends_nothing(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    viewer = Api(client, org_a, "viewer")
    sample = await viewer("POST", "/action-executors/email/preview", json={"config": EMAIL})
    assert sample["executor"] == "email" and sample["contact_id"] is None
    shown = sample["rendered"]
    # the API's clock stands at 2026-01-05: the sample couple marries on a Saturday
    # about six months on
    assert shown["subject"] == "Alex & Sam: Saturday 11 July 2026"
    assert shown["text"] == "See you on Saturday 11 July 2026 at The Old Barn.\nAlpha"
    assert shown["to"] == ["alex@example.com", "sam@example.com"]

    contact = await Api(client, org_a, "editor")("POST", "/contacts", 201, json=COUPLE)
    owner = Api(client, org_a)
    log = (await owner("GET", "/log"))["items"]
    real = await viewer(
        "POST",
        "/action-executors/email/preview",
        json={"config": EMAIL, "contact_id": contact["id"]},
    )
    assert real["contact_id"] == contact["id"]
    shown = real["rendered"]
    assert shown["subject"] == "Ada & Grace: Saturday 12 September 2026"
    assert shown["text"].startswith("See you on Saturday 12 September 2026 at Barn <& Co>.")
    assert shown["html"] == "<p>Dear Ada, see you at Barn &lt;&amp; Co&gt;</p>"
    assert shown["to"] == ["ada@example.com", "grace@example.com"]

    assert (await owner("GET", "/action-runs"))["items"] == []
    assert (await owner("GET", "/log"))["items"] == log


async def test_sms_preview_reports_recipients_and_segments(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    short = await api(
        "POST", "/action-executors/sms/preview", json={"config": {"body": "Hi {{ couple }} 🎉"}}
    )
    shown = short["rendered"]
    assert shown["body"] == "Hi Alex & Sam 🎉"
    assert shown["to"] == ["+12025550142", "+12025550173"]
    assert shown["length"]["encoding"] == "UCS-2" and shown["length"]["segments"] == 1
    long = await api(
        "POST",
        "/action-executors/sms/preview",
        json={"config": {"body": "{{ couple }} " * 20, "to": "partner1"}},
    )
    assert long["rendered"]["length"]["encoding"] == "GSM-7"
    assert long["rendered"]["length"]["segments"] == 2
    assert long["rendered"]["to"] == ["+12025550142"]


async def test_executor_preview_problems_name_the_field(
    client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    headers = org_a.auth("editor")

    async def preview(executor: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        url = f"/api/v1/action-executors/{executor}/preview"
        return problem(await client.post(url, json=body, headers=headers), status)

    unknown = await preview("carrier_pigeon", {"config": {}}, 404)
    assert "carrier_pigeon" in unknown["detail"] and unknown["resource"] == "action executor"

    webhook = await preview("webhook", {"config": {"url": "https://example.com/h"}}, 409)
    assert webhook["type"].endswith("/preview-unsupported")
    assert "webhook" in webhook["detail"] and "has no preview" in webhook["detail"]

    wrong_type = await preview("email", {"config": {**EMAIL, "cc": "nobody"}}, 422)
    assert wrong_type["type"].endswith("/invalid-config")
    assert wrong_type["errors"] == [
        {"message": "Expected `array`, got `str`", "field": "config.cc", "code": "invalid_config"}
    ]
    assert wrong_type["detail"].startswith("email action, config.cc:")
    misspelt = await preview("email", {"config": {**EMAIL, "subjet": "x"}}, 422)
    assert misspelt["errors"][0]["field"] == "config.subjet"
    missing = await preview("sms", {"config": {"to": "couple"}}, 422)
    assert missing["errors"][0]["field"] == "config.body", missing

    undefined = await preview("email", {"config": {**EMAIL, "subject": "Hi {{ nope }}"}}, 422)
    assert undefined["type"].endswith("/template-error")
    assert undefined["errors"][0]["field"] == "config.subject"
    assert undefined["errors"][0]["code"] == "template_error"
    assert "'nope' is undefined" in undefined["detail"]
    syntax = await preview("email", {"config": {**EMAIL, "html": "{% if %}"}}, 422)
    assert syntax["errors"][0]["field"] == "config.html"
    unsafe = await preview("sms", {"config": {"body": "{{ couple.__class__ }}"}}, 422)
    assert unsafe["errors"][0]["field"] == "config.body"

    address = await preview("email", {"config": {**EMAIL, "cc": ["nobody"]}}, 422)
    assert address["errors"][0] == {
        "message": address["detail"],
        "field": "config.cc",
        "code": "invalid_config",
    }

    contact = await client.post("/api/v1/contacts", json={"email": "a@x.example"}, headers=headers)
    theirs = await client.post(
        "/api/v1/action-executors/email/preview",
        json={"config": EMAIL, "contact_id": contact.json()["id"]},
        headers=org_b.auth("owner"),
    )
    assert problem(theirs, 404)["resource"] == "contact"
    no_phone = await preview(
        "sms", {"config": {"body": "Hi"}, "contact_id": contact.json()["id"]}, 422
    )
    assert no_phone["errors"][0]["field"] == "config.to"


async def test_step_preview_shows_what_the_run_carries(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    journey_id = await new_journey(api)
    contact = await api("POST", "/contacts", 201, json=COUPLE)

    base = f"/journeys/{journey_id}/steps"
    sample = await Api(client, org_a, "viewer")("POST", f"{base}/hello/preview", json={})
    assert sample["node_type"] == "email" and sample["version"] == "draft"
    assert sample["contact_id"] is None
    [action] = sample["actions"]
    assert action["executor"] == "email" and action["key"] == "main"
    assert action["config"]["recipients"] == ["alex@example.com", "sam@example.com"]
    assert action["rendered"]["subject"] == "Alex & Sam: Saturday 11 July 2026"

    text = await api("POST", f"{base}/text/preview", json={"contact_id": contact["id"]})
    assert text["actions"][0]["rendered"]["body"] == "Hi Ada 🎉"
    assert text["actions"][0]["rendered"]["to"] == ["+12025550111"]

    todo = await api("POST", f"{base}/todo/preview", json={})
    [task] = todo["actions"]
    assert task["executor"] == "task" and task["rendered"] is None
    assert "has no preview" in task["note"]
    assert task["config"]["title"] == "Prepare the shot list"
    assert (await api("POST", f"{base}/wait/preview", json={}))["actions"] == []
    assert (await api("POST", f"{base}/done/preview", json={}))["actions"] == []

    # what the preview shows for a contact is what the action run carries once enrolled
    hello = await api("POST", f"{base}/hello/preview", json={"contact_id": contact["id"]})
    await Api(client, org_a, "admin")("POST", f"/journeys/{journey_id}/publish", 201, json={})
    await api(
        "POST", "/enrollments", 201, json={"contact_id": contact["id"], "journey_id": journey_id}
    )
    runs = (await api("GET", "/action-runs", params={"executor": "email"}))["items"]
    assert [r["config"] for r in runs] == [hello["actions"][0]["config"]]


async def test_step_preview_versions_and_problems(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a, "editor")
    journey_id = await new_journey(api)
    base = f"/api/v1/journeys/{journey_id}/steps"
    headers = org_a.auth("editor")

    async def preview(step: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        response = await client.post(f"{base}/{step}/preview", json=body, headers=headers)
        return problem(response, status)

    no_live = await preview("hello", {"version": "live"}, 422)
    assert no_live["errors"][0]["field"] == "version"
    missing = await preview("nowhere", {}, 404)
    assert missing["resource"] == "step" and "nowhere" in missing["detail"]

    async def configure(node_id: str, config: dict[str, Any]) -> None:
        revision = (await api("GET", f"/journeys/{journey_id}"))["revision"]
        op = {"op": "update_node", "id": f"set-{node_id}", "node_id": node_id, "config": config}
        batch = {"base_revision": revision, "ops": [op]}
        await api("POST", f"/journeys/{journey_id}/flow/ops", json=batch)

    await Api(client, org_a, "admin")("POST", f"/journeys/{journey_id}/publish", 201, json={})
    await configure("hello", {"text": "{{ contact.names }}"})
    live = await api("POST", f"{base.removeprefix('/api/v1')}/hello/preview", json={"version": "1"})
    assert live["version"] == "1" and live["actions"][0]["rendered"]["text"].startswith("See you")
    broken = await preview("hello", {}, 422)
    assert broken["type"].endswith("/template-error")
    assert broken["errors"][0] == {
        "message": broken["detail"],
        "field": "config.text",
        "node_id": "hello",
        "code": "template_error",
    }

    await configure("todo", {"title": ""})
    invalid = await preview("hello", {}, 422)
    assert invalid["type"].endswith("/invalid-journey")
    assert invalid["errors"][0]["node_id"] == "todo"


async def test_a_step_that_fails_on_entry_is_named(client: httpx.AsyncClient, org_a: Org) -> None:
    api = Api(client, org_a, "editor")
    flow = {
        "nodes": [
            node("ask", "decision", label="Booked?"),
            node("yes", "end", label="Booked"),
        ],
        "edges": [edge("e1", "ask", "yes", "condition", expression="contact.venue == 'Nowhere'")],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={"name": "D", "flow": flow, "settings": {"start_step": "ask"}},
    )
    response = await client.post(
        f"/api/v1/journeys/{journey['id']}/steps/ask/preview", json={}, headers=org_a.auth()
    )
    failed = problem(response, 422)
    assert failed["type"].endswith("/preview-failed")
    assert failed["errors"][0]["node_id"] == "ask"
    assert "no condition matched" in failed["detail"]


def _held_preview(
    release: threading.Event,
) -> Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]:
    def preview(config: Any, contact: Mapping[str, Any], studio: Mapping[str, Any]) -> Any:
        release.wait(timeout=30)
        return {"body": "late"}

    return preview


async def _never_runs(ctx: ActionContext) -> ActionResult:
    raise AssertionError("a preview must not execute")


async def test_a_preview_that_renders_too_long_is_given_up(
    store: Store,
    registry: Registry,
    org_a: Org,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    slow = ActionExecutor(name="slow", execute=_never_runs, preview=_held_preview(release))
    executors = {**registry.action_executors, "slow": slow}
    app = build_app(
        store,
        dataclasses.replace(registry, action_executors=executors),
        ApiConfig(rate_limit=0),
        tmp_path / "data",
    )
    monkeypatch.setattr(previews, "PREVIEW_SECONDS", 0.2)
    try:
        async for client in open_client(app):
            response = await client.post(
                "/api/v1/action-executors/slow/preview", json={}, headers=org_a.auth()
            )
            gave_up = problem(response, 422)
            assert gave_up["errors"][0]["code"] == "template_timeout"
            assert "longer than 0.2 s" in gave_up["detail"]
    finally:
        release.set()
