"""OAuth2 credentials refreshed before expiry: a provider with ``refresh_credentials``
gets new tokens from its token endpoint (a real socket) before a sync, and the engine
stores them encrypted in place of the old ones."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.runs import SyncRuns, execute_sync_run
from aisle.storage.store import OrgScope
from tests.crm.conftest import ADMIN
from tests.crm.oauthcrm import OAuthCRM, Tokens
from tests.crm.test_sync import couples


@pytest.fixture
def oauth() -> Any:
    with OAuthCRM() as server:
        yield server


async def test_tokens_near_expiry_are_refreshed_and_stored_before_a_sync(
    deps: CRMDeps, studio: OrgScope, oauth: OAuthCRM
) -> None:
    oauth.seed("contacts", couples(120))
    now = deps.store.clock.now()
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="oauthcrm",
        name="OAuth",
        credentials={
            "base_url": oauth.url,
            "access_token": "access-1",
            "refresh_token": "refresh-1",
            "expires_at": (now + timedelta(minutes=2)).isoformat(),  # inside the margin
        },
    )
    before = await studio.crm_connections.credentials(connection.id)

    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    done = await execute_sync_run(deps, studio.org_id, run.id, worker="w")
    assert done is not None and (done.status, done.counts["created"]) == ("succeeded", 120)
    assert oauth.issued == 2  # one refresh, before the first page
    pages = [r for r in oauth.requests if r.path == "/contacts"]
    assert {r.headers["authorization"] for r in pages} == {"Bearer access-2"}

    stored = await studio.crm_connections.credentials(connection.id)
    assert stored != before and "access-2" not in stored and "refresh-2" not in stored
    tokens = msgspec.convert(deps.cipher.decrypt(stored), Tokens)
    assert (tokens.access_token, tokens.refresh_token) == ("access-2", "refresh-2")

    # Fresh tokens are used as they are: no second refresh.
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    again = await execute_sync_run(deps, studio.org_id, run.id, worker="w")
    assert again is not None and again.status == "succeeded"
    assert oauth.issued == 2


async def test_a_refused_refresh_fails_the_run_without_a_secret_in_it(
    deps: CRMDeps, studio: OrgScope, oauth: OAuthCRM
) -> None:
    connection = await ConnectionService(deps, studio, ADMIN).create(
        provider="oauthcrm",
        name="OAuth",
        credentials={
            "base_url": oauth.url,
            "access_token": "access-1",
            "refresh_token": "revoked-refresh",
            "expires_at": deps.store.clock.now().isoformat(),  # expired
        },
    )
    run, _ = await SyncRuns(deps, studio, ADMIN).request(connection.id)
    done = await execute_sync_run(deps, studio.org_id, run.id, worker="w")
    assert done is not None and done.status == "failed"
    (error,) = done.errors
    assert "could not refresh its OAuth2 tokens (HTTPStatusError)" in error["reason"]
    assert "revoked-refresh" not in json.dumps(done.errors)
