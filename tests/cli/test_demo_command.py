"""``aisle demo``: seeds the demo studio once, enrolls its couples, and resets cleanly."""

from __future__ import annotations

from aisle.demo import DEMO_JOURNEY_NAME, DEMO_SLUG
from aisle.storage.store import Store

from .processes import run_aisle


async def test_demo_seeds_once_and_reset_replaces_the_journey_and_couples(
    store: Store, store_env: dict[str, str]
) -> None:
    first = await run_aisle("demo", env=store_env)
    assert first.returncode == 0, first.stderr
    assert "3 couples enrolled" in first.stdout
    token = first.stdout.split("Owner token (shown once, keep it): ")[1].strip()
    owner = await store.system.authenticate(token)
    assert owner is not None and owner.role == "owner"

    org = await store.organizations.by_slug(DEMO_SLUG)
    assert org is not None
    scope = store.for_org(org)
    (journey,) = await scope.journeys.list()
    assert (journey.name, journey.status, journey.live_version) == (
        DEMO_JOURNEY_NAME,
        "live",
        1,
    )
    enrollments = await scope.enrollments.list(journey_id=journey.id)
    assert [e.state.status for e in enrollments] == ["active"] * 3
    assert {e.state.step_id for e in enrollments} == {"wait_for_reply"}
    assert len(await scope.action_runs.list()) == 3  # a brochure email each

    again = await run_aisle("demo", env=store_env)
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    assert "token" not in again.stdout.lower()

    reset = await run_aisle("demo", "--reset", env=store_env)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith("Reset ")
    (fresh,) = await scope.journeys.list()
    assert fresh.id != journey.id
    old = await scope.enrollments.list(journey_id=journey.id)
    assert [(e.state.status, e.state.outcome) for e in old] == [("exited", "manual")] * 3
    assert len(await scope.enrollments.list(journey_id=fresh.id, status="active")) == 3
    assert len(await scope.contacts.list()) == 3
    assert await store.system.authenticate(token) is not None  # tokens survive a reset
    (deleted,) = await scope.log.list(kind="journey.deleted")
    assert (deleted.journey_id, deleted.actor) == (journey.id, "aisle demo")
