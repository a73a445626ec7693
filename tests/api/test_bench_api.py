"""The API bench rows run (quickly) against PostgreSQL and print their table rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_api_bench_rows(postgres_url: str) -> None:
    # ``postgres_url`` only makes the test skip (or fail under CI) without PostgreSQL.
    names = ["api.flow_get", "api.flow_ops", "api.events", "api.events.batch"]
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *(a for n in names for a in ("--only", n))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.strip().splitlines()[1:]}
    assert set(rows) == set(names)
    assert " request/s " in rows["api.flow_get"] and "500 nodes" in rows["api.flow_get"]
    assert rows["api.flow_ops"].split()[7] == "20"
    assert rows["api.events"].split()[7] == "100"
    assert rows["api.events.batch"].split()[7] == "200"
