"""The API's settings: ``AISLE_RATE_LIMIT=0`` (the README's "off") starts a server that
really does not limit, and every rate setting names itself when malformed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.api.ratelimit import MemoryRateLimiter, RateDecision
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import make_org, open_client
from tests.cli.processes import clean_env
from tests.cli.test_serve_command import serving


@pytest.mark.parametrize("off", ["0", "off", "OFF", "0/minute"])
def test_a_rate_limit_of_zero_is_off(off: str) -> None:
    assert ApiConfig.from_environ({"AISLE_RATE_LIMIT": off}).rate_limit == 0
    assert ApiConfig.from_environ({"AISLE_AUTH_FAILURE_LIMIT": off}).auth_failure_limit == 0


def test_the_failure_limit_reads_like_the_rate_limit() -> None:
    config = ApiConfig.from_environ({"AISLE_AUTH_FAILURE_LIMIT": "5/hour"})
    assert (config.auth_failure_limit, config.auth_failure_window_seconds) == (5, 3600)
    default = ApiConfig.from_environ({})
    assert (default.auth_failure_limit, default.auth_failure_window_seconds) == (20, 60)
    assert (default.rate_limit, default.rate_window_seconds) == (600, 60)


@pytest.mark.parametrize("name", ["AISLE_RATE_LIMIT", "AISLE_AUTH_FAILURE_LIMIT"])
@pytest.mark.parametrize("raw", ["lots", "5", "-1/minute", "5/fortnight", "off/minute"])
def test_a_malformed_rate_names_its_setting(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=name):
        ApiConfig.from_environ({name: raw})


class CountingLimiter(MemoryRateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        self.keys.append(key)
        return await super().hit(key, limit, window)


async def test_with_the_limit_off_no_request_is_counted(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    org = await make_org(store, "unlimited")
    limiter = CountingLimiter()
    # Built the way `aisle serve` builds it: the settings' environment, no config given.
    settings = Settings(data_dir=str(tmp_path), environ={"AISLE_RATE_LIMIT": "0"})
    app = create_app(settings, registry, store=store, limiter=limiter)
    async for client in open_client(app):
        for _ in range(50):
            response = await client.get("/api/v1/me", headers=org.auth("viewer"))
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers
    assert not [key for key in limiter.keys if key.startswith("token:")]


@pytest.mark.slow
async def test_aisle_serve_starts_and_serves_with_the_rate_limit_off(tmp_path: Path) -> None:
    env = clean_env(AISLE_RATE_LIMIT="0")
    async with serving(tmp_path / "data", "--port", "0", env=env) as served:
        token_line = served.line('Owner token for "demo"')
        assert token_line is not None, served.lines
        auth = {"Authorization": f"Bearer {token_line.rsplit(' ', 1)[1]}"}
        async with httpx.AsyncClient(base_url=served.url) as client:
            for _ in range(20):
                response = await client.get("/api/v1/journeys", headers=auth)
                assert response.status_code == 200, response.text
                assert not [h for h in response.headers if h.lower().startswith("ratelimit")]
