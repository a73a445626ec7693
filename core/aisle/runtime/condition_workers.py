"""Conditions that loop, evaluated in worker processes under a time budget.

The CEL library has no cost budget and holds the GIL for a whole evaluation: a
condition with nested comprehensions over a long list runs for seconds, and while it
does no other thread of the process runs, the event loop included (measured: a thread
evaluating one kept the main thread from a single 1 ms tick for the whole 0.12 s).
Running the engine in a thread is therefore not enough; a condition that can loop
(one using ``all``, ``exists``, ``exists_one``, ``map`` or ``filter``) runs in one of
a few worker processes instead, and one that overruns its budget is killed with its
worker and counts as false with a recorded ``ConditionError``, as any failing
condition does. Conditions without comprehensions cost at most one pass over their
syntax tree and stay in-process.

:func:`offload` swaps such conditions of a compiled journey for :class:`RemoteProgram`
values, which the engine calls with the plain activation; the caller runs the engine
in a thread (:func:`needs_thread`) so that waiting on a worker never holds the loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from aisle.engine.compiled import CompiledJourney
from aisle.engine.condition_limits import measure
from aisle.engine.conditions import ExternalProgram

__all__ = [
    "ConditionBudget",
    "ConditionBudgetExceeded",
    "ConditionFailed",
    "ConditionWorkers",
    "RemoteProgram",
    "needs_thread",
    "offload",
]

T = TypeVar("T")

_MAIN = Path(__file__).with_name("condition_worker_main.py")
_START_SECONDS = 30.0
_MAX_ANSWER = 1 << 16


class ConditionBudgetExceeded(Exception):
    """A condition ran past its time budget (its worker was killed)."""


class ConditionFailed(ValueError):
    """The condition failed in its worker: the CEL error, or a result that is not a bool."""


class ConditionBudget(msgspec.Struct, frozen=True, kw_only=True):
    """How conditions that loop are run: how long each may take, in how many workers."""

    seconds: float = 0.25
    """Wall time one evaluation may take (``AISLE_CEL_TIME_BUDGET_MS``)."""
    workers: int = 2
    """Worker processes, started on first use (``AISLE_CEL_WORKERS``)."""
    memory_mb: int = 512
    """Address space of one worker (``AISLE_CEL_WORKER_MEMORY_MB``)."""

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ConditionBudget:
        defaults = cls()
        return cls(
            seconds=_positive(env, "AISLE_CEL_TIME_BUDGET_MS", int(defaults.seconds * 1000)) / 1000,
            workers=_positive(env, "AISLE_CEL_WORKERS", defaults.workers),
            memory_mb=_positive(env, "AISLE_CEL_WORKER_MEMORY_MB", defaults.memory_mb),
        )


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, memory_mb: int) -> None:
        requests, to_child = os.pipe()
        from_child, answers = os.pipe()
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, str(_MAIN), str(requests), str(answers), str(memory_mb << 20)],
            pass_fds=(requests, answers),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.close(requests)
        os.close(answers)
        self.send = Connection(to_child, readable=False)
        self.receive = Connection(from_child, writable=False)
        self.ready = False

    def wait_ready(self) -> None:
        # Starting an interpreter is not the condition's cost: it gets a budget of its own.
        if not self.ready:
            if not self.receive.poll(_START_SECONDS):
                raise OSError("the condition worker did not start")
            self.receive.recv_bytes(_MAX_ANSWER)
            self.ready = True

    def ask(self, expression: str, activation: Mapping[str, Any], seconds: float) -> bool:
        self.wait_ready()
        self.send.send((expression, dict(activation)))
        if not self.receive.poll(seconds):
            raise ConditionBudgetExceeded(
                f"the condition ran past its {seconds:g} s budget and was stopped"
            )
        status, value = json.loads(self.receive.recv_bytes(_MAX_ANSWER))
        if status != "ok" or not isinstance(value, bool):
            raise ConditionFailed(str(value))
        return value

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.send.close()
        self.receive.close()


class ConditionWorkers:
    """A few worker processes evaluating conditions under :class:`ConditionBudget`.

    Thread-safe and blocking: call :meth:`evaluate` from a thread, never from the loop.
    At most ``budget.workers`` evaluations run at once; the others wait for a worker.
    """

    def __init__(self, budget: ConditionBudget | None = None) -> None:
        self.budget = budget or ConditionBudget()
        self._slots = threading.BoundedSemaphore(self.budget.workers)
        self._idle: list[_Worker] = []
        self._starting = False
        self._lock = threading.Lock()
        # Engine calls waiting on a worker; their own pool, so that they never take the
        # loop's default executor (name resolution, file reads) from everyone else.
        self._threads: ThreadPoolExecutor | None = None

    async def run_engine(self, compiled: CompiledJourney, call: Callable[[], T]) -> T:
        """``call()``, an engine call on ``compiled``: in a thread when it may wait on a
        worker (:func:`needs_thread`), right here otherwise (most journeys)."""
        if not needs_thread(compiled):
            return call()
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    max_workers=4 * self.budget.workers, thread_name_prefix="aisle-conditions"
                )
            threads = self._threads
        return await asyncio.get_running_loop().run_in_executor(threads, call)

    def evaluate(self, expression: str, activation: Mapping[str, Any]) -> bool:
        """The value of ``expression``; raises :class:`ConditionBudgetExceeded` past the
        budget, :class:`ConditionFailed` with the CEL error, ``ValueError`` when the
        worker died (out of memory)."""
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or worker.process.poll() is not None:
                worker = _Worker(self.budget.memory_mb)
            try:
                value = worker.ask(expression, activation, self.budget.seconds)
            except ConditionFailed:
                self._release(worker)
                raise
            except ConditionBudgetExceeded:
                worker.stop()
                self.prepare()
                raise
            except (EOFError, OSError, ValueError) as exc:  # it died or spoke nonsense
                worker.stop()
                self.prepare()
                raise ValueError(
                    f"the condition's worker stopped ({type(exc).__name__}); "
                    f"it may need more than {self.budget.memory_mb} MB"
                ) from None
            self._release(worker)
            return value

    def prepare(self) -> None:
        """Start a worker in the background unless one is idle, so that the next
        evaluation (often inside a transaction) does not wait for an interpreter."""
        with self._lock:
            if self._idle or self._starting:
                return
            self._starting = True
        threading.Thread(
            target=self._start_spare, name="aisle-condition-spare", daemon=True
        ).start()

    def _start_spare(self) -> None:
        worker: _Worker | None = None
        try:
            worker = _Worker(self.budget.memory_mb)
            worker.wait_ready()
        except (OSError, EOFError):
            if worker is not None:
                worker.stop()
            worker = None
        finally:
            with self._lock:
                self._starting = False
        if worker is not None:
            self._release(worker)

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            keep = len(self._idle) < self.budget.workers
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.stop()

    def close(self) -> None:
        """Stop the idle workers (busy ones are stopped by their callers' timeouts)."""
        with self._lock:
            idle, self._idle = self._idle, []
            threads, self._threads = self._threads, None
        for worker in idle:
            worker.stop()
        if threads is not None:
            threads.shutdown(wait=False)


class RemoteProgram(ExternalProgram):
    """A condition the engine evaluates through :class:`ConditionWorkers`."""

    def __init__(self, expression: str, workers: ConditionWorkers) -> None:
        self.expression = expression
        self.workers = workers

    def run(self, activation: Mapping[str, Any]) -> Any:
        return self.workers.evaluate(self.expression, activation)


def offload(compiled: CompiledJourney, workers: ConditionWorkers) -> CompiledJourney:
    """``compiled`` with its looping conditions evaluated by ``workers``."""
    programs = {
        expression: (
            RemoteProgram(expression, workers)
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


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value
