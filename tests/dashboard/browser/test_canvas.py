"""The journey canvas in Chromium against a live ``aisle serve``: a journey drawn from
the palette (the example plugin's checklist among its steps), connected, a step's config
edited through its form, published and reloaded unchanged; what React Flow's
``toObject()`` holds equals what ``GET /flow`` serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .harness import LiveServer, PageWatch
from .test_sign_in import sign_in

# React Flow draws its panes and handles without names; axe's page checks skip them.
CANVAS_ONLY = [".react-flow__renderer", ".react-flow__minimap", ".react-flow__controls"]


def api(server: LiveServer) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {server.owner_token}"},
        timeout=30,
    )


def new_journey(server: LiveServer, name: str, start_step: str) -> str:
    with api(server) as client:
        made = client.post(
            "/journeys",
            json={
                "name": name,
                "settings": {"start_step": start_step, "entry": {"event_type": "form.submitted"}},
            },
        )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def saved(page: Page) -> None:
    expect(page.get_by_role("status")).to_have_text("All changes saved", timeout=15_000)


def to_object(page: Page, tmp_path: Path) -> dict[str, Any]:
    """What the canvas holds, as React Flow's ``toObject()`` (its Download JSON button)."""
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    target = tmp_path / "canvas.json"
    download.value.save_as(target)
    document: dict[str, Any] = json.loads(target.read_text())
    return document


def essentials(document: dict[str, Any]) -> dict[str, Any]:
    """What a journey keeps of a React Flow document (React's own fields and the
    server's read-only issues aside)."""
    nodes = {
        n["id"]: {
            "type": n["type"],
            "position": {k: float(v) for k, v in n["position"].items()},
            "label": n["data"]["label"],
            "config": n["data"]["config"],
        }
        for n in document["nodes"]
    }
    edges = {
        e["id"]: {
            "source": e["source"],
            "target": e["target"],
            "sourceHandle": e.get("sourceHandle"),
            "targetHandle": e.get("targetHandle"),
            "type": e["type"],
            "label": e.get("label") or "",
            "trigger": e["data"]["trigger"],
            "config": e["data"]["config"],
            "priority": e["data"]["priority"],
        }
        for e in document["edges"]
    }
    return {"nodes": nodes, "edges": edges}


def connect(page: Page, source: str, target: str) -> None:
    page.locator(
        f'[data-step-id="{source}"] ~ .react-flow__handle-bottom, '
        f'[data-step-id="{source}"] .react-flow__handle-bottom'
    ).first.drag_to(page.locator(f'[data-step-id="{target}"] .react-flow__handle-top'))


def test_a_journey_drawn_on_the_canvas_is_saved_published_and_reloaded_unchanged(
    page: Page, watch: PageWatch, server: LiveServer, tmp_path: Path
) -> None:
    journey_id = new_journey(server, "Drawn on the canvas", "email_1")
    sign_in(page, server.owner_email, server.owner_password)
    page.goto(f"/dashboard/journeys/{journey_id}/canvas")
    saved(page)

    palette = page.get_by_role("navigation", name="Add a step")
    palette.get_by_role("button", name="Add Send email").click()
    saved(page)
    # The new step is selected: its form is open. Fill the email and save it.
    inspector = page.get_by_role("complementary", name="Step settings")
    inspector.get_by_label("Step label").fill("Welcome the couple")
    inspector.get_by_label("subject").fill("Welcome, {{ partner1.first_name }}")
    inspector.get_by_label("text").fill("We are so glad you found us.")
    inspector.get_by_role("button", name="Save step").click()
    saved(page)

    # The example plugin's checklist: its schema's form, with inline validation.
    palette.get_by_role("button", name="Add Checklist").click()
    saved(page)
    inspector = page.get_by_role("complementary", name="Step settings")
    expect(inspector.get_by_role("heading", name="Checklist")).to_be_visible()
    inspector.get_by_label("title").fill("Before the wedding")
    # minItems 1: the form starts with one item, shown invalid until it is filled.
    inspector.get_by_label("items-1").fill("Confirm the venue")
    inspector.get_by_role("button", name="Save step").click()
    saved(page)

    palette.get_by_role("button", name="Add End").click()
    saved(page)
    page.get_by_role("button", name="Fit View").click()
    connect(page, "email_1", "checklist_1")
    saved(page)
    connect(page, "checklist_1", "end_1")
    saved(page)
    expect(page.locator(".edge-label")).to_have_count(2)
    expect(page.locator(".edge-label").first).to_contain_text("Immediately")
    expect(page.locator('[data-step-id="email_1"]')).to_contain_text("Welcome the couple")

    drawn = to_object(page, tmp_path)
    with api(server) as client:
        served = client.get(f"/journeys/{journey_id}/flow").json()
    assert json.dumps(essentials(drawn), sort_keys=True) == json.dumps(
        essentials(served), sort_keys=True
    )
    email = essentials(served)["nodes"]["email_1"]
    assert email["label"] == "Welcome the couple"
    assert email["config"]["subject"] == "Welcome, {{ partner1.first_name }}"
    assert email["config"]["text"] == "We are so glad you found us."
    assert essentials(served)["nodes"]["checklist_1"]["config"]["items"] == ["Confirm the venue"]

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"Published version 1\."))
    watch.check("canvas", axe_exclude=CANVAS_ONLY)

    page.reload()
    saved(page)
    expect(page.locator(".react-flow__node")).to_have_count(3)
    assert essentials(to_object(page, tmp_path)) == essentials(drawn)
