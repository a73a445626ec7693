"""The worker side of :mod:`aisle.bounded`: a loop reading calls from stdin and answering
on a private copy of stdout (fd 1 itself is pointed at stderr, so a stray print cannot
corrupt a frame).

:mod:`aisle.bounded` starts a worker by loading this file by path, not by importing it
through the ``aisle`` package, and it imports only the standard library and msgspec: a
worker imports no more of Aisle than the calls it runs need. A condition worker never
imports Aisle at all (the pool loads its one module by path too), which keeps it at a
third of a template worker's start-up time and memory.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import pickle
import select
import signal
import struct
import sys
import time
from types import ModuleType
from typing import Any

__all__ = ["HEADER", "Lost", "Overrun", "read_exact", "serve", "working_on", "write_frame"]

HEADER = struct.Struct(">I")


class Lost(Exception):
    """The pipe closed: the other side exited or was killed."""


class Overrun(Exception):
    """The deadline passed before the whole frame arrived."""


def read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise Overrun
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise Overrun
        chunk = os.read(fd, min(size - len(buffer), 1 << 20))
        if not chunk:
            raise Lost("the worker exited")
        buffer += chunk
    return bytes(buffer)


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def load_by_path(name: str, path: str) -> ModuleType:
    """Load the module at ``path`` as ``name`` without importing its parent packages."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolve(module: str, qualname: str) -> Any:
    """The object ``qualname`` of ``module`` (a module already loaded by path is used as is:
    ``import_module`` finds it in ``sys.modules`` without importing its parents)."""
    found: Any = sys.modules.get(module) or importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


_channel: int | None = None


def working_on(where: str) -> None:
    """Say what a bounded call is working on, so an overrun names it (e.g.
    ``template field 'html'``); a no-op outside a bounded worker."""
    if _channel is not None:
        import msgspec

        write_frame(_channel, msgspec.msgpack.encode(("at", where)))


def serve() -> None:
    global _channel
    channel = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    msgpack: Any = None
    limits = _Limits()
    while True:
        try:
            size = HEADER.unpack(read_exact(0, HEADER.size, None))[0]
            message = pickle.loads(read_exact(0, size, None))  # noqa: S301 (from our parent)
        except Lost:
            return
        if message[0] == "hello":
            _, path, standalone, warm = message
            sys.path[:] = path
            import msgspec

            msgpack = msgspec.msgpack
            for name, file in standalone:
                load_by_path(name, file)
            for name in warm:
                if name not in sys.modules:
                    with contextlib.suppress(Exception):
                        importlib.import_module(name)
            write_frame(channel, msgpack.encode(("ready", None)))
            continue
        _, module, qualname, payload, seconds, memory, max_output = message
        _channel = channel
        try:
            with limits(seconds, memory):
                answer = _call(msgpack, module, qualname, payload)
        finally:
            _channel = None
        if len(answer) > max_output:
            answer = msgpack.encode(("output", len(answer)))
        write_frame(channel, answer)


def _call(msgpack: Any, module: str, qualname: str, payload: bytes) -> bytes:
    try:
        fn = resolve(module, qualname)
        args, kwargs = pickle.loads(payload)  # noqa: S301 (from our parent)
    except Exception as exc:
        return bytes(msgpack.encode(("error", f"cannot load the call: {exc}")))
    try:
        return bytes(msgpack.encode(("ok", fn(*args, **kwargs))))
    except MemoryError:
        answer: tuple[Any, ...] = ("memory", "")
    except Exception as exc:
        answer = _classify(exc)
    return bytes(msgpack.encode(answer))


def _classify(exc: Exception) -> tuple[Any, ...]:
    # Only a call that imported Aisle can raise its errors; a worker that did not (a
    # condition worker) must not import it just to find out.
    contracts = sys.modules.get("aisle.contracts.actions")
    if contracts is not None:
        if isinstance(exc, contracts.RetryableError):
            return ("retryable", str(exc), exc.retry_after)
        if isinstance(exc, contracts.PermanentError):
            return ("permanent", str(exc))
        if isinstance(exc, contracts.ActionError):
            return ("action", str(exc))
    return ("error", f"{type(exc).__name__}: {exc}")


class _Limits:
    """``RLIMIT_CPU`` and ``RLIMIT_AS`` for one call at a time, relative to what the
    worker has already used (soft limits only, so they can be lifted again afterwards).

    Set for every call, so it costs a few system calls and no more: the original limits
    are read once, ``/proc/self/statm`` stays open.
    """

    def __init__(self) -> None:
        try:
            import resource
        except ImportError:  # not POSIX: the parent's wall-clock bound still holds
            self.resource: Any = None
            return
        self.resource = resource
        self.original = {
            kind: resource.getrlimit(kind) for kind in (resource.RLIMIT_CPU, resource.RLIMIT_AS)
        }
        try:
            self.statm: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self.statm = None
        self.page = os.sysconf("SC_PAGE_SIZE")

    @contextlib.contextmanager
    def __call__(self, seconds: float, memory: int) -> Any:
        resource = self.resource
        if resource is None:
            yield
            return
        used = resource.getrusage(resource.RUSAGE_SELF)
        self._set(resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + seconds) + 1)
        space = self._address_space()
        if space is not None:
            self._set(resource.RLIMIT_AS, space + memory)
        try:
            yield
        finally:
            for kind, limits in self.original.items():
                resource.setrlimit(kind, limits)

    def _set(self, kind: int, soft: int) -> None:
        hard = self.original[kind][1]
        limit = soft if hard == self.resource.RLIM_INFINITY else min(soft, hard)
        self.resource.setrlimit(kind, (limit, hard))

    def _address_space(self) -> int | None:
        if self.statm is None:
            return None
        try:
            return int(os.pread(self.statm, 128, 0).split()[0]) * int(self.page)
        except (OSError, ValueError, IndexError):
            return None
