"""The CRM pages: a Tave connection made through the generated credential form (its key
never shown again), tested and synced against the fake Workspace on a real socket with
the run's progress polled to its end; the mapping editor; a Studio Ninja CSV file
previewed and imported with its bad row named; held changes decided; viewers see no
controls and are refused; another studio sees nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar

from aisle.api.context import ApiContext
from aisle.crm.deps import CRMDeps
from aisle.crm.runs import execute_sync_run
from aisle.storage.crm_records import HeldChangeRepository, NewHeldChange
from aisle.storage.store import OrgScope, Store
from aisle_crm_tave.fake import FakeTave

from .forms import csrf_from, sign_in
from .studio import couple, post_form, studio

SECRET = "tave-key-for-the-dashboard-5e21"
CSV = (
    "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name\r\n"
    "Ana,Silva,ana@example.com,+44 20 7946 0001,Ben,Costa\r\n"
    "Eve,Ng,not an address,,,\r\n"
)


@pytest.fixture
def tave(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTave]:
    monkeypatch.setenv("AISLE_HTTP_ALLOW", "127.0.0.1/32")
    with FakeTave(api_key=SECRET, page_size=10) as fake:
        fake.seed(
            "contacts",
            [{"email": f"c{i}@example.com", "firstName": f"C{i}"} for i in range(25)],
        )
        yield fake


def _context(app: Litestar) -> ApiContext:
    ctx: ApiContext = app.state.aisle
    return ctx


async def _connect(browser: httpx.AsyncClient, base_url: str) -> str:
    """A Tave connection made through the form; its page's path."""
    made = await post_form(
        browser,
        "/dashboard/crm/new?provider=tave",
        "/dashboard/crm/new",
        {
            "provider": "tave",
            "name": "Our Tave",
            "direction": "pull",
            "credentials.api_key": SECRET,
            "credentials.base_url": base_url,
        },
    )
    assert made.status_code == 303, made.text
    return made.headers["location"]


async def test_a_connection_is_made_tested_and_synced_with_its_progress_to_the_end(
    app: Litestar, store: Store, browser: httpx.AsyncClient, tave: FakeTave
) -> None:
    scope = await studio(store, browser, "crmdesk")
    form = await browser.get("/dashboard/crm/new?provider=tave")
    assert 'type="password" id="cred-api_key"' in form.text
    assert 'value="https://workspace.vsco.co/api/v2"' in form.text  # a default shown
    path = await _connect(browser, tave.url)
    shown = await browser.get(path)
    assert shown.status_code == 200
    assert "api_key, base_url set" in shown.text and SECRET not in shown.text
    tested = await browser.post(f"{path}/test", data={"_csrf_token": csrf_from(shown.text)})
    assert tested.status_code == 200
    assert "The connection works: listed contacts" in tested.text, tested.text

    synced = await browser.post(f"{path}/sync", data={"_csrf_token": csrf_from(shown.text)})
    assert synced.status_code == 303
    run_path = synced.headers["location"]
    queued = await browser.get(run_path)
    assert 'hx-trigger="every 1s"' in queued.text and "<progress" in queued.text
    run_id = run_path.rsplit("/", 1)[1]
    deps = CRMDeps.of(_context(app).require_runtime())
    finished = await execute_sync_run(deps, scope.org_id, run_id, worker="test")
    assert finished is not None and finished.status == "succeeded"
    fragment = await browser.get(f"{run_path}/progress")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "every 1s" not in fragment.text  # over: the page stops asking
    assert 'max="25" value="25"' in fragment.text and "(100%)" in fragment.text
    assert re.search(r"<dt>Created</dt><dd>25</dd>", fragment.text)
    listed = await browser.get("/dashboard/crm")
    assert "Our Tave" in listed.text and "succeeded" in listed.text
    for page in (listed, shown, tested, queued, fragment, form):
        assert SECRET not in page.text


