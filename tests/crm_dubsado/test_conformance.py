"""The Dubsado bridge passes Aisle's CRMProviderSuite against its fake Zapier."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from aisle import CRMProvider
from aisle.testing import CRMProviderSuite
from aisle_crm_dubsado import DUBSADO
from aisle_crm_dubsado.fake import FakeDubsadoZapier, dubsado_zaps

SECRET = "whsec_Y29uZm9ybWFuY2Utc2VjcmV0LTAxMjM0NTY3ODk="


class TestDubsado(CRMProviderSuite):
    unsupported: ClassVar[Mapping[str, str]] = {
        "thin_webhooks": "each Zap posts the trigger's fields; there is no API to fetch from",
    }

    @pytest.fixture
    def provider(self) -> CRMProvider:
        return DUBSADO

    @pytest.fixture
    def fake(self) -> Iterator[FakeDubsadoZapier]:
        with FakeDubsadoZapier(SECRET) as server:
            yield server

    @pytest.fixture
    def credentials(self, fake: FakeDubsadoZapier) -> Mapping[str, Any]:
        return {"webhook_secret": SECRET, "signing": "standard_webhooks", **fake.hook_urls()}

    @pytest.fixture
    def wrong_credentials(self, credentials: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**credentials, "webhook_secret": "whsec_YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlcg=="}

    @pytest.fixture
    def webhook_secret(self) -> str:
        return SECRET

    @pytest.fixture
    def webhook_request(self) -> tuple[Mapping[str, str], bytes]:
        return dubsado_zaps(SECRET).delivery(
            "payment_received",
            {"id": "pay_81", "client_id": "cl_7", "email": "ana@example.com", "amount": "500"},
        )
