"""The Studio Ninja provider passes Aisle's CRMProviderSuite (CSV files: no remote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from aisle import CRMProvider
from aisle.testing import CRMProviderSuite
from aisle_crm_studioninja import STUDIONINJA


class TestStudioNinja(CRMProviderSuite):
    @pytest.fixture
    def provider(self) -> CRMProvider:
        return STUDIONINJA

    @pytest.fixture
    def fake(self) -> None:
        return None

    @pytest.fixture
    def credentials(self) -> Mapping[str, Any]:
        return {}