async def test_a_refused_connection_names_the_field_and_keeps_the_secret_out(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "crmrefused")
    refused = await post_form(
        browser,
        "/dashboard/crm/new?provider=tave",
        "/dashboard/crm/new",
        {"provider": "tave", "name": "", "credentials.api_key": SECRET},
    )
    assert refused.status_code == 422 and "name: give the connection a name" in refused.text
    assert SECRET not in refused.text
    missing = await post_form(
        browser,
        "/dashboard/crm/new?provider=tave",
        "/dashboard/crm/new",
        {"provider": "tave", "name": "No key"},
    )
    assert missing.status_code == 422 and "credentials" in missing.text
    unknown = await post_form(
        browser, "/dashboard/crm/new", "/dashboard/crm/new", {"provider": "nope", "name": "X"}
    )
    assert unknown.status_code == 422 and "no CRM provider named" in unknown.text


async def test_the_mapping_editor_saves_fields_policies_and_protection(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "crmmap")
    path = await _connect(browser, "https://workspace.vsco.co/api/v2")
    editor = await browser.get(f"{path}/mapping")
    rows = int(re.search(r'name="rows" value="(\d+)"', editor.text).group(1))  # type: ignore[union-attr]
    fields = dict(re.findall(r'name="field\.(\d+)" value="([^"]*)"', editor.text))
    venue = next(i for i, f in fields.items() if f == "venue")
    blank = next(i for i, f in fields.items() if f == "")
    form = {
        "_csrf_token": csrf_from(editor.text),
        "rows": str(rows),
        "protected_patterns": "custom.vendor*",
    }
    for index, field in fields.items():
        if field and index != venue:
            form[f"field.{index}"] = field
            form[f"remote.{index}"] = re.search(  # type: ignore[union-attr]
                rf'name="remote\.{index}" value="([^"]*)"', editor.text
            ).group(1)
    form |= {
        f"field.{blank}": "custom.planner",
        f"remote.{blank}": "plannerName",
        f"policy.{blank}": "aisle_wins",
        f"protected.{blank}": "yes",
    }
    saved = await browser.post(f"{path}/mapping", data=form)
    assert saved.status_code == 303, saved.text
    again = await browser.get(f"{path}/mapping")
    assert 'value="custom.planner"' in again.text and 'value="plannerName"' in again.text
    assert 'value="venue"' not in again.text  # its CRM field emptied: no longer synced
    planner_row = re.search(r'name="field\.(\d+)" value="custom.planner"', again.text).group(1)  # type: ignore[union-attr]
    assert re.search(
        rf'name="policy\.{planner_row}".*?<option value="aisle_wins" selected>',
        again.text,
        re.DOTALL,
    )
    assert re.search(rf'name="protected\.{planner_row}" value="yes"[^>]*checked', again.text)
    assert 'value="custom.vendor*"' in again.text
    bad = {**form, f"field.{blank}": "nickname"}
    refused = await browser.post(f"{path}/mapping", data=bad)
    assert refused.status_code == 422 and "field_mapping.nickname" in refused.text


