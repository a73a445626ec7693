"""``aisle restore``: a studio from an ``aisle backup`` file into this database."""

from __future__ import annotations

import asyncio

import click
import msgspec

from aisle.cli.backup import describe, progress_bar, run_with_progress
from aisle.cli.options import data_dir_option, load_settings

__all__ = ["command"]


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--into-org",
    "into_slug",
    default=None,
    help="Slug for the restored studio [default: the one it had].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@data_dir_option
def command(file: str, into_slug: str | None, as_json: bool, data_dir: str | None) -> None:
    """Restore a studio from a backup file into this database (ids kept, so the
    database must not hold it already). All or nothing: one transaction."""
    bar = progress_bar(as_json)
    summary = asyncio.run(
        run_with_progress(
            load_settings(data_dir),
            lambda backups, progress: backups.restore(file, into_slug=into_slug, progress=progress),
            bar,
            "restoring",
        )
    )
    if as_json:
        click.echo(msgspec.json.encode(describe(summary)).decode())
        return
    click.echo(f"Restored {summary.slug} ({summary.organization_id}): {summary.rows} rows")
