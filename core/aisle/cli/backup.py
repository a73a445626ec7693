"""``aisle backup``: a whole organization to one file (``aisle restore`` reads it back).

Both are the operator's: whoever runs them reaches the database directly. A progress
bar shows on a terminal (standard error); ``--json`` prints one document instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aisle.cli.options import data_dir_option, load_settings
from aisle.services.backup import Backups, BackupSummary
from aisle.services.errors import Refused
from aisle.settings import Settings
from aisle.storage.store import Store

__all__ = ["command", "describe", "progress_bar", "run_with_progress"]


def progress_bar(as_json: bool) -> Progress | None:
    console = Console(stderr=True)
    if as_json or not console.is_terminal:
        return None
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def run_with_progress(
    settings: Settings,
    work: Callable[[Backups, Callable[[str, int, int], None]], Awaitable[BackupSummary]],
    bar: Progress | None,
    label: str,
) -> BackupSummary:
    store = await Store.open(settings)
    task = bar.add_task(label, total=None) if bar is not None else None

    def progress(table: str, done: int, total: int) -> None:
        if bar is not None and task is not None:
            bar.update(task, description=f"{label}: {table}", completed=done, total=total)

    try:
        if bar is not None:
            bar.start()
        return await work(Backups(store), progress)
    except Refused as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        if bar is not None:
            bar.stop()
        await store.close()


def describe(summary: BackupSummary) -> dict[str, Any]:
    return {
        "organization_id": summary.organization_id,
        "slug": summary.slug,
        "file": summary.path,
        "rows": summary.rows,
        "tables": summary.counts,
        "with_log": summary.with_log,
    }


@click.command("backup")
@click.option("--org", "org_slug", required=True, help="Slug of the studio to back up.")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write."
)
@click.option("--with-log", is_flag=True, help="Carry the automation log too (it can be large).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@data_dir_option
def command(
    org_slug: str, output: str, with_log: bool, as_json: bool, data_dir: str | None
) -> None:
    """Write a whole studio to one file: journeys with every version and draft, couples,
    enrollments, settings, users, tokens, CRM connections, tasks and runs.

    Secrets stay as stored: CRM credentials and studio secrets remain encrypted with
    this deployment's key, which the restoring one needs (or as a previous key).
    """
    bar = progress_bar(as_json)
    summary = asyncio.run(
        run_with_progress(
            load_settings(data_dir),
            lambda backups, progress: backups.backup(
                org_slug, output, with_log=with_log, progress=progress
            ),
            bar,
            f"backing up {org_slug}",
        )
    )
    if as_json:
        click.echo(msgspec.json.encode(describe(summary)).decode())
        return
    click.echo(f"Backed up {summary.slug}: {summary.rows} rows to {summary.path}")
