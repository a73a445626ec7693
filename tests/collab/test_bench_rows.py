"""The collaboration bench rows run (quickly) and print their table rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench(*names: str) -> list[str]:
    args = [arg for name in names for arg in ("--only", name)]
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[1:]


def test_lock_operations_per_second_on_sqlite() -> None:
    [row] = _bench("collab.locks")
    assert row.startswith("collab.locks ") and " op/s " in row
    assert row.split()[7] == "400"  # 200 acquire/release cycles


@pytest.mark.redis
@pytest.mark.slow
def test_fan_out_latency_to_a_hundred_clients(redis_url: str) -> None:
    # ``redis_url`` only makes the test skip (or fail under CI) without Redis.
    [row] = _bench("collab.fanout")
    assert row.startswith("collab.fanout ") and " delivery/s " in row
    assert row.split()[7] == "2000"  # 20 messages x 100 clients
