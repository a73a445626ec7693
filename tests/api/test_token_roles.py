"""A token never acts above its user's current role, and dies with its user.

Promote a user, let them mint tokens, demote or remove them: what they minted follows
them down. Each case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx

from aisle.storage.store import Store
from aisle.storage.tables import UserTable
from tests.api.conftest import Org
from tests.api.test_problems import is_problem


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _admin_with_token(client: httpx.AsyncClient, org: Org) -> tuple[str, str]:
    """A user added as a viewer, promoted to admin, and an admin token of theirs."""
    added = await client.post(
        "/api/v1/users",
        json={"email": "rising@alpha.example", "role": "viewer"},
        headers=org.auth(),
    )
    assert added.status_code == 201, added.text
    user_id = added.json()["id"]
    promoted = await client.patch(
        f"/api/v1/users/{user_id}", json={"role": "admin"}, headers=org.auth()
    )
    assert promoted.status_code == 200, promoted.text
    made = await client.post(
        "/api/v1/tokens",
        json={"name": "rising", "role": "admin", "user_id": user_id},
        headers=org.auth(),
    )
    assert made.status_code == 201, made.text
    return user_id, made.json()["token"]


async def _mint(client: httpx.AsyncClient, token: str, role: str = "admin") -> httpx.Response:
    return await client.post(
        "/api/v1/tokens", json={"name": "minted", "role": role}, headers=bearer(token)
    )


async def _me(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_demoted_user_cannot_mint_admin_tokens_with_tokens_made_while_admin(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    user_id, token = await _admin_with_token(client, org_a)
    minted = await _mint(client, token)
    assert minted.status_code == 201, minted.text
    # What a user's token mints belongs to that user, so it cannot outlive their role.
    assert minted.json()["user_id"] == user_id
    minted_token = minted.json()["token"]

    demoted = await client.patch(
        f"/api/v1/users/{user_id}", json={"role": "viewer"}, headers=org_a.auth()
    )
    assert demoted.status_code == 200

    for held in (token, minted_token):
        assert (await _me(client, held))["role"] == "viewer"
        refused = await _mint(client, held)
        body = is_problem(refused, 403)
        assert "'viewer'" in body["detail"]
        assert (await _mint(client, held, "viewer")).status_code == 403  # not an admin now
        grant = await client.patch(
            f"/api/v1/users/{org_a.users['editor']}", json={"role": "admin"}, headers=bearer(held)
        )
        assert grant.status_code == 403
        assert (await client.get("/api/v1/tokens", headers=bearer(held))).status_code == 403

    # Promoted again, the tokens act with their own role again: the cap is the user's
    # role now, not a one-way downgrade of the token.
    await client.patch(f"/api/v1/users/{user_id}", json={"role": "admin"}, headers=org_a.auth())
    assert (await _me(client, token))["role"] == "admin"


async def test_a_removed_users_tokens_and_what_they_minted_get_401(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    user_id, token = await _admin_with_token(client, org_a)
    minted = await _mint(client, token, "editor")
    assert minted.status_code == 201
    removed = await client.delete(f"/api/v1/users/{user_id}", headers=org_a.auth())
    assert removed.status_code == 204
    for held in (token, minted.json()["token"]):
        response = await client.get("/api/v1/me", headers=bearer(held))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    listed = await client.get("/api/v1/tokens", headers=org_a.auth())
    assert all(t["user_id"] != user_id for t in listed.json()["items"])  # all revoked


async def test_a_disabled_users_token_gets_401_even_where_nothing_revoked_it(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    # Disabled by a path that did not revoke the tokens (an older release, a manual
    # fix in the database): authentication itself looks at the user.
    token = org_a.tokens["admin"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    await UserTable.update({UserTable.disabled_at: store.clock.now()}).where(
        UserTable.id == org_a.users["admin"]
    )
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_a_users_token_cannot_be_given_a_role_above_the_user(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    response = await client.post(
        "/api/v1/tokens",
        json={"name": "x", "role": "admin", "user_id": org_a.users["viewer"]},
        headers=org_a.auth(),
    )
    body = is_problem(response, 422)
    assert body["errors"][0]["field"] == "role"
    assert "'viewer'" in body["detail"]
    same = await client.post(
        "/api/v1/tokens",
        json={"name": "x", "role": "viewer", "user_id": org_a.users["viewer"]},
        headers=org_a.auth(),
    )
    assert same.status_code == 201


async def test_an_organization_token_mints_organization_tokens(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    # A token of no user (``aisle token create``, the first-run owner token) makes
    # tokens of no user, as before; they are capped by nobody's role but their own.
    _, plaintext = await store.for_org(org_a.id).tokens.create(name="ops", role="owner")
    made = await _mint(client, plaintext)
    assert made.status_code == 201
    assert made.json()["user_id"] is None
    assert (await _me(client, made.json()["token"]))["role"] == "admin"
