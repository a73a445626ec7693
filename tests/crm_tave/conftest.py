"""Fixtures for the Tave provider's tests: its fake Workspace API and a connected client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from aisle import http_client
from aisle_crm_tave.client import TaveClient
from aisle_crm_tave.credentials import Credentials
from aisle_crm_tave.fake import FakeTave

API_KEY = "tave-key-0123456789abcdef"


@pytest.fixture
def tave() -> Iterator[FakeTave]:
    with FakeTave(api_key=API_KEY) as server:
        yield server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(allow=["127.0.0.1/32"], timeout=10.0) as client:
        yield client


@pytest.fixture
def client(tave: FakeTave, http: httpx.AsyncClient) -> TaveClient:
    return TaveClient(Credentials(api_key=API_KEY, base_url=tave.url), http)
