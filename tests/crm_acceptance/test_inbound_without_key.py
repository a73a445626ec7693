"""A server missing its credential key still tells an unknown CRM inbound URL (404) from
a studio's connection it cannot read (503, which the sender retries, and logged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle_crm_honeybook.fake import honeybook_zaps
from tests.api.conftest import open_client
from tests.conftest import TEST_SECRET_KEY

SECRET = "whsec_bm8ta2V5LXNlcnZlci1icmlkZ2Utc2VjcmV0LTAx"


@pytest.fixture
async def keyless(store: Store, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=store.db.url)
    app = create_app(settings, load_registry(), store=store, config=ApiConfig(rate_limit=0))
    async for client in open_client(app):
        yield client


async def test_a_keyless_server_answers_503_for_a_connection_and_404_for_no_connection(
    store: Store, tmp_path: Path, keyless: httpx.AsyncClient
) -> None:
    keyed = Settings(
        data_dir=str(tmp_path / "data"), database_url=store.db.url, secret_key=TEST_SECRET_KEY
    )
    deps = CRMDeps.of(Runtime(store, load_registry(), keyed))
    org = await store.organizations.create(slug="hb", name="HB Studio")
    scope = deps.for_org(org.id)
    connection = await ConnectionService(deps, scope, Operator(actor="t", role="admin")).create(
        provider="honeybook", name="HoneyBook", credentials={"webhook_secret": SECRET}
    )
    headers, body = honeybook_zaps(SECRET).delivery("client_created", {"id": "c1"})

    unread = await keyless.post(
        f"/api/v1/inbound/crm/{connection.id}", content=body, headers=headers
    )
    unknown = await keyless.post(
        "/api/v1/inbound/crm/no-such-connection", content=body, headers=headers
    )

    assert unread.status_code == 503, unread.text
    assert unknown.status_code == 404, unknown.text
    [entry] = [e for e in await scope.log.list(limit=10) if e.kind == "crm.webhook_refused"]
    assert "no AISLE_SECRET_KEY configured" in entry.message
    assert SECRET not in entry.message + unread.text
    assert await scope.events.list() == []
