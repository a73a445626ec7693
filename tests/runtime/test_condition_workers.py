"""Condition workers: a looping condition runs in another process and is stopped at its budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aisle.bounded import BoundedConfig, BoundedPool
from aisle.runtime.condition_workers import (
    ConditionBudgetExceeded,
    ConditionFailed,
    ConditionWorkers,
)

TAGS = {"contact": {"tags": ["new", "vip"]}}
COSTLY = "event.payload.items.exists(a, event.payload.items.exists(b, a + b < 0))"


@pytest.fixture
def pool() -> Iterator[BoundedPool]:
    pool = BoundedPool(
        BoundedConfig.conditions({"AISLE_CEL_TIME_BUDGET_MS": "300", "AISLE_CEL_WORKERS": "1"})
    )
    yield pool
    pool.close()


@pytest.fixture
def workers(pool: BoundedPool) -> Iterator[ConditionWorkers]:
    workers = ConditionWorkers(pool)
    yield workers
    workers.close()


def test_answers_errors_and_the_budget(workers: ConditionWorkers):
    tags = {"contact": {"tags": ["new", "vip"]}}
    assert workers.evaluate("org-a", "contact.tags.exists(t, t == 'vip')", tags) is True
    with pytest.raises(ConditionFailed, match="not a bool"):
        workers.evaluate("org-a", "contact.tags.map(t, t)", tags)
    with pytest.raises(ConditionFailed, match="KeyError"):
        workers.evaluate("org-a", "contact.missing.exists(t, t)", tags)
    with pytest.raises(ConditionBudgetExceeded, match=r"0\.3 s budget"):
        workers.evaluate("org-a", COSTLY, {"event": {"payload": {"items": list(range(3000))}}})
    # The overrunning worker was killed; the next condition gets a fresh one.
    assert workers.evaluate("org-b", "contact.tags.all(t, t != '')", tags) is True


def test_a_condition_worker_imports_only_the_cel_library(
    workers: ConditionWorkers, pool: BoundedPool
):
    # Neither Aisle (SQLite, asyncpg) nor Jinja (markupsafe): a condition worker starts in
    # a third of a template worker's time and memory. Their compiled libraries would be
    # mapped into the process had it imported them.
    assert workers.evaluate("org-a", "contact.tags.exists(t, t == 'vip')", TAGS) is True
    with pool._lock:
        pids = [worker.process.pid for worker in pool._workers]
    maps = [Path(f"/proc/{pid}/maps").read_text() for pid in pids]
    assert any("cel" in m and "msgspec" in m for m in maps)
    for library in ("_sqlite3", "asyncpg", "markupsafe"):
        assert not any(library in m for m in maps), f"a condition worker loaded {library}"


def test_settings():
    config = BoundedConfig.conditions({"AISLE_CEL_TIME_BUDGET_MS": "100", "AISLE_CEL_WORKERS": "3"})
    assert (config.timeout_seconds, config.workers, config.max_memory_mb) == (0.1, 3, 512)
    assert config.per_organization == 1
    assert config.timeout_setting == "AISLE_CEL_TIME_BUDGET_MS"
    with pytest.raises(ValueError, match="AISLE_CEL_WORKERS"):
        BoundedConfig.conditions({"AISLE_CEL_WORKERS": "none"})
