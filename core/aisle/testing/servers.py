"""Serving the Aisle app on a real local socket: in this event loop, a thread, or a process.

Tests and benches talk to the API the way a canvas does, over TCP on 127.0.0.1. Each
helper yields the base URL once the server answers and stops it when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import uvicorn

__all__ = ["free_port", "serve_in_loop", "serve_in_process", "serve_in_thread"]

_START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve_in_loop(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` in the running event loop, so it can share the caller's store (and
    its asyncpg pool, which belongs to this loop) and test clock. The app's lifespan
    runs before the first request."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(_START_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` from a thread with its own event loop, for synchronous callers."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@asynccontextmanager
async def serve_in_process(env: Mapping[str, str]) -> AsyncIterator[str]:
    """``uvicorn --factory aisle.api:create_app`` in a subprocess configured by ``env``
    (``AISLE_*`` on top of this process's environment), ready once ``/healthz``
    answers."""
    port = free_port()
    # stderr goes to a file, not a pipe: nobody reads a pipe while the server runs.
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "aisle.api:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(30):
                while True:
                    if process.returncode is not None:
                        errors.seek(0)
                        raise RuntimeError(
                            f"API process exited ({process.returncode}): {errors.read().decode()}"
                        )
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
            yield base
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    async with asyncio.timeout(10):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()
