"""The action runs pages: filters, names instead of ids, attempt history, retry and
cancel by admins only."""

from __future__ import annotations

import httpx
import pytest

from aisle.contracts.log import LogKind
from aisle.storage.store import OrgScope, Store

from .studio import couple, post_form, studio

pytestmark = pytest.mark.asyncio


async def _run(scope: OrgScope, executor: str, key: str, contact_id: str | None = None) -> str:
    run, _ = await scope.action_runs.create(
        executor=executor, config={}, idempotency_key=key, contact_id=contact_id
    )
    return run.id


async def test_runs_are_listed_with_couple_names_and_filtered_by_status(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "runs")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    pending = await _run(scope, "email", "k1", ana.id)
    cancelled = await _run(scope, "webhook", "k2")
    await scope.action_runs.cancel(cancelled)

    listed = await browser.get("/dashboard/runs")
    assert listed.status_code == 200
    assert f'href="/dashboard/runs/{pending}"' in listed.text
    assert "Ana Ng &amp; Ben" in listed.text
    assert ana.id not in listed.text.replace(f"/couples/{ana.id}", "")

    only = await browser.get("/dashboard/runs", params={"status": "cancelled"})
    assert f"/dashboard/runs/{cancelled}" in only.text
    assert f"/dashboard/runs/{pending}" not in only.text
    by_executor = await browser.get("/dashboard/runs", params={"executor": "email"})
    assert f"/dashboard/runs/{pending}" in by_executor.text
    assert f"/dashboard/runs/{cancelled}" not in by_executor.text


async def test_an_admin_retries_a_cancelled_run_and_the_history_names_them(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "retry")
    run_id = await _run(scope, "webhook", "k")
    await scope.action_runs.cancel(run_id)
    page = f"/dashboard/runs/{run_id}"

    done = await post_form(browser, page, f"{page}/retry")
    assert done.status_code == 303
    assert done.headers["location"] == page
    assert (await scope.action_runs.get(run_id)).status == "pending"
    shown = await browser.get(page)
    assert LogKind.ACTION_RETRIED.value in shown.text
    assert "by API token “admin desk”" in shown.text

    again = await post_form(browser, page, f"{page}/retry")
    assert again.status_code == 409
    assert "only dead or cancelled runs can be retried" in again.text


async def test_an_admin_cancels_a_pending_run(store: Store, browser: httpx.AsyncClient) -> None:
    scope = await studio(store, browser, "cancel")
    run_id = await _run(scope, "email", "k")
    page = f"/dashboard/runs/{run_id}"
    assert ">Cancel</button>" in (await browser.get(page)).text
    done = await post_form(browser, page, f"{page}/cancel")
    assert done.status_code == 303
    assert (await scope.action_runs.get(run_id)).status == "cancelled"


async def test_a_viewer_sees_no_buttons_and_is_refused(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "viewer", role="viewer")
    run_id = await _run(scope, "email", "k")
    page = f"/dashboard/runs/{run_id}"
    shown = await browser.get(page)
    assert "<button" not in shown.text.partition('<main id="main"')[2]
    refused = await post_form(browser, page, f"{page}/cancel")
    assert refused.status_code == 403
    assert "needs the &#39;admin&#39; role" in refused.text
    assert (await scope.action_runs.get(run_id)).status == "pending"


async def test_another_studios_run_is_not_found(store: Store, browser: httpx.AsyncClient) -> None:
    await studio(store, browser, "mine")
    other = store.for_org(await store.organizations.create(slug="other", name="Other"))
    theirs = await _run(other, "email", "k")
    assert (await browser.get(f"/dashboard/runs/{theirs}")).status_code == 404
    assert f"/dashboard/runs/{theirs}" not in (await browser.get("/dashboard/runs")).text
