"""Bounded work: user-authored templates rendered in worker processes under time and
memory bounds, fairly shared between organizations.

A template is code a studio's staff wrote, and a loop, a power or a format width can ask
for minutes of CPU or gigabytes of memory. :func:`run_bounded` runs a function in one of
a few worker processes: each call gets ``timeout_seconds`` of wall time (with
``RLIMIT_CPU`` as a backstop should the parent vanish) and ``max_memory_mb`` of address
space beyond what the worker already holds (``RLIMIT_AS``); a worker that overruns is
killed and replaced (by a standby worker kept started for that), and the call fails
with :class:`BoundExceeded`, a :class:`~aisle.PermanentError` (what overran once will
overrun again). Cancelling the awaiting task withdraws the call, killing its worker if
it already started.

Calls wait in one queue per organization. A free worker takes the call of the waiting
organization holding the fewest workers, the one served longest ago first, and no
organization holds more than ``per_organization`` workers (replacing one its call
killed included), so a burst of slow templates from one studio leaves the other
workers to everyone else.

The function and its arguments travel to the worker pickled, so the function must be
importable by name (a module-level function). The result comes back as msgpack
(``returns`` converts it to a type), never as a pickle: the worker runs untrusted
templates and the parent must not load code-bearing data from it.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import logging
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from aisle.jobs.contracts import ActionError, PermanentError, RetryableError

__all__ = [
    "BoundExceeded",
    "BoundedConfig",
    "BoundedPool",
    "configure",
    "run_bounded",
    "shared_pool",
    "working_on",
]

T = TypeVar("T")

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_START_SECONDS = 60.0
"""How long a new worker may take to start and import what it will run."""


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
    """The bounds (``AISLE_TEMPLATE_*`` settings)."""

    workers: int = 2
    per_organization: int = 1
    timeout_seconds: float = 5.0
    max_memory_mb: int = 256
    max_output_bytes: int = 4 * 1024 * 1024

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> BoundedConfig:
        """Read ``AISLE_TEMPLATE_WORKERS``, ``…_WORKERS_PER_ORG``, ``…_TIMEOUT_SECONDS``,
        ``…_MAX_MEMORY_MB`` and ``…_MAX_OUTPUT_BYTES``.

        :raises ValueError: naming the variable that is not a positive number.
        """
        workers = int(_positive(env, "AISLE_TEMPLATE_WORKERS", cls.workers))
        return cls(
            workers=workers,
            per_organization=min(
                workers,
                int(_positive(env, "AISLE_TEMPLATE_WORKERS_PER_ORG", max(1, workers // 2))),
            ),
            timeout_seconds=_positive(env, "AISLE_TEMPLATE_TIMEOUT_SECONDS", cls.timeout_seconds),
            max_memory_mb=int(_positive(env, "AISLE_TEMPLATE_MAX_MEMORY_MB", cls.max_memory_mb)),
            max_output_bytes=int(
                _positive(env, "AISLE_TEMPLATE_MAX_OUTPUT_BYTES", cls.max_output_bytes)
            ),
        )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


class _Lost(Exception):
    """The worker's pipe closed: it exited or was killed."""


class _Overrun(Exception):
    """The call's time is up."""


