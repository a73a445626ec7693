"""Condition workers: a looping condition runs in another process and is stopped at its budget."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aisle.runtime.condition_workers import (
    ConditionBudget,
    ConditionBudgetExceeded,
    ConditionFailed,
    ConditionWorkers,
)

COSTLY = "event.payload.items.exists(a, event.payload.items.exists(b, a + b < 0))"


@pytest.fixture
def workers() -> Iterator[ConditionWorkers]:
    pool = ConditionWorkers(ConditionBudget(seconds=0.3, workers=1))
    yield pool
    pool.close()


def test_answers_errors_and_the_budget(workers: ConditionWorkers):
    tags = {"contact": {"tags": ["new", "vip"]}}
    assert workers.evaluate("contact.tags.exists(t, t == 'vip')", tags) is True
    with pytest.raises(ConditionFailed, match="not a bool"):
        workers.evaluate("contact.tags.map(t, t)", tags)
    with pytest.raises(ConditionFailed, match="KeyError"):
        workers.evaluate("contact.missing.exists(t, t)", tags)
    with pytest.raises(ConditionBudgetExceeded, match=r"0\.3 s budget"):
        workers.evaluate(COSTLY, {"event": {"payload": {"items": list(range(3000))}}})
    # The overrunning worker was killed; the next condition gets a fresh one.
    assert workers.evaluate("contact.tags.all(t, t != '')", tags) is True


def test_settings():
    budget = ConditionBudget.from_environ(
        {"AISLE_CEL_TIME_BUDGET_MS": "100", "AISLE_CEL_WORKERS": "3"}
    )
    assert budget == ConditionBudget(seconds=0.1, workers=3, memory_mb=512)
    with pytest.raises(ValueError, match="AISLE_CEL_WORKERS"):
        ConditionBudget.from_environ({"AISLE_CEL_WORKERS": "none"})
