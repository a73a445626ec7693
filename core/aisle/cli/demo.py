"""``aisle demo``: seed the demo studio, or reset its journey and couples."""

from __future__ import annotations

import asyncio

import click

from aisle.cli.options import data_dir_option, load_settings
from aisle.cli.seed import DemoSeed, ensure_demo, reset_demo
from aisle.demo import DEMO_JOURNEY_NAME
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store

__all__ = ["command"]


async def _run(settings: Settings, reset: bool) -> DemoSeed:
    store = await Store.open(settings)
    try:
        runtime = Runtime(store, load_registry(), settings)
        return await (reset_demo(runtime) if reset else ensure_demo(runtime))
    finally:
        await store.close()


@click.command("demo")
@click.option(
    "--reset",
    is_flag=True,
    help="Exit the demo couples' enrollments, soft-delete the demo journey and couples, "
    "and seed fresh ones (the studio and its tokens stay).",
)
@data_dir_option
def command(reset: bool, data_dir: str | None) -> None:
    """Seed the demo studio (slug `demo`) with its journey and three couples."""
    seed = asyncio.run(_run(load_settings(data_dir), reset))
    org = seed.organization
    if seed.journey_id is None:
        click.echo(f"The demo studio {org.name!r} (slug {org.slug}) is already there.")
        return
    click.echo(
        f"{'Created' if seed.created else 'Reset'} {org.name!r} (slug {org.slug}): "
        f'"{DEMO_JOURNEY_NAME}" published, {seed.contacts} couples enrolled.'
    )
    if seed.owner_password is not None:
        click.echo(
            f"Dashboard sign-in (shown once, keep it): {seed.owner_email} / {seed.owner_password}"
        )
    if seed.owner_token is not None:
        click.echo(f"Owner token (shown once, keep it): {seed.owner_token}")
