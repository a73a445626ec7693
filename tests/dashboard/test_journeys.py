"""The journeys pages over HTTP (as a browser without JavaScript posts them, plus the
htmx fragments): list and search, create, import and export, add and connect steps,
the side panel's lock, fenced save and inline check, publish, a viewer's read-only view."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from aisle.storage.store import OrgScope, Store

from .forms import BASE_URL, csrf_from, sign_in

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def served(app: Litestar) -> AsyncIterator[Litestar]:
    """The app with its lifespan running (collaboration: locks, presence, the stream)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    await started.wait()
    try:
        yield app
    finally:
        stop.set()
        await task


async def _client(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def _studio(store: Store) -> OrgScope:
    org = await store.organizations.create(slug="studio", name="Willow Studio")
    return store.for_org(org)


async def _person(scope: OrgScope, app: Litestar, email: str, role: str) -> httpx.AsyncClient:
    user = await scope.users.create(email=email, name=email.split("@")[0].title(), role=role)
    _, token = await scope.tokens.create(name=email, role=role, user_id=user.id)
    client = await _client(app)
    signed = await sign_in(client, token)
    assert signed.status_code == 303, signed.text
    return client


async def _post(
    client: httpx.AsyncClient, path: str, data: dict[str, str], **kw: object
) -> httpx.Response:
    form = await client.get("/dashboard/journeys")
    return await client.post(path, data={**data, "_csrf_token": csrf_from(form.text)}, **kw)  # type: ignore[arg-type]


async def _htmx(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    form = await client.get("/dashboard/journeys")
    return await client.post(
        path, data=data, headers={"X-CSRFToken": csrf_from(form.text), "HX-Request": "true"}
    )


async def _create(client: httpx.AsyncClient, name: str) -> str:
    made = await _post(client, "/dashboard/journeys", {"name": name, "description": ""})
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[1]


async def test_list_search_create_and_export_import(served: Litestar, store: Store) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    journey_id = await _create(owner, "Inquiry follow-up")
    await _create(owner, "Gallery delivery")
    listed = await owner.get("/dashboard/journeys", params={"q": "inquiry"})
    assert listed.status_code == 200
    assert "Inquiry follow-up" in listed.text and "Gallery delivery" not in listed.text
    assert 'aria-current="page">Journeys' in listed.text

    exported = await owner.get(f"/dashboard/journeys/{journey_id}/export")
    assert exported.status_code == 200
    assert 'filename="Inquiry-follow-up.aisle.json"' in exported.headers["content-disposition"]
    document = exported.json()
    assert document["format"] == "aisle.journey/v1"

    form = await owner.get("/dashboard/journeys")
    imported = await owner.post(
        "/dashboard/journeys/import",
        data={"_csrf_token": csrf_from(form.text)},
        files={"file": ("copy.json", json.dumps({**document, "name": "Imported copy"}))},
    )
    assert imported.status_code == 303, imported.text
    assert [j.name for j in await scope.journeys.list()].count("Imported copy") == 1

    bad = await owner.post(
        "/dashboard/journeys/import",
        data={"_csrf_token": csrf_from(form.text)},
        files={"file": ("x.json", "not json")},
    )
    assert bad.status_code == 422
    assert "x.json is not an exported journey" in bad.text


async def test_a_journey_is_built_locked_saved_and_published(
    served: Litestar, store: Store
) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    editor = await _person(scope, served, "ben@example.com", "editor")
    journey_id = await _create(owner, "Welcome")
    base = f"/dashboard/journeys/{journey_id}"

    added = await _post(owner, f"{base}/steps", {"type": "wait", "label": "Pause"})
    assert added.status_code == 303, added.text
    assert added.headers["location"].endswith("?step=pause#step-panel")
    await _post(owner, f"{base}/steps", {"type": "end", "label": "Done"})
    connected = await _post(
        owner,
        f"{base}/edges",
        {"source": "pause", "target": "done", "trigger": "time_delay", "config.days": "2"},
    )
    assert connected.status_code == 303, connected.text
    journey = await scope.journeys.get(journey_id)
    assert journey.draft.settings.start_step == "pause"
    (edge,) = journey.draft.edges
    assert (edge.source, edge.target, edge.trigger, edge.config["days"]) == (
        "pause",
        "done",
        "time_delay",
        2,
    )

    shown = await owner.get(base)
    assert shown.status_code == 200
    assert 'data-step-id="pause"' in shown.text and "<svg" in shown.text
    fields = await owner.get(f"{base}/trigger-fields", params={"trigger": "form_submission"})
    assert fields.status_code == 200 and 'name="config.filter"' in fields.text, fields.text

    panel = await owner.get(f"{base}/steps/pause/panel")
    assert f'hx-post="/dashboard/journeys/{journey_id}/steps/pause/lock"' in panel.text
    form = await _htmx(owner, f"{base}/steps/pause/lock", {})
    assert form.status_code == 200, form.text
    fence = re.search(r'name="fence" value="(\d+)"', form.text)
    revision = re.search(r'name="revision" value="(\d+)"', form.text)
    assert fence and revision

    refused = await _htmx(editor, f"{base}/steps/pause/lock", {})
    assert refused.status_code == 409
    assert "locked for editing by Ann" in refused.text
    # The editor's panel says so at once, without asking for the lock.
    theirs = await editor.get(f"{base}/steps/pause/panel")
    assert "locked for editing by Ann" in theirs.text and "/lock" not in theirs.text

    # Without the lock's token, the save is fenced off.
    stale = await _htmx(
        editor,
        f"{base}/steps/pause/save",
        {"label": "Sneaky", "fence": "0", "revision": revision.group(1)},
    )
    assert stale.status_code in (409, 423)
    saved = await _htmx(
        owner,
        f"{base}/steps/pause/save",
        {
            "label": "Short pause",
            "config.note": "two days",
            "fence": fence.group(1),
            "revision": revision.group(1),
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["hx-trigger"] == "journey-changed"
    step = (await scope.journeys.get(journey_id)).draft.step("pause")
    assert step is not None and (step.label, step.config["note"]) == ("Short pause", "two days")

    released = await _htmx(owner, f"{base}/steps/pause/release", {})
    assert released.status_code == 200
    taken = await _htmx(editor, f"{base}/steps/pause/lock", {})
    assert taken.status_code == 200

    published = await _post(owner, f"{base}/publish", {"note": "first"})
    assert published.status_code == 303, published.text
    assert (await scope.journeys.get(journey_id)).live_version == 1


async def test_the_check_names_a_bad_condition_and_previews_a_template(
    served: Litestar, store: Store
) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    journey_id = await _create(owner, "Mail")
    base = f"/dashboard/journeys/{journey_id}"
    await _post(owner, f"{base}/steps", {"type": "email", "label": "Hello"})
    checked = await _htmx(
        owner,
        f"{base}/steps/hello/check",
        {"label": "Hello", "config.subject": "Hi {{ partner1.first_name }}", "config.text": "Hi"},
    )
    assert checked.status_code == 200, checked.text
    assert "Preview: email" in checked.text, checked.text
    broken = await _htmx(
        owner,
        f"{base}/steps/hello/check",
        {"label": "Hello", "config.subject": "Hi {{ partner1.first_name ", "config.text": "Hi"},
    )
    assert "subject" in broken.text and 'class="issue issue-error"' in broken.text


async def test_a_viewer_sees_the_journey_but_no_control(served: Litestar, store: Store) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    viewer = await _person(scope, served, "vi@example.com", "viewer")
    journey_id = await _create(owner, "Look only")
    base = f"/dashboard/journeys/{journey_id}"
    await _post(owner, f"{base}/steps", {"type": "wait", "label": "Pause"})

    shown = await viewer.get(base)
    assert shown.status_code == 200
    assert "Add a step" not in shown.text and "Publish the draft" not in shown.text
    panel = await viewer.get(f"{base}/steps/pause/panel")
    assert "/lock" not in panel.text and "You can look but not change" in panel.text
    listed = await viewer.get("/dashboard/journeys")
    assert "New journey" not in listed.text

    # The services refuse what the page does not offer.
    assert (await _post(viewer, "/dashboard/journeys", {"name": "Nope"})).status_code == 403
    assert (await _post(viewer, f"{base}/steps", {"type": "end", "label": "X"})).status_code == 422
    assert (await _htmx(viewer, f"{base}/steps/pause/lock", {})).status_code == 403
    assert (await _post(viewer, f"{base}/publish", {})).status_code == 422
    assert len((await scope.journeys.get(journey_id)).draft.steps) == 1


async def test_another_studios_journey_is_not_found(served: Litestar, store: Store) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    other = await store.organizations.create(slug="other", name="Other")
    theirs = await store.for_org(other).journeys.create(name="Theirs", description="")
    for path in ("", "/graph", "/export", "/steps/x/panel"):
        response = await owner.get(f"/dashboard/journeys/{theirs.id}{path}")
        assert response.status_code == 404, path
        assert "Theirs" not in response.text


async def test_versions_diff_rollback_and_impact(served: Litestar, store: Store) -> None:
    from aisle.domain import Contact, EnrollmentState

    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    journey_id = await _create(owner, "Versions")
    base = f"/dashboard/journeys/{journey_id}"
    await _post(owner, f"{base}/steps", {"type": "wait", "label": "Pause"})
    await _post(owner, f"{base}/steps", {"type": "end", "label": "Done"})
    await _post(
        owner, f"{base}/edges", {"source": "pause", "target": "done", "trigger": "immediate"}
    )
    assert (await _post(owner, f"{base}/publish", {})).status_code == 303
    await _post(owner, f"{base}/steps", {"type": "end", "label": "Lost"})
    await _post(owner, f"{base}/edges", {"source": "pause", "target": "lost", "trigger": "manual"})
    assert (await _post(owner, f"{base}/publish", {})).status_code == 303

    diff = await owner.get(f"{base}/versions", params={"from": "1", "to": "2"})
    assert diff.status_code == 200
    assert 'data-step-id="lost"' in diff.text and "Roll back to version 1" in diff.text
    rolled = await _post(owner, f"{base}/rollback", {"version": "1"})
    assert rolled.status_code == 303, rolled.text
    journey = await scope.journeys.get(journey_id)
    assert journey.live_version == 3
    assert (await scope.journeys.version(journey_id, 3)).source_version == 1

    contact = await scope.contacts.create(Contact(email="c@example.com"))
    state = EnrollmentState(
        enrollment_id=scope.enrollments.new_id(), status="active", step_id="pause"
    )
    await scope.enrollments.create(
        contact_id=contact.id, journey_id=journey_id, version=3, state=state
    )
    shown = await owner.get(f"{base}/impact", params={"to": "2"})
    assert shown.status_code == 200
    assert "1 couple in the journey now" in shown.text
    assert "impact-changed" in shown.text


async def _two_steps(client: httpx.AsyncClient, name: str, trigger: dict[str, str]) -> str:
    journey_id = await _create(client, name)
    base = f"/dashboard/journeys/{journey_id}"
    await _post(client, f"{base}/steps", {"type": "wait", "label": "Pause"})
    await _post(client, f"{base}/steps", {"type": "end", "label": "Done"})
    connected = await _post(
        client, f"{base}/edges", {"source": "pause", "target": "done", **trigger}
    )
    assert connected.status_code == 303, connected.text
    return journey_id


async def test_the_simulation_form_draws_the_predicted_timeline(
    served: Litestar, store: Store
) -> None:
    scope = await _studio(store)
    viewer_scope = scope
    owner = await _person(scope, served, "ann@example.com", "owner")
    viewer = await _person(viewer_scope, served, "vi@example.com", "viewer")
    journey_id = await _two_steps(owner, "Simulated", {"trigger": "time_delay", "config.days": "2"})
    base = f"/dashboard/journeys/{journey_id}"
    assert f'href="{base}/simulate"' in (await owner.get(base)).text
    blank = await viewer.get(f"{base}/simulate")
    assert blank.status_code == 200 and "Predicted timeline" not in blank.text

    query = {
        "run": "1",
        "partner1": "Ann",
        "wedding_date": "2027-06-05",
        "start": "2027-01-04",
        "horizon_days": "30",
        "event1_type": "note.added",
        "event1_at": "2027-01-05T10:00",
    }
    shown = await viewer.get(f"{base}/simulate", params=query)
    assert shown.status_code == 200, shown.text
    assert "<svg" in shown.text and "Predicted timeline" in shown.text
    assert "<strong>completed</strong>" in shown.text
    # Entered at 9:00 studio time on the 4th, moved on two days later.
    assert re.search(r"<td>2027-01-04 09:00</td><td>entered</td><td>Pause</td>", shown.text)
    assert re.search(r"<td>2027-01-06 09:00</td><td>entered</td><td>Done</td>", shown.text)

    wrong = await viewer.get(
        f"{base}/simulate", params={"run": "1", "wedding_date": "June", "event1_type": "x"}
    )
    assert wrong.status_code == 422
    assert "wedding_date: a date" in wrong.text and "event1: give both" in wrong.text
    live = await viewer.get(f"{base}/simulate", params={"run": "1", "version": "live"})
    assert live.status_code == 422 and "no live version" in live.text


async def test_couples_are_migrated_from_the_impact_page(served: Litestar, store: Store) -> None:
    from aisle.domain import Contact

    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    editor = await _person(scope, served, "ben@example.com", "editor")
    journey_id = await _two_steps(owner, "Moving", {"trigger": "manual"})
    base = f"/dashboard/journeys/{journey_id}"
    assert (await _post(owner, f"{base}/publish", {})).status_code == 303
    contact = await scope.contacts.create(Contact(email="c@example.com"))
    form = await owner.get(f"/dashboard/couples/{contact.id}")
    enrolled = await owner.post(
        f"/dashboard/couples/{contact.id}/enroll",
        data={"journey": journey_id, "_csrf_token": csrf_from(form.text)},
    )
    assert enrolled.status_code == 303, enrolled.text
    # Version 2 drops the step the couple waits at.
    await _post(owner, f"{base}/steps", {"type": "wait", "label": "Hold"})
    assert (await _post(owner, f"{base}/publish", {})).status_code == 303
    journey = await scope.journeys.get(journey_id)
    assert journey.live_version == 2

    impact = await owner.get(f"{base}/impact", params={"to": "2"})
    assert "Migrate to version 2" in impact.text
    assert 'name="from_version"' in impact.text
    assert "Migrate to version 2" not in (await editor.get(f"{base}/impact?to=2")).text
    refused = await _post(editor, f"{base}/migrate", {"from_version": "1", "to_version": "2"})
    assert refused.status_code == 422 and "admin" in refused.text

    moved = await _post(owner, f"{base}/migrate", {"from_version": "1", "to_version": "2"})
    assert moved.status_code == 303, moved.text
    done = await owner.get(moved.headers["location"])
    assert "Moved 1 couple from version 1 to version 2." in done.text
    (enrollment,) = await scope.enrollments.list(journey_id=journey_id)
    assert enrollment.version == 2

    nothing = await owner.get(f"{base}/impact", params={"to": "draft"})
    assert "publish the draft" in nothing.text


async def test_ways_on_and_steps_are_edited_and_removed_under_the_lock(
    served: Litestar, store: Store
) -> None:
    scope = await _studio(store)
    owner = await _person(scope, served, "ann@example.com", "owner")
    editor = await _person(scope, served, "ben@example.com", "editor")
    journey_id = await _two_steps(owner, "Edges", {"trigger": "time_delay", "config.days": "2"})
    base = f"/dashboard/journeys/{journey_id}"
    await _post(owner, f"{base}/steps", {"type": "end", "label": "Other"})
    (edge,) = (await scope.journeys.get(journey_id)).draft.edges

    form = await _htmx(owner, f"{base}/steps/pause/lock", {})
    assert f"{base}/steps/pause/edges/{edge.id}/save" in form.text
    fence = re.search(r'name="fence" value="(\d+)"', form.text)
    revision = re.search(r'name="revision" value="(\d+)"', form.text)
    assert fence and revision
    held = {"fence": fence.group(1), "revision": revision.group(1)}

    # Another editor, without the lock's token, is fenced off.
    stolen = await _htmx(
        editor, f"{base}/steps/pause/edges/{edge.id}/remove", {**held, "fence": "0"}
    )
    assert stolen.status_code == 422
    saved = await _htmx(
        owner,
        f"{base}/steps/pause/edges/{edge.id}/save",
        {**held, "target": "other", "label": "later", "config.days": "5"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["hx-trigger"] == "journey-changed" and "Way on saved." in saved.text
    (changed,) = (await scope.journeys.get(journey_id)).draft.edges
    assert (changed.target, changed.label, changed.config["days"]) == ("other", "later", 5)
    bad = await _htmx(
        owner, f"{base}/steps/pause/edges/{edge.id}/save", {**held, "target": "nowhere"}
    )
    assert bad.status_code == 422 and "target: choose a step" in bad.text

    revision = re.search(r'name="revision" value="(\d+)"', saved.text)
    assert revision
    held["revision"] = revision.group(1)
    removed = await _htmx(owner, f"{base}/steps/pause/edges/{edge.id}/remove", held)
    assert removed.status_code == 200, removed.text
    assert not (await scope.journeys.get(journey_id)).draft.edges

    revision = re.search(r'name="revision" value="(\d+)"', removed.text)
    assert revision
    held["revision"] = revision.group(1)
    gone = await _htmx(owner, f"{base}/steps/pause/remove", held)
    assert gone.status_code == 200, gone.text
    assert gone.headers["hx-redirect"].startswith(f"{base}?notice=Removed+Pause")
    draft = (await scope.journeys.get(journey_id)).draft
    assert [s.id for s in draft.steps] == ["done", "other"]
