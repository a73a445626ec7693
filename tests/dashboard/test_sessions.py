"""Dashboard sessions live server-side: signing out, a role change or removing the user
ends them for every copy of the cookie; sign-in is throttled per address."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.domain.user import Role
from aisle.settings import Settings
from aisle.storage.sessions import SessionTable
from aisle.storage.store import OrgScope, Store

from .forms import BASE_URL, csrf_from, sign_in

pytestmark = pytest.mark.asyncio


async def _member(store: Store, slug: str, role: Role = "editor") -> tuple[OrgScope, str, str]:
    """An organization with a user of ``role`` and a token of theirs; (scope, user, token)."""
    org = await store.organizations.create(slug=slug, name=f"{slug.title()} Studio")
    scope = store.for_org(org)
    user = await scope.users.create(email=f"{role}@{slug}.example", role=role)
    _, token = await scope.tokens.create(name="dashboard", role=role, user_id=user.id)
    return scope, user.id, token


def _copy(browser: httpx.AsyncClient, app: Litestar) -> httpx.AsyncClient:
    """Another browser holding a copy of the first one's session cookie."""
    value = browser.cookies.get("aisle_session", path="/dashboard")
    assert value
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    other.cookies.set("aisle_session", value, path="/dashboard")
    return other


async def test_signing_out_ends_the_session_for_a_copied_cookie_too(
    store: Store, app: Litestar, browser: httpx.AsyncClient
) -> None:
    _, _, token = await _member(store, "copied")
    await sign_in(browser, token)
    async with _copy(browser, app) as thief:
        assert (await thief.get("/dashboard/")).status_code == 200
        page = await browser.get("/dashboard/")
        out = await browser.post("/dashboard/logout", data={"_csrf_token": csrf_from(page.text)})
        assert out.status_code == 303
        response = await thief.get("/dashboard/")
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"


async def test_the_cookie_is_a_random_secret_whose_hash_alone_is_stored(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, user_id, token = await _member(store, "stored")
    await sign_in(browser, token)
    value = browser.cookies.get("aisle_session", path="/dashboard")
    assert value and token not in value
    rows = await SessionTable.select().where(SessionTable.organization_id == scope.org_id)
    assert len(rows) == 1
    assert rows[0]["secret_hash"] == hashlib.sha256(value.encode()).hexdigest()
    assert rows[0]["user_id"] == user_id and rows[0]["token_id"] is not None
    assert rows[0]["revoked_at"] is None


async def test_a_role_change_ends_the_users_sessions(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, user_id, token = await _member(store, "demoted", "admin")
    await sign_in(browser, token)
    assert (await browser.get("/dashboard/")).status_code == 200
    await scope.users.set_role(user_id, "viewer")
    assert (await browser.get("/dashboard/")).status_code == 303
    # Signing in again works, with the role the user has now.
    await sign_in(browser, token)
    page = await browser.get("/dashboard/")
    assert page.status_code == 200
    assert "· viewer<" in page.text


async def test_removing_the_user_ends_their_sessions(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, user_id, token = await _member(store, "removed")
    await sign_in(browser, token)
    await scope.users.disable(user_id)
    assert (await browser.get("/dashboard/")).status_code == 303
    assert (await sign_in(browser, token)).status_code == 401


async def test_signing_in_again_ends_the_session_the_browser_brought(
    store: Store, app: Litestar, browser: httpx.AsyncClient
) -> None:
    _, _, token = await _member(store, "fixation")
    await sign_in(browser, token)
    async with _copy(browser, app) as planted:
        await sign_in(browser, token)
        assert (await planted.get("/dashboard/")).status_code == 303
        assert (await browser.get("/dashboard/")).status_code == 200


async def test_sign_in_is_throttled_per_address(
    store: Store, registry: Registry, settings: Settings
) -> None:
    _, _, token = await _member(store, "guessed")
    app = create_app(
        settings,
        registry,
        store=store,
        config=ApiConfig(rate_limit=0, auth_failure_limit=3, auth_failure_window_seconds=60),
    )

    def browser_at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    async with browser_at("203.0.113.7") as guesser, browser_at("198.51.100.2") as studio:
        for _ in range(3):
            assert (await sign_in(guesser, "aisle_wrong")).status_code == 401
        refused = await sign_in(guesser, token)  # even the right token, from there
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert 'role="alert"' in refused.text and "Try again in" in refused.text
        assert "aisle_session" not in refused.headers.get("set-cookie", "")
        # Bad bearer tokens from the same address count against the same budget.
        api = await guesser.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 429
        # Another address signs in as usual.
        assert (await sign_in(studio, token)).status_code == 303