class _Job:
    __slots__ = ("future", "module", "organization", "payload", "where", "worker")

    def __init__(self, organization: str, payload: bytes, module: str | None) -> None:
        self.organization = organization
        self.payload = payload
        self.module = module
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

    def __init__(self, warm: list[str]) -> None:
        self.killed = False
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from aisle.bounded import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C is the parent's to handle
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        try:
            self.send(("hello", list(sys.path), warm))
            self.receive(time.monotonic() + _START_SECONDS, limit=1024)
        except BaseException:
            self.close()
            raise

    def send(self, message: Any) -> None:
        _write_frame(self._in, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self, deadline: float, limit: int) -> Any:
        size = _HEADER.unpack(_read_exact(self._out, _HEADER.size, deadline))[0]
        if size > limit:
            raise _Lost(f"the worker sent {size} bytes")
        return msgspec.msgpack.decode(_read_exact(self._out, size, deadline))

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


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise _Overrun
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise _Overrun
        chunk = os.read(fd, min(size - len(buffer), 1 << 20))
        if not chunk:
            raise _Lost("the worker exited")
        buffer += chunk
    return bytes(buffer)


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class BoundedPool:
    """Worker processes serving bounded calls, round-robin between organizations."""

    def __init__(self, config: BoundedConfig | None = None) -> None:
        self.config = config or BoundedConfig()
        self._lock = threading.Condition()
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

        :raises TypeError: ``fn`` or an argument cannot be pickled (not importable by name).
        """
        try:
            payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(f"{fn!r} cannot run in a bounded worker: {exc}") from None
        job = _Job(organization, payload, getattr(fn, "__module__", None))
        with self._lock:
            if self._closed:
                raise RuntimeError("the bounded pool is closed")
            if job.module:
                self._warm.setdefault(job.module, None)
            self._waiting.setdefault(organization, collections.deque()).append(job)
            if not self._threads:
                self._start()
            self._lock.notify_all()
        return job

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

    def close(self) -> None:
        """Stop every worker; calls still waiting fail."""
        with self._lock:
            self._closed = True
            waiting = [job for queue in self._waiting.values() for job in queue]
            self._waiting.clear()
            workers = list(self._workers)
            self._lock.notify_all()
        for job in waiting:
            job.settle(error=RuntimeError("the bounded pool closed"))
        for worker in workers:
            worker.kill()

    def _start(self) -> None:
        jobs = [(self._serve_slot, f"aisle-bounded-{n}") for n in range(self.config.workers)]
        for target, name in [*jobs, (self._keep_standby, "aisle-bounded-standby")]:
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
        with self._lock:
            organization = job.organization
            self._running[organization] -= 1
            if self._running[organization] <= 0:
                del self._running[organization]
                if organization not in self._waiting:
                    self._served.pop(organization, None)
            self._lock.notify_all()

    def _serve_slot(self) -> None:
        # A worker is started (or replaced) before the slot takes a call, so a call
        # never waits for an interpreter to start unless every worker is being replaced.
        # Replacing a worker a call killed counts against that call's organization: its
        # runaway templates cannot take the other workers while theirs restart.
        worker = self._spawn()
        while worker is not None and (job := self._take()) is not None:
            keep = True
            try:
                with self._lock:
                    job.worker = worker
                if not job.future.cancelled():
                    keep = self._run(worker, job)
            except Exception as exc:  # a broken pipe fails this call only
                keep = False
                job.settle(error=RuntimeError(f"the template worker failed: {exc}"))
            finally:
                with self._lock:  # from here on, cancelling the job cannot kill the worker
                    job.worker = None
                    doomed = not keep or worker.killed
                if doomed:
                    self._retire(worker)
                    worker = self._spawn()
                self._finished(job)
        if worker is not None:
            self._retire(worker)

    def _spawn(self) -> _Worker | None:
        """The standby worker if there is one, else a new one; None once the pool closes."""
        with self._lock:
            standby, self._standby = self._standby, None
            self._lock.notify_all()
        if standby is not None and standby.process.poll() is None:
            return standby
        return self._new_worker()

    def _keep_standby(self) -> None:
        # A started worker in reserve: one killed for overrunning is replaced at once,
        # instead of its organization's next call waiting for an interpreter to start.
        while True:
            with self._lock:
                while self._standby is not None and not self._closed:
                    self._lock.wait()
            worker = self._new_worker()
            if worker is None:
                return
            with self._lock:
                self._standby = worker
                self._lock.notify_all()

    def _new_worker(self) -> _Worker | None:
        """A new worker, retrying while it cannot start; None once the pool closes."""
        while True:
            with self._lock:
                if self._closed:
                    return None
                warm = list(self._warm)
            try:
                worker = _Worker(warm)
            except Exception:
                log.exception("a template worker did not start; retrying in 1 s")
                time.sleep(1.0)
                continue
            with self._lock:
                self._workers.add(worker)
                if self._closed:
                    worker.kill()
            return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.close()

    def _run(self, worker: _Worker, job: _Job) -> bool:
        """Run ``job`` on ``worker`` and settle it; False when the worker must go."""
        config = self.config
        worker.send(
            (
                "run",
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
        except _Overrun:
            job.settle(error=self._exceeded("time", job.where))
            return False
        except _Lost:
            status = worker.close()
            bound = "time" if status == -signal.SIGXCPU else "crashed"
            if not job.future.cancelled():
                job.settle(error=self._exceeded(bound, job.where, status))
            return False
        kind, value = str(frame[0]), frame[1]
        if kind == "ok":
            job.settle(value)
            return True
        job.settle(error=_error(kind, value, frame, job.where, config))
        return kind != "memory"  # a worker that ran out of memory starts afresh

    def _exceeded(self, bound: str, where: str | None, status: int | None = None) -> BoundExceeded:
        subject = where or "the template"
        if bound == "time":
            message = (
                f"{subject} took longer than {self.config.timeout_seconds:g} s to render "
                "(AISLE_TEMPLATE_TIMEOUT_SECONDS); simplify its loops"
            )
        else:
            message = f"{subject} stopped the template worker (exit status {status})"
        return BoundExceeded(message, bound=bound, where=where)


def _error(
    kind: str, message: Any, frame: Any, where: str | None, config: BoundedConfig
) -> Exception:
    text = str(message)
    if kind == "permanent":
        return PermanentError(text)
    if kind == "retryable":
        return RetryableError(text, retry_after=frame[2] if len(frame) > 2 else None)
    if kind == "action":
        return ActionError(text)
    if kind == "memory":
        return BoundExceeded(
            f"{where or 'the template'} needs more than {config.max_memory_mb} MB "
            "(AISLE_TEMPLATE_MAX_MEMORY_MB)",
            bound="memory",
            where=where,
        )
    if kind == "output":
        return BoundExceeded(
            f"{where or 'the template'} produced {text} bytes, more than "
            f"{config.max_output_bytes} (AISLE_TEMPLATE_MAX_OUTPUT_BYTES)",
            bound="output",
            where=where,
        )
    return RuntimeError(text)


_shared: BoundedPool | None = None
_shared_config = BoundedConfig()
_shared_lock = threading.Lock()


def configure(env: Mapping[str, str]) -> BoundedConfig:
    """Set the shared pool's bounds from ``AISLE_TEMPLATE_*`` (a running pool is
    replaced: its workers finish nothing further).

    :raises ValueError: naming a malformed setting.
    """
    global _shared, _shared_config
    config = BoundedConfig.from_environ(env)
    with _shared_lock:
        old, _shared, _shared_config = _shared, None, config
    if old is not None and old.config != config:
        old.close()
    elif old is not None:
        _shared = old
    return config


def shared_pool() -> BoundedPool:
    """The process's pool (a forked child builds its own: threads do not survive fork)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.pid != os.getpid():
            _shared = BoundedPool(_shared_config)
        return _shared


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared.pid == os.getpid():
        _shared.close()


