"""Dashboard fixtures: the whole app (API + dashboard plugin) on the shared ``store``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store

from .forms import BASE_URL


@pytest.fixture
def app(store: Store, registry: Registry, settings: Settings) -> Litestar:
    return create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client, like a browser, calling the app in this event loop."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        yield client
