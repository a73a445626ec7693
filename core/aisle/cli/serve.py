"""``aisle serve``: the HTTP API and dashboard, with the jobs in-process unless Redis is set.

Start-up order: settings → plugins (load errors reported) → migrate → uvicorn listening
→ demo studio on first run (its owner token printed once) → embedded jobs (no
``AISLE_REDIS_URL``) → the banner, which shows the port actually taken (``--port 0``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator

import click
import uvicorn

from aisle import __version__, bounded, logs
from aisle.api import create_app
from aisle.cli.options import data_dir_option, load_plugins, load_settings
from aisle.cli.seed import DemoSeed, ensure_demo
from aisle.contracts.registry import Registry
from aisle.jobs.deps import JobDeps
from aisle.jobs.embedded import EmbeddedJobs
from aisle.jobs.shutdown import shutdown_grace
from aisle.runtime import Runtime
from aisle.settings import Settings, redact_url
from aisle.storage.store import Store

__all__ = ["command", "serve"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, with an event set once its sockets listen."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which would kill
        # the process before the embedded jobs and the store are stopped; this stops
        # serving on the signal and lets `serve` finish its clean-up and exit 0.
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.listening.set()


def _listening_port(server: uvicorn.Server, fallback: int) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    return fallback


def _banner(settings: Settings, url: str, seed: DemoSeed) -> None:
    where = redact_url(settings.database_url)
    mode = "in-process" if settings.embedded else "aisle worker + aisle scheduler (Redis)"
    click.echo(f"Aisle {__version__} on {url} (database: {where}; jobs: {mode})")
    click.echo(f"Dashboard:   {url}/dashboard/")
    click.echo(
        f"API:         {url}/api/v1  (reference: {url}/dashboard/api; OpenAPI: {url}/schema)"
    )
    if seed.owner_token is not None:
        click.echo(
            f'Owner token for "{seed.organization.slug}" (shown once, keep it): {seed.owner_token}'
        )
    if seed.owner_password is not None:
        click.echo(
            f"Dashboard sign-in (shown once, keep it): {seed.owner_email} / {seed.owner_password}"
        )
    if settings.setting("smtp_host") is None:
        click.echo(
            "Note: AISLE_SMTP_HOST is not set, so email actions fail (they are kept as dead "
            "runs, retryable once SMTP is configured).",
            err=True,
        )
    sys.stdout.flush()


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket other ``aisle serve --reuse-port`` processes bind too: the
    kernel spreads connections across them (SO_REUSEPORT), one port, no extra proxy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


async def serve(
    settings: Settings, registry: Registry, host: str, port: int, *, reuse_port: bool = False
) -> None:
    """Run until SIGINT/SIGTERM; the store and the embedded jobs are stopped cleanly."""
    store = await Store.open(settings)  # migrates
    jobs: EmbeddedJobs | None = None
    # Held past the app's lifespan: the embedded jobs stop after the server does, and
    # their last runs still render templates and evaluate conditions.
    bounded.hold()
    try:
        runtime = Runtime(store, registry, settings)
        # One runtime for the API and the embedded jobs: work queued by a request wakes
        # the jobs at once instead of at their next poll.
        app = create_app(settings, registry, store=store, runtime=runtime)
        grace = shutdown_grace(settings)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on",
            log_config=None,
            # On SIGTERM uvicorn stops accepting, lets requests in flight finish for up to
            # the grace, then closes what is left.
            timeout_graceful_shutdown=max(1, round(grace)),
        )
        server = _Server(config)
        sockets = [_shared_socket(host, port)] if reuse_port else None
        serving = asyncio.create_task(server.serve(sockets=sockets))
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if server.started:
            # Seeded only once the port is ours, so a first run that cannot bind does
            # not create (and lose) the owner token it would have shown.
            seed = await ensure_demo(runtime)
            if settings.embedded:
                jobs = EmbeddedJobs(JobDeps.of(runtime))
                await jobs.start()
            shown_host = host if ":" not in host else f"[{host}]"
            _banner(settings, f"http://{shown_host}:{_listening_port(server, port)}", seed)
        await serving
    finally:
        try:
            if jobs is not None:
                # Attempts under way finish within the grace; the rest give back their
                # claims.
                await jobs.stop(grace=shutdown_grace(settings))
            await store.close()
        finally:
            await asyncio.to_thread(bounded.release)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--reuse-port",
    is_flag=True,
    help="Share the port with other `aisle serve --reuse-port` processes (SO_REUSEPORT).",
)
@data_dir_option
def command(host: str, port: int, reuse_port: bool, data_dir: str | None) -> None:
    """Serve the API and the dashboard (jobs in-process unless AISLE_REDIS_URL is set)."""
    logs.configure()
    settings = load_settings(data_dir)
    registry = load_plugins()
    asyncio.run(serve(settings, registry, host, port, reuse_port=reuse_port))
