"""The CRM provider suite, run against MiniCRM and the fake CRM server."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from aisle import CRMProvider, hookimpl
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.testing import CRMProviderSuite, FakeCRMServer

from .minicrm import MINICRM, sign_webhook

API_KEY = "minicrm-key-0123456789"


class _Plugin:
    @hookimpl
    def aisle_crm_providers(self) -> list[CRMProvider]:
        return [MINICRM]


class TestMiniCRM(CRMProviderSuite):
    unsupported = {"thin_webhooks": "MiniCRM's webhooks carry the whole record"}

    @pytest.fixture
    def provider(self) -> CRMProvider:
        return MINICRM

    @pytest.fixture
    def registry(self) -> Registry:
        return load_registry(extra_plugins=[("minicrm", _Plugin())], entry_points=False)

    @pytest.fixture
    def fake(self) -> Iterator[FakeCRMServer]:
        with FakeCRMServer(api_key=API_KEY, page_size=4) as server:
            yield server

    @pytest.fixture
    def credentials(self, fake: FakeCRMServer) -> Mapping[str, Any]:
        return {"api_key": API_KEY, "base_url": fake.url}

    @pytest.fixture
    def webhook_request(self, webhook_secret: str) -> tuple[Mapping[str, str], bytes]:
        body = json.dumps({"type": "contact.created", "data": {"id": "42"}}).encode()
        return sign_webhook(body, webhook_secret, msg_id="msg_1", timestamp=1767225600), body
