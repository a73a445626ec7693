"""The tasks page (complete by editors) and the automation log page (filters, names in
place of ids, the live tail's address carrying the filters and the newest entry)."""

from __future__ import annotations

import httpx
import pytest

from aisle.contracts.log import LogKind
from aisle.storage.store import Store

from .studio import couple, post_form, studio

pytestmark = pytest.mark.asyncio


async def test_an_editor_completes_an_open_task(store: Store, browser: httpx.AsyncClient) -> None:
    scope = await studio(store, browser, "tasks", role="editor")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    task, _ = await scope.tasks.create(title="Call the venue", assignee="studio", contact_id=ana.id)
    shown = await browser.get("/dashboard/tasks")
    assert "Call the venue" in shown.text and "Ana Ng &amp; Ben" in shown.text
    done = await post_form(browser, "/dashboard/tasks", f"/dashboard/tasks/{task.id}/complete")
    assert done.status_code == 303
    assert (await scope.tasks.get(task.id)).status == "completed"
    assert "Call the venue" not in (await browser.get("/dashboard/tasks")).text
    finished = await browser.get("/dashboard/tasks", params={"status": "completed"})
    assert "Call the venue" in finished.text


async def test_a_viewer_cannot_complete_a_task(store: Store, browser: httpx.AsyncClient) -> None:
    scope = await studio(store, browser, "viewtasks", role="viewer")
    task, _ = await scope.tasks.create(title="Sign the contract", assignee="couple")
    shown = await browser.get("/dashboard/tasks")
    assert "Sign the contract" in shown.text and ">Complete</button>" not in shown.text
    refused = await post_form(browser, "/dashboard/tasks", f"/dashboard/tasks/{task.id}/complete")
    assert refused.status_code == 403
    assert (await scope.tasks.get(task.id)).status == "open"


async def test_the_log_names_couples_journeys_and_actors_and_filters_by_kind(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "log", role="viewer")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    journey = await scope.journeys.create(name="Welcome journey")
    await scope.tokens.create(name="Zapier", role="editor")
    (zapier,) = [t for t in await scope.tokens.list() if t.name == "Zapier"]
    await scope.log.append(
        LogKind.ENROLLMENT_STARTED,
        message=f"enrolled in {journey.id} v1",
        actor=f"token:{zapier.id}",
        contact_id=ana.id,
        journey_id=journey.id,
    )
    newest = await scope.log.append(LogKind.ACTION_DEAD, message="webhook dead: 401")

    shown = await browser.get("/dashboard/log")
    assert shown.status_code == 200
    main = shown.text.partition('<main id="main"')[2]
    assert "enrolled in Welcome journey v1" in main
    assert "API token “Zapier”" in main
    assert "Ana Ng &amp; Ben" in main
    assert journey.id not in main.replace(f'value="{journey.id}"', "")
    assert f'sse-connect="/dashboard/log/tail?newest={newest}"' in main

    only = await browser.get("/dashboard/log", params={"kind": "action."})
    assert "webhook dead" in only.text and "enrolled in" not in only.text
    assert 'sse-connect="/dashboard/log/tail?kind=action.&amp;newest=' in only.text
