"""In Chromium against a live ``aisle serve``: the demo's captured email opened from the
Messages page; a webhook run that went dead (its receiver is a closed local port the
server may not reach) retried by the owner; the log's live tail showing an entry
written after the page opened (SSE over the real socket); couples and tasks shown;
signing out. Every page: no console errors, no serious or critical axe violation, a
screenshot."""

from __future__ import annotations

import base64
import re
import socket
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .harness import LiveServer, PageWatch
from .test_sign_in import sign_in


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(server: LiveServer, method: str, path: str, **kw: Any) -> Any:
    answer = httpx.request(
        method,
        f"{server.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {server.owner_token}"},
        timeout=30,
        **kw,
    )
    assert answer.status_code < 300, (path, answer.text)
    return answer.json() if answer.content else None


def _node(node_id: str, type_: str, x: float, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "position": {"x": x, "y": 0}, "data": data}


def _dead_webhook_run(server: LiveServer) -> tuple[str, str]:
    """A journey whose webhook posts to a closed local port, a couple through it; the
    couple's email and the run's id once the run is dead."""
    flow = {
        "nodes": [
            _node(
                "notify",
                "webhook",
                0,
                label="Tell the old CRM",
                config={"url": f"http://127.0.0.1:{_closed_port()}/hook"},
            ),
            _node("done", "end", 300, label="Done"),
        ],
        "edges": [
            {
                "id": "e1",
                "source": "notify",
                "target": "done",
                "sourceHandle": None,
                "targetHandle": None,
                "data": {"trigger": "immediate", "config": {}},
            }
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    # A webhook step signs with the studio's secret; the publish check asks for one.
    secret = "whsec_" + base64.b64encode(b"a studio secret of 32 bytes long").decode()
    _api(server, "PATCH", "/settings", json={"webhook_secret": secret})
    journey = _api(
        server,
        "POST",
        "/journeys",
        json={"name": "Old CRM hook", "flow": flow, "settings": {"start_step": "notify"}},
    )
    _api(server, "POST", f"/journeys/{journey['id']}/publish", json={})
    email = f"hook{time.monotonic_ns()}@example.com"
    contact = _api(server, "POST", "/contacts", json={"email": email})
    _api(
        server,
        "POST",
        "/enrollments",
        json={"contact_id": contact["id"], "journey_id": journey["id"]},
    )
    deadline = time.monotonic() + 60
    while True:
        runs = _api(
            server, "GET", "/action-runs", params={"journey_id": journey["id"], "status": "dead"}
        )
        if runs["items"]:
            return email, str(runs["items"][0]["id"])
        assert time.monotonic() < deadline, "the webhook run did not go dead"
        time.sleep(0.5)


def test_the_demo_shows_its_captured_email(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    watch.check("messages")
    first = page.locator("tbody th a").first
    subject = first.text_content() or ""
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject.strip())
    expect(page.get_by_role("heading", name="Text")).to_be_visible()
    expect(page.locator(".message-text")).not_to_be_empty()
    if page.locator("iframe.message-html").count():
        expect(page.frame_locator("iframe.message-html").locator("body")).not_to_be_empty()
    # The sandboxed frame's own document is the message, checked as the studio's mail.
    watch.check("message", axe_exclude=["iframe.message-html"])


def test_a_dead_run_is_retried_by_the_owner(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    _, run_id = _dead_webhook_run(server)
    sign_in(page, server.owner_email, server.owner_password)
    page.goto("/dashboard/runs?status=dead")
    expect(page.get_by_role("table")).to_contain_text("Old CRM hook")
    watch.check("runs-dead")
    page.goto(f"/dashboard/runs/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("dead")
    watch.check("run-dead")
    page.get_by_role("button", name="Retry").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/runs/{run_id}$"))
    expect(page.locator(".timeline")).to_contain_text("retried")
    watch.check("run-retried")


def test_the_log_tails_a_new_entry_live_and_the_studio_pages_show(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    page.goto("/dashboard/couples")
    expect(page.get_by_role("heading", level=1)).to_have_text("Couples")
    watch.check("couples")
    page.locator("tbody th a").first.click()
    expect(page.get_by_role("heading", name="Journeys")).to_be_visible()
    watch.check("couple")
    page.goto("/dashboard/tasks")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    watch.check("tasks")

    page.goto("/dashboard/log")
    expect(page.locator("#live-note")).to_be_visible()
    page.wait_for_timeout(1500)  # the SSE stream is open before the entry is written
    email = f"tail{time.monotonic_ns()}@example.com"
    _api(server, "POST", "/contacts", json={"email": email, "venue": "The Tail Barn"})
    rows = page.locator("#log-rows")
    expect(rows.locator("tr").first).to_contain_text(email, timeout=15000)
    watch.check("log-tail")


def test_signing_out_leaves_the_pages_behind(
    page: Page, watch: PageWatch, server: LiveServer
) -> None:
    sign_in(page, server.owner_email, server.owner_password)
    page.goto("/dashboard/runs")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    page.goto("/dashboard/runs")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    watch.check("signed-out")
