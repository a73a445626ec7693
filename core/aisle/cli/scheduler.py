"""``aisle scheduler``: fire due wake-ups and relay due action runs to Redis (production)."""

from __future__ import annotations

import click

from aisle import logs, metrics
from aisle.cli.options import data_dir_option, load_plugins, load_settings, require_redis
from aisle.jobs.processes import run_scheduler

__all__ = ["command"]


@click.command("scheduler")
@data_dir_option
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this process's Prometheus metrics on this port (all interfaces).",
)
def command(data_dir: str | None, metrics_port: int | None) -> None:
    """Fire due wake-ups, recover stranded events, expire lost claims and hand due
    action runs to the workers, until SIGTERM/SIGINT.

    Needs AISLE_REDIS_URL and AISLE_SECRET_KEY; several may run (PostgreSQL row locks
    share the work).
    """
    logs.configure()
    if metrics_port is not None:
        metrics.serve_metrics(metrics_port)
    settings = load_settings(data_dir)
    require_redis(settings, "scheduler")
    run_scheduler(settings, registry=load_plugins())
