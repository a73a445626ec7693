"""Conditions that loop, evaluated in worker processes under a time budget.

The CEL library has no cost budget and holds the GIL for a whole evaluation: a
condition with nested comprehensions over a long list runs for seconds, and while it
does no other thread of the process runs, the event loop included (measured: a thread
evaluating one kept the main thread from a single 1 ms tick for the whole 0.12 s).
Running the engine in a thread is therefore not enough; a condition that can loop
(one using ``all``, ``exists``, ``exists_one``, ``map`` or ``filter``) runs in the
process's condition pool (:data:`aisle.bounded.CONDITIONS`: the machinery templates
run in, with the CEL budget ``AISLE_CEL_*`` and workers that import only the CEL
library), and one that overruns its budget is killed with its worker and counts as
false with a recorded ``ConditionError``, as any failing condition does. Conditions
without comprehensions cost at most one pass over their syntax tree and stay
in-process.

:func:`offload` swaps such conditions of a compiled journey for :class:`RemoteProgram`
values, which the engine calls with the plain activation; the caller runs the engine
in a thread (:func:`needs_thread`) so that waiting on a worker never holds the loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any, TypeVar

from aisle.bounded import CONDITIONS, BoundedPool, BoundExceeded, shared_pool
from aisle.engine.compiled import CompiledJourney
from aisle.engine.condition_limits import measure
from aisle.engine.conditions import ExternalProgram
from aisle.runtime.cel_eval import evaluate

__all__ = [
    "ConditionBudgetExceeded",
    "ConditionFailed",
    "ConditionWorkers",
    "RemoteProgram",
    "needs_thread",
    "offload",
]

T = TypeVar("T")


class ConditionBudgetExceeded(Exception):
    """A condition ran past its time budget (its worker was killed)."""


class ConditionFailed(ValueError):
    """The condition failed in its worker: the CEL error, or a result that is not a bool."""


class ConditionWorkers:
    """Evaluates conditions in a :class:`~aisle.bounded.BoundedPool`: ``pool``, or the
    process's condition pool (looked up at each call, so a pool stopped at shutdown and
    started again is found).

    Thread-safe and blocking: call :meth:`evaluate` from a thread, never from the loop.
    """

    def __init__(self, pool: BoundedPool | None = None) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        # Engine calls waiting on a worker; their own pool, so that they never take the
        # loop's default executor (name resolution, file reads) from everyone else.
        self._threads: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> BoundedPool:
        return self._pool if self._pool is not None else shared_pool(CONDITIONS)

    async def run_engine(self, compiled: CompiledJourney, call: Callable[[], T]) -> T:
        """``call()``, an engine call on ``compiled``: in a thread when it may wait on a
        worker (:func:`needs_thread`), right here otherwise (most journeys)."""
        if not needs_thread(compiled):
            return call()
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    max_workers=4 * self.pool.config.workers, thread_name_prefix="aisle-conditions"
                )
            threads = self._threads
        return await asyncio.get_running_loop().run_in_executor(threads, call)

    def evaluate(self, organization: str, expression: str, activation: Mapping[str, Any]) -> bool:
        """The value of ``expression``, evaluated in ``organization``'s queue; raises
        :class:`ConditionBudgetExceeded` past the budget, :class:`ConditionFailed` with
        the CEL error, ``ValueError`` when the worker died (out of memory)."""
        pool = self.pool
        try:
            status, value = pool.call(organization, evaluate, expression, dict(activation))
        except BoundExceeded as exc:
            if exc.bound == "time":
                raise ConditionBudgetExceeded(
                    f"the condition ran past its {pool.config.timeout_seconds:g} s budget "
                    "and was stopped"
                ) from None
            raise ValueError(
                f"the condition's worker stopped ({exc.bound}); "
                f"it may need more than {pool.config.max_memory_mb} MB"
            ) from None
        except RuntimeError as exc:  # the worker broke, or the pool closed under us
            raise ValueError(f"the condition's worker failed: {exc}") from None
        if status != "ok" or not isinstance(value, bool):
            raise ConditionFailed(str(value))
        return value

    def prepare(self) -> None:
        """Start the workers in the background, so that the next evaluation (often
        inside a transaction) does not wait for an interpreter."""
        self.pool.start()

    def close(self) -> None:
        """Stop the threads engine calls run in (the pool is its owner's to stop)."""
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)


class RemoteProgram(ExternalProgram):
    """A condition the engine evaluates through :class:`ConditionWorkers`, in the queue
    of the organization whose journey it belongs to."""

    def __init__(self, expression: str, workers: ConditionWorkers, organization: str) -> None:
        self.expression = expression
        self.workers = workers
        self.organization = organization

    def run(self, activation: Mapping[str, Any]) -> Any:
        return self.workers.evaluate(self.organization, self.expression, activation)


def offload(
    compiled: CompiledJourney, workers: ConditionWorkers, organization: str
) -> CompiledJourney:
    """``compiled`` (a journey of ``organization``) with its looping conditions evaluated
    by ``workers``."""
    programs = {
        expression: (
            RemoteProgram(expression, workers, organization)
            if not isinstance(program, ExternalProgram) and measure(expression).comprehensions
            else program
        )
        for expression, program in compiled.programs.items()
    }
    if all(programs[e] is p for e, p in compiled.programs.items()):
        return compiled
    workers.prepare()
    return dataclasses.replace(compiled, programs=MappingProxyType(programs))


def needs_thread(compiled: CompiledJourney) -> bool:
    """Whether running the engine on ``compiled`` may wait on a worker (so must not run
    on the event loop)."""
    return any(isinstance(p, ExternalProgram) for p in compiled.programs.values())
