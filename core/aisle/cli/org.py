"""``aisle org create|list``: open a studio (with its first owner token) and list them."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from zoneinfo import available_timezones

import click
import msgspec

from aisle.cli.options import data_dir_option, load_settings
from aisle.domain.organization import SLUG_PATTERN, Organization
from aisle.settings import Settings
from aisle.storage.errors import Conflict
from aisle.storage.organizations import NewStudio
from aisle.storage.store import Store

__all__ = ["command"]


def _organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "timezone": org.timezone,
        "created_at": org.created_at.isoformat() if org.created_at else None,
    }


async def _create(settings: Settings, slug: str, name: str, timezone: str) -> NewStudio:
    store = await Store.open(settings)
    try:
        return await store.organizations.open_studio(
            slug=slug, name=name, timezone=timezone, actor="operator:cli"
        )
    except Conflict as exc:
        raise click.BadParameter(str(exc), param_hint="SLUG") from None
    finally:
        await store.close()


async def _list(settings: Settings) -> list[Organization]:
    store = await Store.open(settings)
    try:
        return await store.organizations.list()
    finally:
        await store.close()


def _check_slug(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.match(SLUG_PATTERN, value):
        raise click.BadParameter(
            f"{value!r}: use lowercase letters, digits and inner hyphens (golden-hour), "
            "at most 63 characters"
        )
    return value


def _check_timezone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value not in available_timezones():
        raise click.BadParameter(f"{value!r} is not an IANA timezone (e.g. Europe/London)")
    return value


@click.group("org")
def command() -> None:
    """Manage organizations (studios): the operator's commands."""


@command.command("create")
@click.argument("slug", callback=_check_slug)
@click.option("--name", required=True, help="The studio's name, as couples see it.")
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    callback=_check_timezone,
    help="IANA timezone for dates and the send window.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the studio and its token as JSON.")
@data_dir_option
def create(slug: str, name: str, timezone: str, as_json: bool, data_dir: str | None) -> None:
    """Open a studio and print its first owner token (shown once; store it now).

    The token alone goes to standard output (TOKEN=$(aisle org create …) works); what
    was created goes to standard error. With --json, both go to standard output.
    """
    opened = asyncio.run(_create(load_settings(data_dir), slug, name, timezone))
    org, token = opened.organization, opened.owner_token
    if as_json:
        document = {
            "organization": _organization(org),
            "owner_token": {"id": token.id, "prefix": token.prefix, "token": opened.token},
        }
        click.echo(msgspec.json.encode(document).decode())
        return
    click.echo(
        f"Opened {org.name!r} (slug {org.slug}, id {org.id}); its owner token follows, shown once:",
        err=True,
    )
    click.echo(opened.token)


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the studios as JSON.")
@data_dir_option
def list_(as_json: bool, data_dir: str | None) -> None:
    """List the studios: slug, name, timezone, id."""
    orgs = asyncio.run(_list(load_settings(data_dir)))
    if as_json:
        click.echo(msgspec.json.encode([_organization(o) for o in orgs]).decode())
        return
    if not orgs:
        click.echo("No organizations yet: `aisle org create SLUG --name NAME` opens one.")
        return
    for org in orgs:
        click.echo(f"{org.slug}\t{org.name}\t{org.timezone}\t{org.id}")
