"""The Studio Ninja provider passes Aisle's CRMProviderSuite: CSV files (no remote to
list or push to) and its Zaps' signed deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from aisle import CRMProvider
from aisle.testing import CRMProviderSuite
from aisle.testing.zapier import ZapSender
from aisle_crm_studioninja import STUDIONINJA

SECRET = "whsec_Y29uZm9ybWFuY2Utc2VjcmV0LTAxMjM0NTY3ODk="


class TestStudioNinja(CRMProviderSuite):
    unsupported: ClassVar[Mapping[str, str]] = {
        "thin_webhooks": "each Zap posts the trigger's fields; there is no API to fetch from",
    }

    @pytest.fixture
    def provider(self) -> CRMProvider:
        return STUDIONINJA

    @pytest.fixture
    def fake(self) -> None:
        return None

    @pytest.fixture
    def credentials(self) -> Mapping[str, Any]:
        return {"webhook_secret": SECRET, "signing": "standard_webhooks"}

    @pytest.fixture
    def webhook_secret(self) -> str:
        return SECRET

    @pytest.fixture
    def webhook_request(self) -> tuple[Mapping[str, str], bytes]:
        return ZapSender(SECRET, "standard_webhooks").delivery(
            "payment_received",
            {"id": "inv_81", "client_id": "cl_7", "email": "ana@example.com", "amount": "500"},
        )
