"""Fixtures for the collaboration tests: a studio, its people, and a journey to share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from aisle.domain.journey import Edge, Graph, Step
from aisle.domain.journey_record import Journey
from aisle.domain.organization import Organization
from aisle.domain.user import User
from aisle.storage.store import Store

NODE_IDS = ("start", "brochure", "wait", "decide", "deposit", "questionnaire", "end")


def sample_graph() -> Graph:
    """A small wedding journey: seven steps in a line, six edges between them."""
    steps = tuple(
        Step(id=node_id, type="end" if node_id == "end" else "wait") for node_id in NODE_IDS
    )
    edges = tuple(
        Edge(id=f"e-{a}-{b}", source=a, target=b) for a, b in itertools.pairwise(NODE_IDS)
    )
    return Graph(steps=steps, edges=edges)


@dataclass(frozen=True)
class Studio:
    org: Organization
    journey: Journey
    owner: User
    planner: User
    photographer: User
    viewer: User
    other_org: Organization
    other_journey: Journey
    tokens: dict[str, str]
    """Plain-text API tokens by user id (and ``other`` for the other studio's owner)."""

    def auth(self, user: User | str) -> dict[str, str]:
        key = user if isinstance(user, str) else user.id
        return {"Authorization": f"Bearer {self.tokens[key]}"}


async def token_for(store: Store, user: User) -> str:
    _, plaintext = await store.for_org(user.organization_id).tokens.create(
        name=f"{user.name} canvas", role=user.role, user_id=user.id
    )
    return plaintext


@pytest.fixture
async def studio(store: Store) -> Studio:
    org = await store.organizations.create(slug="rose-and-fern", name="Rose & Fern")
    scope = store.for_org(org)
    owner = await scope.users.create(email="owner@rose.test", role="owner", name="Olive Owner")
    planner = await scope.users.create(email="pia@rose.test", role="editor", name="Pia Planner")
    photographer = await scope.users.create(
        email="phil@rose.test", role="editor", name="Phil Photographer"
    )
    viewer = await scope.users.create(email="vic@rose.test", role="viewer", name="Vic Viewer")
    journey = await scope.journeys.create(name="Enquiry to booking", draft=sample_graph())
    other = await store.organizations.create(slug="other-studio", name="Other Studio")
    other_journey = await store.for_org(other).journeys.create(name="Theirs", draft=sample_graph())
    other_owner = await store.for_org(other).users.create(
        email="owner@other.test", role="owner", name="Other Owner"
    )
    tokens = {u.id: await token_for(store, u) for u in (owner, planner, photographer, viewer)}
    tokens["other"] = await token_for(store, other_owner)
    return Studio(org, journey, owner, planner, photographer, viewer, other, other_journey, tokens)
