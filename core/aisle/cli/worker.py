"""``aisle worker``: execute action runs handed over through Redis (production)."""

from __future__ import annotations

import click

from aisle import logs, metrics
from aisle.cli.options import data_dir_option, load_plugins, load_settings, require_redis
from aisle.jobs.processes import run_worker

__all__ = ["command"]


@click.command("worker")
@data_dir_option
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this process's Prometheus metrics on this port (all interfaces).",
)
def command(data_dir: str | None, metrics_port: int | None) -> None:
    """Run dramatiq worker threads executing action runs until SIGTERM/SIGINT.

    Needs AISLE_REDIS_URL and AISLE_SECRET_KEY; run as many as the load needs.
    """
    logs.configure()
    if metrics_port is not None:
        metrics.serve_metrics(metrics_port)
    settings = load_settings(data_dir)
    require_redis(settings, "worker")
    run_worker(settings, registry=load_plugins())
