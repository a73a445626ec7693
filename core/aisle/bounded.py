"""Bounded work: user-authored code (templates, CEL conditions) run in worker processes
under time and memory bounds, fairly shared between organizations.

A template or a condition is code a studio's staff wrote, and a loop, a power or a
format width can ask for minutes of CPU or gigabytes of memory. A :class:`BoundedPool`
runs a function in one of a few worker processes: each call gets ``timeout_seconds`` of
wall time (with ``RLIMIT_CPU`` as a backstop should the parent vanish) and
``max_memory_mb`` of address space beyond what the worker already holds
(``RLIMIT_AS``); a worker that overruns is killed and replaced (by a standby worker kept
started for that), and the call fails with :class:`BoundExceeded`, a
:class:`~aisle.PermanentError` (what overran once will overrun again). Cancelling the
awaiting task withdraws the call, killing its worker if it already started.

Calls wait in one queue per organization. A free worker takes the call of the waiting
organization holding the fewest workers, the one served longest ago first, and no
organization holds more than ``per_organization`` workers (replacing one its call
killed included), so a burst of slow calls from one studio leaves the other workers to
everyone else.

A process has one pool per kind of work, with bounds of its own: :data:`TEMPLATES`
(``AISLE_TEMPLATE_*``, :func:`run_bounded`) and :data:`CONDITIONS` (``AISLE_CEL_*``,
:mod:`aisle.runtime.condition_workers`). A server holds them for its lifetime
(:func:`held`); when the last holder lets go, every worker is stopped and waited for.

The function must be importable by name (a module-level function); its arguments
travel to the worker pickled. The result comes back as msgpack (``returns`` converts it
to a type), never as a pickle: the worker runs untrusted code and the parent must not
load code-bearing data from it.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import importlib.util
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from aisle import _bounded_worker
from aisle._bounded_worker import Lost, Overrun, working_on, write_frame
from aisle.contracts.actions import ActionError, PermanentError, RetryableError
from aisle.env import env_number

__all__ = [
    "CONDITIONS",
    "TEMPLATES",
    "BoundExceeded",
    "BoundedConfig",
    "BoundedPool",
    "configure",
    "configure_pool",
    "held",
    "hold",
    "release",
    "run_bounded",
    "shared_pool",
    "shutdown",
    "working_on",
]

T = TypeVar("T")

log = logging.getLogger(__name__)

TEMPLATES = "templates"
"""The pool rendering user-authored templates (email, SMS, previews)."""
CONDITIONS = "conditions"
"""The pool evaluating CEL conditions that loop."""

_START_SECONDS = 60.0
"""How long a new worker may take to start and import what it will run."""
_JOIN_SECONDS = 10.0
"""How long stopping a pool waits for its threads before reaping what is left."""

# Loads the worker loop by path (see aisle._bounded_worker), so that a worker imports
# only what its calls need.
_LAUNCH = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('aisle._bounded_worker', sys.argv[1])\n"
    "worker = importlib.util.module_from_spec(spec)\n"
    "sys.modules[spec.name] = worker\n"
    "spec.loader.exec_module(worker)\n"
    "worker.serve()\n"
)


class BoundExceeded(PermanentError):
    """A bounded call ran out of time or memory, returned too much, or killed its worker.

    ``bound`` is ``time``, ``memory``, ``output`` or ``crashed``; ``where`` is what the
    worker last said it was working on (see :func:`working_on`), e.g.
    ``template field 'html'``.
    """

    def __init__(self, message: str, *, bound: str, where: str | None = None) -> None:
        super().__init__(message)
        self.bound = bound
        self.where = where


@dataclass(frozen=True, kw_only=True)
class BoundedConfig:
    """One pool's bounds, and how its messages name them."""

    workers: int = 2
    per_organization: int = 1
    timeout_seconds: float = 5.0
    max_memory_mb: int = 256
    max_output_bytes: int = 4 * 1024 * 1024
    what: str = "template"
    """What a call runs, as messages name it ("the template took longer than …")."""
    timeout_setting: str = "AISLE_TEMPLATE_TIMEOUT_SECONDS"
    memory_setting: str = "AISLE_TEMPLATE_MAX_MEMORY_MB"
    output_setting: str = "AISLE_TEMPLATE_MAX_OUTPUT_BYTES"
    standalone: tuple[str, ...] = ()
    """Modules the workers load by path, without importing the ``aisle`` package: the
    calls of a pool whose functions all live in such modules (importing neither Aisle
    nor anything heavy) start faster and hold less memory."""

    @classmethod
    def templates(cls, env: Mapping[str, str] | None = None) -> BoundedConfig:
        """The template pool's bounds: ``AISLE_TEMPLATE_WORKERS``, ``…_WORKERS_PER_ORG``,
        ``…_TIMEOUT_SECONDS``, ``…_MAX_MEMORY_MB`` and ``…_MAX_OUTPUT_BYTES``.

        :raises aisle.env.SettingsError: naming the variable that is not a positive number.
        """
        env = env or {}
        workers = env_number(env, "AISLE_TEMPLATE_WORKERS", cls.workers)
        return cls(
            workers=workers,
            per_organization=min(
                workers,
                env_number(env, "AISLE_TEMPLATE_WORKERS_PER_ORG", max(1, workers // 2)),
            ),
            timeout_seconds=env_number(env, "AISLE_TEMPLATE_TIMEOUT_SECONDS", cls.timeout_seconds),
            max_memory_mb=env_number(env, "AISLE_TEMPLATE_MAX_MEMORY_MB", cls.max_memory_mb),
            max_output_bytes=env_number(
                env, "AISLE_TEMPLATE_MAX_OUTPUT_BYTES", cls.max_output_bytes
            ),
        )

    @classmethod
    def conditions(cls, env: Mapping[str, str] | None = None) -> BoundedConfig:
        """The condition pool's bounds: ``AISLE_CEL_TIME_BUDGET_MS`` (250),
        ``AISLE_CEL_WORKERS`` (2; an organization holds at most half of them) and
        ``AISLE_CEL_WORKER_MEMORY_MB`` (512).

        :raises aisle.env.SettingsError: naming the variable that is not a positive number.
        """
        env = env or {}
        workers = env_number(env, "AISLE_CEL_WORKERS", 2)
        return cls(
            workers=workers,
            per_organization=max(1, workers // 2),
            timeout_seconds=env_number(env, "AISLE_CEL_TIME_BUDGET_MS", 250.0) / 1000,
            max_memory_mb=env_number(env, "AISLE_CEL_WORKER_MEMORY_MB", 512),
            max_output_bytes=64 * 1024,
            what="condition",
            timeout_setting="AISLE_CEL_TIME_BUDGET_MS",
            memory_setting="AISLE_CEL_WORKER_MEMORY_MB",
            output_setting="",
            standalone=("aisle.runtime.cel_eval",),
        )


class _Job:
    __slots__ = ("future", "module", "organization", "payload", "qualname", "where", "worker")

    def __init__(self, organization: str, module: str, qualname: str, payload: bytes) -> None:
        self.organization = organization
        self.module = module
        self.qualname = qualname
        self.payload = payload
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.where: str | None = None
        self.worker: _Worker | None = None

    def settle(self, value: Any = None, error: BaseException | None = None) -> None:
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(value)


class _Worker:
    """One worker process and the pipes to it (used by one slot thread at a time)."""

    def __init__(self) -> None:
        self.killed = False
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and loop)
            [sys.executable, "-c", _LAUNCH, _bounded_worker.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C is the parent's to handle
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()

    def start(self, standalone: list[tuple[str, str]], warm: list[str]) -> None:
        """Hand the worker this process's import path and what to import ahead."""
        self.send(("hello", list(sys.path), standalone, warm))
        self.receive(time.monotonic() + _START_SECONDS, limit=1024)

    def send(self, message: Any) -> None:
        write_frame(self._in, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self, deadline: float, limit: int) -> Any:
        header = _bounded_worker.read_exact(self._out, _bounded_worker.HEADER.size, deadline)
        size = _bounded_worker.HEADER.unpack(header)[0]
        if size > limit:
            raise Lost(f"the worker sent {size} bytes")
        return msgspec.msgpack.decode(_bounded_worker.read_exact(self._out, size, deadline))

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close(self) -> int | None:
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        return self.process.returncode


class BoundedPool:
    """Worker processes serving bounded calls, round-robin between organizations."""

    def __init__(self, config: BoundedConfig | None = None) -> None:
        self.config = config or BoundedConfig()
        self._standalone = [(name, _module_file(name)) for name in self.config.standalone]
        # Slot threads wait on ``_lock`` for calls, the standby keeper on ``_reserve``
        # for its worker to be taken: each wake-up wakes only a thread with work to do.
        mutex = threading.Lock()
        self._lock = threading.Condition(mutex)
        self._reserve = threading.Condition(mutex)
        self._waiting: dict[str, collections.deque[_Job]] = {}
        self._running: collections.Counter[str] = collections.Counter()
        self._served: dict[str, int] = {}
        self._turn = 0
        self._warm: dict[str, None] = {}
        self._threads: list[threading.Thread] = []
        self._workers: set[_Worker] = set()
        self._standby: _Worker | None = None
        self._closed = False
        self.pid = os.getpid()

    def submit(self, organization: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> _Job:
        """Queue ``fn(*args, **kwargs)`` for ``organization``; the job's future settles
        with its msgpack-decoded result or the error it raised.

        :raises TypeError: ``fn`` is not importable by name, or an argument cannot be
            pickled.
        """
        module, qualname = _name_of(fn)
        try:
            payload = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(f"{fn!r} cannot run in a bounded worker: {exc}") from None
        job = _Job(organization, module, qualname, payload)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the {self.config.what} pool is closed")
            self._warm.setdefault(module, None)
            self._waiting.setdefault(organization, collections.deque()).append(job)
            self._start()
            self._lock.notify()
        return job

    def call(self, organization: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` as :meth:`submit` runs it, waiting in this thread
        (never call it on an event loop; :func:`run_bounded` awaits instead)."""
        return self.submit(organization, fn, *args, **kwargs).future.result()

    def cancel(self, job: _Job) -> None:
        """Withdraw ``job``: out of its queue if waiting, its worker killed if running."""
        with self._lock:
            queue = self._waiting.get(job.organization)
            if queue is not None and job in queue:
                queue.remove(job)
                if not queue:
                    del self._waiting[job.organization]
                job.future.cancel()
            elif job.worker is not None:
                job.worker.kill()

    def start(self) -> None:
        """Start the workers now rather than at the first call (which then does not wait
        for an interpreter to start)."""
        with self._lock:
            if not self._closed:
                self._start()

    def close(self, timeout: float = _JOIN_SECONDS) -> None:
        """Stop every worker and wait for it to exit; calls still waiting fail."""
        with self._lock:
            self._closed = True
            waiting = [job for queue in self._waiting.values() for job in queue]
            self._waiting.clear()
            workers = list(self._workers)
            threads = list(self._threads)
            self._lock.notify_all()
            self._reserve.notify_all()
        for job in waiting:
            job.settle(error=RuntimeError(f"the {self.config.what} pool closed"))
        for worker in workers:
            worker.kill()
        if os.getpid() != self.pid:
            return  # a forked child: the threads and workers are its parent's
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        # The standby, and any worker whose thread did not finish in time.
        with self._lock:
            left = list(self._workers)
            self._workers.clear()
            self._standby = None
        for worker in left:
            worker.close()

    def _start(self) -> None:
        if self._threads:
            return
        what = self.config.what
        slots = [(self._serve_slot, f"aisle-{what}-{n}") for n in range(self.config.workers)]
        for target, name in [*slots, (self._keep_standby, f"aisle-{what}-standby")]:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _take(self) -> _Job | None:
        """The next job of the waiting organization with the fewest workers, the one
        served longest ago first (an organization new to the pool goes first of all)."""
        with self._lock:
            while not self._closed:
                share = self.config.per_organization
                eligible = [o for o in self._waiting if self._running[o] < share]
                if eligible:
                    organization = min(
                        eligible, key=lambda o: (self._running[o], self._served.get(o, -1))
                    )
                    queue = self._waiting[organization]
                    job = queue.popleft()
                    if not queue:
                        del self._waiting[organization]
                    self._running[organization] += 1
                    self._turn += 1
                    self._served[organization] = self._turn
                    return job
                self._lock.wait()
            return None

    def _finished(self, job: _Job) -> None:
        # Called holding the lock. No wake-up: the slot finishing a call takes the next
        # one itself.
        organization = job.organization
        self._running[organization] -= 1
        if self._running[organization] <= 0:
            del self._running[organization]
            if organization not in self._waiting:
                self._served.pop(organization, None)

    def _serve_slot(self) -> None:
        # A worker is started (or replaced) before the slot takes a call, so a call
        # never waits for an interpreter to start unless every worker is being replaced.
        # Replacing a worker a call killed counts against that call's organization: its
        # runaway calls cannot take the other workers while theirs restart.
        worker = self._spawn()
        while worker is not None and (job := self._take()) is not None:
            keep, value, error = True, None, None
            try:
                with self._lock:
                    job.worker = worker
                if not job.future.cancelled():
                    keep, value, error = self._run(worker, job)
            except Exception as exc:  # a broken pipe fails this call only
                keep, error = False, RuntimeError(f"the {self.config.what} worker failed: {exc}")
            with self._lock:  # from here on, cancelling the job cannot kill the worker
                job.worker = None
                doomed = not keep or worker.killed
                if not doomed:
                    self._finished(job)
            # Settled once the books are kept: the caller it wakes then finds this
            # thread about to wait, not holding the interpreter lock.
            job.settle(value, error)
            if doomed:
                self._retire(worker)
                worker = self._spawn()
                with self._lock:
                    self._finished(job)
        if worker is not None:
            self._retire(worker)

    def _spawn(self) -> _Worker | None:
        """The standby worker if there is one, else a new one; None once the pool closes."""
        with self._lock:
            standby, self._standby = self._standby, None
            self._reserve.notify()
        if standby is not None and standby.process.poll() is None:
            return standby
        if standby is not None:
            self._retire(standby)
        return self._new_worker()

    def _keep_standby(self) -> None:
        # A started worker in reserve: one killed for overrunning is replaced at once,
        # instead of its organization's next call waiting for an interpreter to start.
        while True:
            with self._lock:
                while self._standby is not None and not self._closed:
                    self._reserve.wait()
            worker = self._new_worker()
            if worker is None:
                return
            with self._lock:
                self._standby = worker

    def _new_worker(self) -> _Worker | None:
        """A new worker, retrying while it cannot start; None once the pool closes."""
        while True:
            with self._lock:
                if self._closed:
                    return None
                warm = [m for m in self._warm if m not in self.config.standalone]
            worker: _Worker | None = None
            try:
                worker = _Worker()
                with self._lock:  # known before it starts, so closing the pool kills it
                    self._workers.add(worker)
                    if self._closed:
                        worker.kill()
                worker.start(self._standalone, warm)
                return worker
            except Exception:
                if worker is not None:
                    self._retire(worker)
                with self._lock:
                    if self._closed:
                        return None
                    log.exception("a %s worker did not start; retrying in 1 s", self.config.what)
                    self._reserve.wait(1.0)

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.close()

    def _run(self, worker: _Worker, job: _Job) -> tuple[bool, Any, BaseException | None]:
        """Run ``job`` on ``worker``: whether the worker may serve again, and the job's
        value or error."""
        config = self.config
        worker.send(
            (
                "run",
                job.module,
                job.qualname,
                job.payload,
                config.timeout_seconds,
                config.max_memory_mb * 1024 * 1024,
                config.max_output_bytes,
            )
        )
        deadline = time.monotonic() + config.timeout_seconds
        try:
            while True:
                frame = worker.receive(deadline, config.max_output_bytes + 4096)
                if frame[0] != "at":
                    break
                job.where = str(frame[1])
        except Overrun:
            return False, None, self._exceeded("time", job.where)
        except Lost:
            status = worker.close()
            bound = "time" if status == -signal.SIGXCPU else "crashed"
            return False, None, self._exceeded(bound, job.where, status)
        kind, value = str(frame[0]), frame[1]
        if kind == "ok":
            return True, value, None
        # A worker that ran out of memory starts afresh.
        return kind != "memory", None, _error(kind, value, frame, job.where, config)

    def _exceeded(self, bound: str, where: str | None, status: int | None = None) -> BoundExceeded:
        config = self.config
        subject = where or f"the {config.what}"
        if bound == "time":
            message = (
                f"{subject} took longer than {config.timeout_seconds:g} s "
                f"({config.timeout_setting}); simplify its loops"
            )
        else:
            message = f"{subject} stopped the {config.what} worker (exit status {status})"
        return BoundExceeded(message, bound=bound, where=where)


def _name_of(fn: Callable[..., Any]) -> tuple[str, str]:
    """``fn``'s module and qualified name, checked to find ``fn`` again (a worker imports
    it by name; a lambda, a nested function or one of ``__main__`` cannot be found)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    found: Any = sys.modules.get(module) if module and module != "__main__" else None
    for part in (qualname or "<>").split("."):
        found = getattr(found, part, None)
    if found is not fn or module is None or qualname is None:
        raise TypeError(f"{fn!r} cannot run in a bounded worker: it is not importable by name")
    return module, qualname


def _module_file(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ValueError(f"{name} is not a module file")
    return spec.origin


def _error(
    kind: str, message: Any, frame: Any, where: str | None, config: BoundedConfig
) -> Exception:
    text = str(message)
    subject = where or f"the {config.what}"
    if kind == "permanent":
        return PermanentError(text)
    if kind == "retryable":
        return RetryableError(text, retry_after=frame[2] if len(frame) > 2 else None)
    if kind == "action":
        return ActionError(text)
    if kind == "memory":
        return BoundExceeded(
            f"{subject} needs more than {config.max_memory_mb} MB ({config.memory_setting})",
            bound="memory",
            where=where,
        )
    if kind == "output":
        setting = f" ({config.output_setting})" if config.output_setting else ""
        return BoundExceeded(
            f"{subject} produced {text} bytes, more than {config.max_output_bytes}{setting}",
            bound="output",
            where=where,
        )
    return RuntimeError(text)


# The process's pools, one per kind of work, started on first use.

_configs: dict[str, BoundedConfig] = {
    TEMPLATES: BoundedConfig.templates(),
    CONDITIONS: BoundedConfig.conditions(),
}
_pools: dict[str, BoundedPool] = {}
_holders = 0
_shared_lock = threading.Lock()


def configure(env: Mapping[str, str]) -> None:
    """Set the process's pools' bounds from ``AISLE_TEMPLATE_*`` and ``AISLE_CEL_*``.

    :raises aisle.env.SettingsError: naming a malformed setting.
    """
    templates, conditions = BoundedConfig.templates(env), BoundedConfig.conditions(env)
    configure_pool(TEMPLATES, templates)
    configure_pool(CONDITIONS, conditions)


def configure_pool(kind: str, config: BoundedConfig) -> None:
    """Set the bounds of the process's ``kind`` pool (a running pool with other bounds is
    stopped: its next call starts a new one)."""
    with _shared_lock:
        _configs[kind] = config
        old = _pools.get(kind)
        if old is None or old.config == config:
            return
        del _pools[kind]
    if old.pid == os.getpid():
        old.close()


def shared_pool(kind: str = TEMPLATES) -> BoundedPool:
    """The process's ``kind`` pool (a forked child builds its own: threads do not survive
    fork)."""
    with _shared_lock:
        pool = _pools.get(kind)
        if pool is None or pool.pid != os.getpid():
            pool = _pools[kind] = BoundedPool(_configs[kind])
        return pool


def hold() -> None:
    """Keep the process's pools for the caller (a server, for its lifetime) until it calls
    :func:`release`. Pools still start on first use."""
    global _holders
    with _shared_lock:
        _holders += 1


def release() -> None:
    """Let go of the pools; the last holder to let go stops every worker process and
    waits for it to exit (blocking: a second or so at most)."""
    global _holders
    with _shared_lock:
        _holders = max(0, _holders - 1)
        last = _holders == 0
    if last:
        shutdown()


@contextlib.asynccontextmanager
async def held() -> AsyncIterator[None]:
    """:func:`hold` for the ``async with`` block, :func:`release` (off the loop) after."""
    hold()
    try:
        yield
    finally:
        await asyncio.to_thread(release)


def shutdown() -> None:
    """Stop every pool of this process now, waiting for its workers to exit (the next
    call starts new ones)."""
    with _shared_lock:
        pools = [p for p in _pools.values() if p.pid == os.getpid()]
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown)


async def run_bounded(
    fn: Callable[..., Any],
    /,
    *args: Any,
    organization: str,
    returns: type[T] | None = None,
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)`` in a template worker process under its bounds.

    ``organization`` is whose queue the call waits in. The result comes back through
    msgpack (a struct as a dict, a tuple as a list); ``returns`` converts it back.
    Errors the function raises come back as :class:`~aisle.PermanentError`,
    :class:`~aisle.RetryableError` or :class:`~aisle.ActionError` with their message,
    anything else as :class:`RuntimeError`.

    :raises BoundExceeded: the call overran a bound (a permanent error: not retried).
    :raises TypeError: ``fn`` is not importable by name or an argument cannot be pickled.
    """
    pool = shared_pool(TEMPLATES)
    job = pool.submit(organization, fn, *args, **kwargs)
    try:
        value = await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        pool.cancel(job)
        raise
    if returns is None:
        return value
    return msgspec.convert(value, returns, strict=False)
