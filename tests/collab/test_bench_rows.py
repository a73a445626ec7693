"""The collaboration bench rows run (quickly) and print their table rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def test_lock_operations_per_second_on_sqlite(quick_bench: Callable[..., list[str]]) -> None:
    [row] = quick_bench("collab.locks")
    assert row.startswith("collab.locks ") and " op/s " in row
    assert row.split()[7] == "400"  # 200 acquire/release cycles


@pytest.mark.redis
@pytest.mark.slow
def test_fan_out_latency_to_a_hundred_clients(
    redis_url: str, quick_bench: Callable[..., list[str]]
) -> None:
    # ``redis_url`` only makes the test skip (or fail under CI) without Redis.
    [row] = quick_bench("collab.fanout")
    assert row.startswith("collab.fanout ") and " delivery/s " in row
    assert row.split()[7] == "2000"  # 20 messages x 100 clients
