"""The Tave provider passes Aisle's CRMProviderSuite against its fake Workspace API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import pytest

from aisle import CRMProvider
from aisle.testing import CRMProviderSuite
from aisle_crm_tave import TAVE
from aisle_crm_tave.fake import FakeTave

from .conftest import API_KEY


def delivery(event: str, target_id: str) -> tuple[Mapping[str, str], bytes]:
    body = json.dumps({"event": event, "targetId": target_id}).encode()
    return {"content-type": "application/json"}, body


class TestTave(CRMProviderSuite):
    unsupported: ClassVar[Mapping[str, str]] = {
        "webhook_signatures": (
            "Tave signs no REST hook and a subscription holds no secret or header (only "
            "event, url and limitTo); deliveries carry an id the engine fetches over the API"
        ),
    }

    @pytest.fixture
    def provider(self) -> CRMProvider:
        return TAVE

    @pytest.fixture
    def fake(self) -> Iterator[FakeTave]:
        with FakeTave(api_key=API_KEY, page_size=10) as server:
            yield server

    @pytest.fixture
    def credentials(self, fake: FakeTave) -> Mapping[str, Any]:
        return {"api_key": API_KEY, "base_url": fake.url}

    @pytest.fixture
    def make_remote_record(self) -> Callable[[int], dict[str, Any]]:
        def make(n: int) -> dict[str, Any]:
            return {
                "email": f"couple{n}@example.com",
                "firstName": f"Ada{n}",
                "lastName": f"Lovelace{n}",
                "cellPhone.e164": f"+1202555{n:04d}",
            }

        return make

    @pytest.fixture
    def webhook_request(self) -> tuple[Mapping[str, str], bytes]:
        return delivery("payment.created", "01j9v5r3k8m2q4w6y8a0c2e4g6")

    @pytest.fixture
    def thin_webhook_request(self) -> Callable[[str, str], tuple[Mapping[str, str], bytes]]:
        events = {"contacts": "contact.created", "jobs": "job.created"}
        return lambda kind, external_id: delivery(events[kind], external_id)