async def run_bounded(
    fn: Callable[..., Any],
    /,
    *args: Any,
    organization: str,
    returns: type[T] | None = None,
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)`` in a worker process under the pool's bounds.

    ``organization`` is whose queue the call waits in. The result comes back through
    msgpack (a struct as a dict, a tuple as a list); ``returns`` converts it back.
    Errors the function raises come back as :class:`~aisle.PermanentError`,
    :class:`~aisle.RetryableError` or :class:`~aisle.ActionError` with their message,
    anything else as :class:`RuntimeError`.

    :raises BoundExceeded: the call overran a bound (a permanent error: not retried).
    :raises TypeError: ``fn`` or an argument cannot be pickled.
    """
    pool = shared_pool()
    job = pool.submit(organization, fn, *args, **kwargs)
    try:
        value = await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        pool.cancel(job)
        raise
    if returns is None:
        return value
    return msgspec.convert(value, returns, strict=False)


# The worker side: a loop reading calls from stdin and answering on a private copy of
# stdout (fd 1 itself is pointed at stderr, so a stray print cannot corrupt a frame).

_channel: int | None = None


def working_on(where: str) -> None:
    """Say what a bounded call is working on, so an overrun names it (e.g.
    ``template field 'html'``); a no-op outside a bounded worker."""
    if _channel is not None:
        _write_frame(_channel, msgspec.msgpack.encode(("at", where)))


def _serve() -> None:
    global _channel
    channel = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            size = _HEADER.unpack(_read_exact(0, _HEADER.size, None))[0]
            message = pickle.loads(_read_exact(0, size, None))  # noqa: S301 (from our parent)
        except _Lost:
            return
        if message[0] == "hello":
            _, path, warm = message
            sys.path[:] = path
            for module in warm:
                with contextlib.suppress(Exception):
                    __import__(module)
            _write_frame(channel, msgspec.msgpack.encode(("ready", None)))
            continue
        _, payload, seconds, memory, max_output = message
        _channel = channel
        try:
            answer = _call(payload, seconds, memory)
        finally:
            _channel = None
        if len(answer) > max_output:
            answer = msgspec.msgpack.encode(("output", len(answer)))
        _write_frame(channel, answer)


def _call(payload: bytes, seconds: float, memory: int) -> bytes:
    try:
        fn, args, kwargs = pickle.loads(payload)  # noqa: S301 (from our parent)
    except Exception as exc:
        return msgspec.msgpack.encode(("error", f"cannot load the call: {exc}"))
    with _limits(seconds, memory):
        try:
            result = fn(*args, **kwargs)
            return msgspec.msgpack.encode(("ok", result))
        except MemoryError:
            answer: tuple[Any, ...] = ("memory", "")
        except RetryableError as exc:
            answer = ("retryable", str(exc), exc.retry_after)
        except PermanentError as exc:
            answer = ("permanent", str(exc))
        except ActionError as exc:
            answer = ("action", str(exc))
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
    return msgspec.msgpack.encode(answer)


@contextlib.contextmanager
def _limits(seconds: float, memory: int) -> Any:
    """``RLIMIT_CPU`` and ``RLIMIT_AS`` for one call, relative to what the worker has
    already used (soft limits only, so they can be lifted again afterwards)."""
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall-clock bound still holds
        yield
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + seconds) + 1
    previous = {
        kind: resource.getrlimit(kind) for kind in (resource.RLIMIT_CPU, resource.RLIMIT_AS)
    }
    wanted = {resource.RLIMIT_CPU: cpu}
    space = _address_space()
    if space is not None:
        wanted[resource.RLIMIT_AS] = space + memory
    for kind, soft in wanted.items():
        hard = previous[kind][1]
        resource.setrlimit(
            kind, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
        )
    try:
        yield
    finally:
        for kind, limits in previous.items():
            resource.setrlimit(kind, limits)


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")
