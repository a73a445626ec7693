"""Issue 11 item 3 from the command line: ``aisle org create|list``, ``aisle token
list|revoke`` and ``aisle operator token``, against the test's database."""

from __future__ import annotations

import json
import re

from aisle.storage.store import Store

from .processes import run_aisle

TOKEN = re.compile(r"^aisle_[A-Za-z0-9_-]{40,}$")
OPERATOR_TOKEN = re.compile(r"^aisle_op_[A-Za-z0-9_-]{40,}$")


async def test_org_create_prints_an_owner_token_that_authenticates(
    store: Store, store_env: dict[str, str]
) -> None:
    ran = await run_aisle(
        "org",
        "create",
        "bravo",
        "--name",
        "Bravo Films",
        "--timezone",
        "Europe/Paris",
        env=store_env,
    )
    assert ran.returncode == 0, ran.stderr
    token = ran.stdout.removesuffix("\n")
    assert TOKEN.match(token), ran.stdout
    assert "bravo" in ran.stderr and token not in ran.stderr
    org = await store.organizations.by_slug("bravo")
    assert org is not None and (org.name, org.timezone) == ("Bravo Films", "Europe/Paris")
    found = await store.system.authenticate(token)
    found_token = getattr(found, "token", found)
    assert found_token is not None
    assert (found_token.organization_id, found_token.role) == (org.id, "owner")
    (entry,) = await store.for_org(org).log.list(kind="organization.created", after="")
    assert token not in entry.message


async def test_org_create_json_and_org_list(store: Store, store_env: dict[str, str]) -> None:
    ran = await run_aisle("org", "create", "charlie", "--name", "Charlie", "--json", env=store_env)
    assert ran.returncode == 0, ran.stderr
    made = json.loads(ran.stdout)
    assert made["organization"]["slug"] == "charlie"
    assert TOKEN.match(made["owner_token"]["token"])
    listed = await run_aisle("org", "list", "--json", env=store_env)
    assert [o["slug"] for o in json.loads(listed.stdout)] == ["charlie"]
    assert made["owner_token"]["token"] not in listed.stdout
    text = await run_aisle("org", "list", env=store_env)
    assert text.stdout.startswith("charlie\tCharlie\tUTC\t")


async def test_org_create_refuses_a_bad_slug_a_bad_timezone_and_a_taken_slug(
    store: Store, store_env: dict[str, str]
) -> None:
    await store.organizations.create(slug="taken", name="Taken")
    for args, says in (
        (("Bad Slug", "--name", "x"), "lowercase letters"),
        (("fine", "--name", "x", "--timezone", "Mars/Base"), "not an IANA timezone"),
        (("taken", "--name", "x"), "organization slug 'taken' is taken"),
    ):
        ran = await run_aisle("org", "create", *args, env=store_env)
        assert ran.returncode == 2, (args, ran.stderr)
        assert ran.stdout == ""
        assert says in ran.stderr
    assert [o.slug for o in await store.organizations.list()] == ["taken"]


async def test_token_list_shows_no_secret_and_token_revoke_stops_a_token(
    store: Store, store_env: dict[str, str]
) -> None:
    org = await store.organizations.create(slug="studio", name="Studio")
    made, plaintext = await store.for_org(org).tokens.create(name="zapier", role="editor")
    listed = await run_aisle("token", "list", "--org", "studio", "--json", env=store_env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["name"], row["role"]) == (made.id, "zapier", "editor")
    assert {"created_at", "last_used_at"} <= row.keys()
    assert plaintext not in listed.stdout and "hash" not in listed.stdout
    revoked = await run_aisle("token", "revoke", made.id, env=store_env)
    assert revoked.returncode == 0, revoked.stderr
    assert await store.system.authenticate(plaintext) is None
    after = await run_aisle("token", "list", "--org", "studio", env=store_env)
    assert made.id not in after.stdout
    everything = await run_aisle("token", "list", "--org", "studio", "--all", env=store_env)
    assert made.id in everything.stdout and "revoked" in everything.stdout
    unknown = await run_aisle("token", "revoke", "nope", env=store_env)
    assert unknown.returncode == 2 and "no API token 'nope'" in unknown.stderr


async def test_operator_tokens_are_created_listed_and_revoked(
    store: Store, store_env: dict[str, str]
) -> None:
    ran = await run_aisle("operator", "token", "create", "--name", "ops", env=store_env)
    assert ran.returncode == 0, ran.stderr
    token = ran.stdout.removesuffix("\n")
    assert OPERATOR_TOKEN.match(token)
    found = await store.operator_tokens.authenticate(token)
    assert found is not None and found.name == "ops"
    listed = await run_aisle("operator", "token", "list", "--json", env=store_env)
    (row,) = json.loads(listed.stdout)
    assert row["id"] == found.id and token not in listed.stdout
    revoked = await run_aisle("operator", "token", "revoke", found.id, env=store_env)
    assert revoked.returncode == 0, revoked.stderr
    assert await store.operator_tokens.authenticate(token) is None
