"""What bounding conditions costs: a condition using a comprehension evaluated
in-process (as conditions without one still are) and in the condition pool of
:mod:`aisle.bounded` (as conditions with one are: one round trip to a worker)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aisle.bounded import BoundedConfig, BoundedPool
from aisle.engine.conditions import compile_condition
from aisle.runtime.condition_workers import ConditionWorkers
from aisle.testing.samples import sample_contact
from bench.registry import Result, bench, from_samples

__all__ = ["inline_condition", "pooled_condition"]

EXPRESSION = "contact.partners.exists(p, p.first_name == 'Ada')"


def _activation() -> dict[str, Any]:
    now = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    return {"contact": sample_contact().activation(), "event": None, "vars": {}, "now": now}


def _rounds(quick: bool) -> int:
    return 30 if quick else 2000


@bench("conditions.inline", "a condition with a comprehension evaluated in-process")
def inline_condition(quick: bool) -> Result:
    import cel

    program, activation = compile_condition(EXPRESSION), _activation()
    samples = []
    for _ in range(_rounds(quick)):
        began = time.perf_counter()
        context = cel.Context()
        context.update(activation)
        assert program.execute(context) is True
        samples.append(time.perf_counter() - began)
    return from_samples("conditions.inline", samples, unit="condition")


@bench("conditions.pooled", "the same condition evaluated in a bounded condition worker")
def pooled_condition(quick: bool) -> Result:
    pool = BoundedPool(BoundedConfig.conditions())
    workers, activation = ConditionWorkers(pool), _activation()
    try:
        assert workers.evaluate("bench", EXPRESSION, activation) is True  # start, compile
        samples = []
        for _ in range(_rounds(quick)):
            began = time.perf_counter()
            workers.evaluate("bench", EXPRESSION, activation)
            samples.append(time.perf_counter() - began)
    finally:
        workers.close()
        pool.close()
    return from_samples("conditions.pooled", samples, unit="condition")
