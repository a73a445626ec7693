"""``aisle token create``: a new API token for an organization, printed alone for scripts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import click

from aisle.cli.options import data_dir_option, load_settings
from aisle.domain.user import ROLES, Role
from aisle.settings import Settings
from aisle.storage.store import Store

__all__ = ["command", "create_token"]


async def create_token(
    settings: Settings, org_slug: str, role: Role, name: str, expires_in_days: int | None
) -> str:
    """Create the token and return its plain text (stored only as a hash)."""
    store = await Store.open(settings)
    try:
        org = await store.organizations.by_slug(org_slug)
        if org is None:
            known = ", ".join(o.slug for o in await store.organizations.list()) or "none yet"
            raise click.BadParameter(
                f"no organization with slug {org_slug!r} (known: {known}); "
                "`aisle serve` or `aisle demo` creates the demo organization",
                param_hint="--org",
            )
        expires_at = (
            store.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        )
        async with store.transaction():
            _, plaintext = await store.for_org(org).tokens.create(
                name=name, role=role, expires_at=expires_at
            )
        return plaintext
    finally:
        await store.close()


@click.group("token")
def command() -> None:
    """Manage API tokens."""


@command.command("create")
@click.option("--org", "org_slug", required=True, help="Slug of the organization (e.g. demo).")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="What the token may do: viewer reads, editor edits journeys, admin and owner manage.",
)
@click.option("--name", default="cli", show_default=True, help="A label shown in token lists.")
@click.option(
    "--expires-in-days", type=click.IntRange(min=1), default=None, help="Expire after N days."
)
@data_dir_option
def create(
    org_slug: str, role: Role, name: str, expires_in_days: int | None, data_dir: str | None
) -> None:
    """Create a token and print ONLY the token (shown once; store it now)."""
    settings = load_settings(data_dir)
    click.echo(asyncio.run(create_token(settings, org_slug, role, name, expires_in_days)))
