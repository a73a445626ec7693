"""``aisle token create``: prints only a token, and that token authenticates."""

from __future__ import annotations

import re

from aisle.storage.store import Store

from .processes import run_aisle

TOKEN = re.compile(r"^aisle_[A-Za-z0-9_-]{40,}$")


async def test_token_create_prints_only_a_token_that_authenticates(
    store: Store, store_env: dict[str, str]
) -> None:
    org = await store.organizations.create(slug="studio", name="Studio")
    ran = await run_aisle("token", "create", "--org", "studio", "--role", "editor", env=store_env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.endswith("\n")
    token = ran.stdout[:-1]
    assert TOKEN.match(token), ran.stdout
    found = await store.system.authenticate(token)
    assert found is not None
    assert (found.organization_id, found.role, found.name) == (org.id, "editor", "cli")


async def test_an_unknown_organization_is_a_clear_usage_error(
    store: Store, store_env: dict[str, str]
) -> None:
    await store.organizations.create(slug="real", name="Real")
    ran = await run_aisle("token", "create", "--org", "nope", "--role", "viewer", env=store_env)
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert "no organization with slug 'nope' (known: real)" in ran.stderr


async def test_an_unknown_role_is_refused_before_anything_is_written(
    store: Store, store_env: dict[str, str]
) -> None:
    org = await store.organizations.create(slug="roles", name="Roles")
    ran = await run_aisle("token", "create", "--org", "roles", "--role", "god", env=store_env)
    assert ran.returncode == 2
    assert "'god' is not one of 'viewer', 'editor', 'admin', 'owner'" in ran.stderr
    assert await store.for_org(org).tokens.list() == []
