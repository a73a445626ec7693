"""The HoneyBook bridge passes Aisle's CRMProviderSuite against its fake Zapier."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from aisle import CRMProvider
from aisle.testing import CRMProviderSuite
from aisle_crm_honeybook import HONEYBOOK
from aisle_crm_honeybook.fake import FakeHoneyBookZapier, honeybook_zaps

SECRET = "whsec_Y29uZm9ybWFuY2Utc2VjcmV0LTAxMjM0NTY3ODk="


class TestHoneyBook(CRMProviderSuite):
    unsupported: ClassVar[Mapping[str, str]] = {
        "thin_webhooks": "each Zap posts the trigger's fields; there is no API to fetch from",
    }

    @pytest.fixture
    def provider(self) -> CRMProvider:
        return HONEYBOOK

    @pytest.fixture
    def fake(self) -> Iterator[FakeHoneyBookZapier]:
        with FakeHoneyBookZapier(SECRET) as server:
            yield server

    @pytest.fixture
    def credentials(self, fake: FakeHoneyBookZapier) -> Mapping[str, Any]:
        return {"webhook_secret": SECRET, "signing": "standard_webhooks", **fake.hook_urls()}

    @pytest.fixture
    def wrong_credentials(self, credentials: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**credentials, "webhook_secret": "whsec_YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlcg=="}

    @pytest.fixture
    def webhook_secret(self) -> str:
        return SECRET

    @pytest.fixture
    def webhook_request(self) -> tuple[Mapping[str, str], bytes]:
        return honeybook_zaps(SECRET).delivery(
            "payment_paid",
            {"id": "pay_81", "client_id": "cl_7", "email": "ana@example.com", "amount": "500"},
        )