async def test_a_csv_file_is_previewed_then_imported_with_its_bad_row_named(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "crmcsv")
    made = await post_form(
        browser,
        "/dashboard/crm/new?provider=studioninja",
        "/dashboard/crm/new",
        {"provider": "studioninja", "name": "Studio Ninja files", "direction": "both"},
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"]
    shown = await browser.get(path)
    assert 'name="format"' in shown.text and "Clients (Clients → Export)" in shown.text
    token = csrf_from(shown.text)
    files = {"file": ("clients.csv", CSV.encode(), "text/csv")}
    preview = await browser.post(
        f"{path}/csv/preview",
        data={"_csrf_token": token, "format": "clients"},
        files=files,
        headers={"HX-Request": "true"},
    )
    assert preview.status_code == 200 and "<html" not in preview.text
    assert "ana@example.com" in preview.text and '<th scope="row">3</th>' in preview.text
    assert "email" in preview.text.split('<th scope="row">3</th>')[1]
    assert await scope.contacts.list(limit=5) == []  # a preview writes nothing
    imported = await browser.post(
        f"{path}/csv/import", data={"_csrf_token": token, "format": "clients"}, files=files
    )
    assert imported.status_code == 303, imported.text
    run = await browser.get(imported.headers["location"])
    assert "partial" in run.text and "row 3" in run.text
    assert re.search(r"<dt>Created</dt><dd>1</dd>", run.text)
    nofile = await browser.post(
        f"{path}/csv/import", data={"_csrf_token": token, "format": "clients"}
    )
    assert nofile.status_code in (400, 422) and "choose a CSV file" in nofile.text


async def _held(store: Store, scope: OrgScope, connection_id: str) -> None:
    contact = await couple(scope, "Ana", "Ben", "ana@example.com")
    repo = HeldChangeRepository(scope.org_id, store.db, store.clock)
    await repo.hold_many(
        connection_id,
        None,
        [
            NewHeldChange(
                contact_id=contact.id, field="venue", old=None, new="Hall", reason="protected"
            ),
            NewHeldChange(
                contact_id=contact.id,
                field="custom.planner",
                old=None,
                new="Zoe",
                reason="protected",
            ),
        ],
    )


async def test_held_changes_are_confirmed_and_rejected_and_viewers_only_look(
    app: Litestar, store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "crmheld")
    path = await _connect(browser, "https://workspace.vsco.co/api/v2")
    await _held(store, scope, path.rsplit("/", 1)[1])
    listed = await browser.get("/dashboard/crm/held")
    assert "Ana Ng &amp; Ben" in listed.text and "Hall" in listed.text
    changes = await HeldChangeRepository(scope.org_id, store.db, store.clock).list()
    by_field = {c.field: c.id for c in changes}
    confirmed = await post_form(
        browser, "/dashboard/crm/held", f"/dashboard/crm/held/{by_field['venue']}/confirm"
    )
    assert confirmed.status_code == 303
    rejected = await post_form(
        browser, "/dashboard/crm/held", f"/dashboard/crm/held/{by_field['custom.planner']}/reject"
    )
    assert rejected.status_code == 303
    contact = (await scope.contacts.list(limit=1))[0]
    assert contact.venue == "Hall" and "planner" not in contact.custom
    again = await post_form(
        browser, "/dashboard/crm/held", f"/dashboard/crm/held/{by_field['venue']}/confirm"
    )
    assert again.status_code == 409 and "confirmed already" in again.text
    assert "Nothing is waiting for review" in (await browser.get("/dashboard/crm/held")).text

    viewer = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=browser.base_url)
    async with viewer:
        _, token = await scope.tokens.create(name="viewer", role="viewer")
        assert (await sign_in(viewer, token)).status_code == 303
        page = await viewer.get(path)
        assert page.status_code == 200
        assert "Sync now" not in page.text and "Test the connection" not in page.text
        assert "Only the studio's admins" in (await viewer.get("/dashboard/crm/new")).text
        refused = await post_form(viewer, path, f"{path}/sync")
        assert refused.status_code == 403
        mapping = await viewer.get(f"{path}/mapping")
        assert "Save the mapping" not in mapping.text


async def test_another_studio_sees_none_of_it(store: Store, browser: httpx.AsyncClient) -> None:
    await studio(store, browser, "crmmine")
    path = await _connect(browser, "https://workspace.vsco.co/api/v2")
    shown = await browser.get(path)
    synced = await browser.post(f"{path}/sync", data={"_csrf_token": csrf_from(shown.text)})
    run_path = synced.headers["location"]
    await studio(store, browser, "crmtheirs")
    for url in (path, run_path, f"{run_path}/progress", f"{path}/mapping"):
        answer = await browser.get(url)
        assert answer.status_code == 404, url
    assert "Our Tave" not in (await browser.get("/dashboard/crm")).text
    refused = await post_form(browser, "/dashboard/crm", f"{path}/sync")
    assert refused.status_code == 404
