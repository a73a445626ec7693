"""The webhooks.delivered bench runs (quickly) and prints its row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_a_quick_webhook_delivery_run(postgres_url: str, redis_url: str) -> None:
    # The fixtures only make the test skip (or fail under CI) without the services.
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "webhooks.delivered"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    row = result.stdout.strip().splitlines()[1]
    assert row.startswith("webhooks.delivered")
    assert " webhook/s " in row
    assert "200 requests received" in row
