"""The webhooks.delivered bench runs (quickly) and prints its row."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_a_quick_webhook_delivery_run(
    postgres_url: str, redis_url: str, quick_bench: Callable[..., list[str]]
) -> None:
    # The fixtures only make the test skip (or fail under CI) without the services.
    [row] = quick_bench("webhooks.delivered")
    assert row.startswith("webhooks.delivered")
    assert " webhook/s " in row
    assert "200 requests received" in row
