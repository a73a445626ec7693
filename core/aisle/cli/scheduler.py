"""``aisle scheduler``: fire due wake-ups and relay due action runs to Redis (production)."""

from __future__ import annotations

import logging

import click

from aisle.cli.options import data_dir_option, load_plugins, load_settings, require_redis
from aisle.jobs.processes import run_scheduler

__all__ = ["command"]


@click.command("scheduler")
@data_dir_option
def command(data_dir: str | None) -> None:
    """Fire due wake-ups, recover stranded events, expire lost claims and hand due
    action runs to the workers, until SIGTERM/SIGINT.

    Needs AISLE_REDIS_URL and AISLE_SECRET_KEY; several may run (PostgreSQL row locks
    share the work).
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    settings = load_settings(data_dir)
    require_redis(settings, "scheduler")
    run_scheduler(settings, registry=load_plugins())
