"""The bench runner: it lists its benches, runs one quickly, and prints the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_list_names_the_first_rows() -> None:
    result = _bench("--list")
    assert result.returncode == 0, result.stderr
    assert "engine.transitions:" in result.stdout
    assert "events.end_to_end:" in result.stdout


def test_a_quick_engine_run_prints_a_table_row() -> None:
    result = _bench("--quick", "--only", "engine.transitions")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.strip().splitlines()
    assert header.split()[:5] == ["NAME", "MEDIAN", "P99", "RATE", "N"]
    assert row.startswith("engine.transitions")
    assert row.split()[-1] == "350"  # 50 rounds x 7 engine calls


def test_an_unknown_bench_is_a_usage_error() -> None:
    result = _bench("--only", "no.such.bench")
    assert result.returncode == 2
    assert "unknown bench no.such.bench" in result.stderr


@pytest.mark.postgres
def test_a_quick_end_to_end_events_run_on_postgres(postgres_url: str) -> None:
    # ``postgres_url`` only makes the test skip (or fail under CI) without PostgreSQL.
    result = _bench("--quick", "--only", "events.end_to_end")
    assert result.returncode == 0, result.stderr
    row = result.stdout.strip().splitlines()[1]
    assert row.startswith("events.end_to_end")
    assert " event/s " in row
    assert row.split()[7] == "100"
