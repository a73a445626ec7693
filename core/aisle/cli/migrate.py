"""``aisle migrate``: bring the configured database up to the current schema."""

from __future__ import annotations

import asyncio

import click

from aisle.cli.options import data_dir_option, load_settings
from aisle.settings import redact_url
from aisle.storage.migrate import migrate

__all__ = ["command"]


@click.command("migrate")
@data_dir_option
def command(data_dir: str | None) -> None:
    """Apply the database migrations that have not run yet (safe to run again)."""
    settings = load_settings(data_dir)
    applied = asyncio.run(migrate(settings))
    where = redact_url(settings.database_url)
    if applied:
        click.echo(f"Applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        click.echo(f"{where} is up to date.")
