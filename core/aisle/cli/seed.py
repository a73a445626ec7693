"""Seeding the demo studio: organization, published journey, couples, an owner token and
an owner who signs in to the dashboard with a generated password.

Shared by ``aisle serve`` (first run) and ``aisle demo``. The couples enter the journey
the way real ones do: an ``enquiry`` form submission through the runtime, so the
dashboard shows them enrolled and their first actions are queued.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from aisle.canvas.admission import GraphLimits
from aisle.canvas.offline import OfflineCollab
from aisle.canvas.reactflow import graph_to_flow
from aisle.canvas.service import CanvasService
from aisle.demo import (
    DEMO_JOURNEY_DESCRIPTION,
    DEMO_JOURNEY_NAME,
    DEMO_ORG_NAME,
    DEMO_ORG_SETTINGS,
    DEMO_ORG_TIMEZONE,
    DEMO_SLUG,
    demo_contacts,
    demo_journey,
)
from aisle.domain.organization import Organization
from aisle.runtime import Runtime
from aisle.services.access import Access
from aisle.services.errors import Refused
from aisle.services.lifecycle import Lifecycle
from aisle.services.passwords import Passwords
from aisle.services.roles import Operator
from aisle.storage.store import OrgScope

__all__ = ["DemoSeed", "ensure_demo", "reset_demo"]

log = logging.getLogger(__name__)

ACTOR = "aisle demo"
OPERATOR = Operator(actor=ACTOR)
DEMO_OWNER_EMAIL = "owner@demo.example"


@dataclass(frozen=True)
class DemoSeed:
    """What seeding did. ``owner_token`` and ``owner_password`` are plain text, only when
    created just now."""

    organization: Organization
    created: bool
    journey_id: str | None = None
    contacts: int = 0
    owner_token: str | None = None
    owner_email: str = DEMO_OWNER_EMAIL
    owner_password: str | None = None


async def ensure_demo(runtime: Runtime) -> DemoSeed:
    """Create the demo studio unless it exists; a new one gets an owner token."""
    store = runtime.store
    existing = await store.organizations.by_slug(DEMO_SLUG)
    if existing is not None:
        return DemoSeed(organization=existing, created=False)
    org = await store.organizations.create(
        slug=DEMO_SLUG,
        name=DEMO_ORG_NAME,
        timezone=DEMO_ORG_TIMEZONE,
        settings=dict(DEMO_ORG_SETTINGS),
    )
    access = Access(store, store.for_org(org), OPERATOR)
    _, token = await access.create_token(name="owner (created by aisle serve)", role="owner")
    owner = await access.create_user(email=DEMO_OWNER_EMAIL, role="owner", name="Demo owner")
    password = secrets.token_urlsafe(12)
    await Passwords(store, store.for_org(org), OPERATOR).set_password(owner.id, password)
    journey_id, contacts = await _seed_journey_and_couples(runtime, org)
    return DemoSeed(
        organization=org,
        created=True,
        journey_id=journey_id,
        contacts=contacts,
        owner_token=token,
        owner_password=password,
    )


async def reset_demo(runtime: Runtime) -> DemoSeed:
    """Replace the demo journey and couples with fresh ones (the studio and tokens stay).

    Nothing is destroyed: active enrollments are exited and the old journey and couples
    are soft-deleted, all of it in the automation log.
    """
    seed = await ensure_demo(runtime)
    if seed.created:
        return seed
    org = seed.organization
    scope = runtime.store.for_org(org)
    for journey in await scope.journeys.list():
        if journey.name != DEMO_JOURNEY_NAME:
            continue
        for enrollment_id in await _active_enrollments(scope, journey.id):
            await runtime.exit_enrollment(
                org.id, enrollment_id, actor=ACTOR, reason="demo data reset"
            )
        await _canvas(runtime, org).delete_journey(journey.id, reason="demo data reset")
    demo_emails = {c.email for c in demo_contacts(runtime.clock.now().date())}
    for contact in await scope.contacts.list(limit=1000):
        if contact.email in demo_emails:
            await runtime.delete_contact(org.id, contact.id, actor=ACTOR)
    journey_id, contacts = await _seed_journey_and_couples(runtime, org)
    return DemoSeed(organization=org, created=False, journey_id=journey_id, contacts=contacts)


async def _active_enrollments(scope: OrgScope, journey_id: str) -> list[str]:
    found: list[str] = []
    after: str | None = None
    while True:
        page = await scope.enrollments.list(
            journey_id=journey_id, status="active", limit=500, after=after
        )
        found += [e.id for e in page]
        if len(page) < 500:
            return found
        after = page[-1].id


def _canvas(runtime: Runtime, org: Organization) -> CanvasService:
    store = runtime.store
    return CanvasService(
        store,
        store.for_org(org),
        OPERATOR,
        registry=runtime.registry,
        limits=GraphLimits(),
        collab=OfflineCollab(store, org.id, OPERATOR.actor),
    )


async def _seed_journey_and_couples(runtime: Runtime, org: Organization) -> tuple[str, int]:
    """The demo journey, created and published as the API would (a plugin that replaced
    a built-in type the demo relies on makes this a refusal naming the step)."""
    graph = demo_journey()
    journey = await _canvas(runtime, org).create_journey(
        DEMO_JOURNEY_NAME, DEMO_JOURNEY_DESCRIPTION, graph.settings, graph_to_flow(graph)
    )
    lifecycle = Lifecycle(runtime, runtime.store.for_org(org), OPERATOR)
    try:
        await lifecycle.publish(journey.id, "demo journey")
    except Refused as exc:
        # Refused as the API would refuse it (no SMTP host outside embedded mode): the
        # draft stays for the studio to publish once it is set up, with no couples in it.
        log.warning("the demo journey is left as a draft: %s", exc.detail)
        return journey.id, 0
    couples = demo_contacts(runtime.clock.now().date())
    for couple in couples:
        contact = await runtime.create_contact(org.id, couple, actor=ACTOR, source="demo")
        await runtime.ingest_event(
            runtime.for_org(org.id),
            type="form.submitted",
            idempotency_key=f"demo:enquiry:{journey.id}:{contact.id}",
            contact_id=contact.id,
            payload={"form_id": "enquiry", "message": "We would love to hear about packages!"},
            source="demo",
        )
    return journey.id, len(couples)
