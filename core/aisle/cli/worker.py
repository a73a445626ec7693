"""``aisle worker``: execute action runs handed over through Redis (production)."""

from __future__ import annotations

import logging

import click

from aisle.cli.options import data_dir_option, load_plugins, load_settings, require_redis
from aisle.jobs.processes import run_worker

__all__ = ["command"]


@click.command("worker")
@data_dir_option
def command(data_dir: str | None) -> None:
    """Run dramatiq worker threads executing action runs until SIGTERM/SIGINT.

    Needs AISLE_REDIS_URL and AISLE_SECRET_KEY; run as many as the load needs.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    settings = load_settings(data_dir)
    require_redis(settings, "worker")
    run_worker(settings, registry=load_plugins())
