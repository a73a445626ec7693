"""Fixtures for the collaboration tests: a studio, its people, and a journey to share."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from aisle.domain.journey import Edge, Graph, Step
from aisle.domain.journey_record import Journey
from aisle.domain.organization import Organization
from aisle.domain.user import User
from aisle.storage.database import connect
from aisle.storage.migrate import run_migrations
from aisle.storage.store import Store

POSTGRES_ADMIN_URL = os.environ.get(
    "AISLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _run_on_own_loop(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    # Session fixtures may be set up from inside a running test loop: run on a thread
    # with a loop of its own.
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _admin(statement: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def postgres_url(xdist_worker: str) -> Iterator[str]:
    """This run's own migrated database, dropped at the end of the session.

    Overrides the shared fixture: the name carries the test run's process id, so two
    runs on one server (several people, or CI jobs, sharing PostgreSQL) never drop or
    truncate each other's tables.
    """
    parts = urlsplit(POSTGRES_ADMIN_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 1):
            pass
    except OSError:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: tests needing it must run)")
        pytest.skip(f"{message}; start it or set AISLE_TEST_POSTGRES_URL to run this test")
    run = os.getppid() if xdist_worker.startswith("gw") else os.getpid()
    name = f"aisle_test_collab_{run}_{xdist_worker}".replace("-", "_")
    url = urlunsplit(parts._replace(path=f"/{name}"))

    async def build() -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{name}"')
        db = await connect(url, pool=False)
        await run_migrations(db)
        await db.close()

    _run_on_own_loop(build)
    try:
        yield url
    finally:
        _run_on_own_loop(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
