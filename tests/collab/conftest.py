"""Fixtures for the collaboration tests: a studio, its people, and a journey to share."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.domain.journey import Edge, Graph, Step
from aisle.domain.journey_record import Journey
from aisle.domain.organization import Organization
from aisle.domain.user import User
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_loop

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


@pytest.fixture
async def base_url(store: Store, registry: Registry, tmp_path: Path) -> AsyncIterator[str]:
    """The API (rate limits off) on the test's store, served in this loop over a socket."""
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=store.db.url)
    app = create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))
    async with serve_in_loop(app) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``base_url`` with room for many concurrent requests."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        yield client
