"""The access service as the CLI and the demo seed use it (no HTTP): who may create and
revoke tokens, add and change users and collaborators, and what the log says."""

from __future__ import annotations

import pytest

from aisle.demo import demo_journey
from aisle.domain.organization import Organization
from aisle.services.access import Access
from aisle.services.errors import Refused
from aisle.services.roles import Operator
from aisle.storage.store import Store

CLI = Operator(actor="operator:cli")


async def _studio(store: Store) -> Organization:
    return await store.organizations.create(slug="studio", name="Studio")


async def _kinds(store: Store, org: Organization) -> list[tuple[str, str | None]]:
    entries = await store.for_org(org).log.list(limit=100)
    return sorted((e.kind, e.actor) for e in entries)


async def test_an_operator_creates_and_revokes_a_token_and_both_are_logged(store: Store) -> None:
    org = await _studio(store)
    access = Access(store, store.for_org(org), CLI)
    token, plaintext = await access.create_token(name="cli", role="editor", expires_in_days=2)
    assert token.user_id is None and token.expires_at is not None
    assert (token.expires_at - store.clock.now()).days == 2
    assert (await store.system.authenticate(plaintext)) is not None

    revoked = await access.revoke_token(token.id)
    assert revoked.revoked_at is not None
    assert await store.system.authenticate(plaintext) is None
    assert await _kinds(store, org) == [
        ("token.created", "operator:cli"),
        ("token.revoked", "operator:cli"),
    ]


async def test_a_token_never_acts_above_its_user(store: Store) -> None:
    org = await _studio(store)
    scope = store.for_org(org)
    editor = await scope.users.create(email="e@studio.test", role="editor")
    access = Access(store, scope, CLI)
    with pytest.raises(Refused) as refused:
        await access.create_token(name="x", role="admin", user_id=editor.id)
    assert refused.value.status == 422
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("role", "the user is 'editor'")
    ]
    await access.disable_user(editor.id)
    with pytest.raises(Refused, match="the user is disabled"):
        await access.create_token(name="x", role="viewer", user_id=editor.id)
    assert await scope.tokens.list() == []


async def test_an_actors_own_user_owns_the_tokens_it_makes(store: Store) -> None:
    org = await _studio(store)
    scope = store.for_org(org)
    admin = await scope.users.create(email="a@studio.test", role="admin")
    as_admin = Access(
        store, scope, Operator(actor=f"user:{admin.id}", role="admin", user_id=admin.id)
    )
    token, _ = await as_admin.create_token(name="mine", role="editor")
    assert token.user_id == admin.id
    with pytest.raises(Refused) as refused:
        await as_admin.create_token(name="too high", role="owner")
    assert (refused.value.status, refused.value.extra) == (403, {"required_role": "owner"})
    with pytest.raises(Refused, match="you cannot disable yourself") as itself:
        await as_admin.disable_user(admin.id)
    assert itself.value.status == 409


async def test_a_viewer_revokes_only_the_token_it_calls_with(store: Store) -> None:
    org = await _studio(store)
    scope = store.for_org(org)
    own, _ = await scope.tokens.create(name="own", role="viewer")
    other, _ = await scope.tokens.create(name="other", role="viewer")
    viewer = Operator(actor=f"token:{own.id}", role="viewer")
    access = Access(store, scope, viewer, token_id=own.id)
    with pytest.raises(Refused, match="revoking another token needs the 'admin' role"):
        await access.revoke_token(other.id)
    assert (await access.revoke_token(own.id)).revoked_at is not None
    assert (await scope.tokens.get(other.id)).revoked_at is None


async def test_users_and_collaborators_change_with_the_role_checked_and_logged(
    store: Store,
) -> None:
    org = await _studio(store)
    scope = store.for_org(org)
    journey = await scope.journeys.create(name="J", description="", draft=demo_journey())
    access = Access(store, scope, CLI)
    user = await access.create_user(email="p@studio.test", role="viewer", name="Pia")
    assert (await access.set_role(user.id, "editor")).role == "editor"
    collaborator = await access.set_collaborator(journey.id, user.id, "admin")
    assert (collaborator.journey_id, collaborator.role) == (journey.id, "admin")

    # Pia, an editor, is admin on this journey only: she may manage its collaborators
    # up to her own organization role, and no other journey's.
    pia = Access(store, scope, Operator(actor=f"user:{user.id}", role="editor", user_id=user.id))
    with pytest.raises(Refused, match="cannot grant the 'admin' role"):
        await pia.set_collaborator(journey.id, user.id, "admin")
    other = await scope.journeys.create(name="K", description="", draft=demo_journey())
    with pytest.raises(Refused, match="managing collaborators needs the 'admin' role"):
        await pia.remove_collaborator(other.id, user.id)
    await pia.remove_collaborator(journey.id, user.id)
    assert await access.collaborators.list(journey.id) == []
    assert [k for k, _ in await _kinds(store, org)] == [
        "journey.collaborator_removed",
        "journey.collaborator_set",
        "user.created",
        "user.role_changed",
    ]
