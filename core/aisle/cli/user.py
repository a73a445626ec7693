"""``aisle user add|set-password``: a studio's people and their dashboard passwords.

Passwords are read from a hidden prompt (asked twice) or, for scripts, one line of
standard input with ``--password-stdin``; never from an argument, which would land in
the shell's history and the process list.
"""

from __future__ import annotations

import asyncio
import sys

import click

from aisle.cli.options import data_dir_option, load_settings
from aisle.cli.token import OPERATOR, organization_by_slug
from aisle.domain.user import ROLES, Role
from aisle.services.access import Access
from aisle.services.errors import Refused
from aisle.services.passwords import Passwords
from aisle.settings import Settings
from aisle.storage.errors import Conflict
from aisle.storage.store import Store

__all__ = ["command"]


async def _add(settings: Settings, org_slug: str, email: str, role: Role, name: str) -> str:
    store = await Store.open(settings)
    try:
        org = await organization_by_slug(store, org_slug)
        user = await Access(store, store.for_org(org), OPERATOR).create_user(
            email=email, role=role, name=name
        )
        return f"Added {user.email} to {org.name!r} as {user.role} (id {user.id})."
    except Conflict as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    finally:
        await store.close()


async def _set_password(settings: Settings, org_slug: str, email: str, password: str) -> str:
    store = await Store.open(settings)
    try:
        org = await organization_by_slug(store, org_slug)
        scope = store.for_org(org)
        user = await scope.users.by_email(email)
        if user is None:
            raise click.BadParameter(
                f"{org.name!r} has no user {email!r} (`aisle user add` adds one)",
                param_hint="EMAIL",
            )
        try:
            await Passwords(store, scope, OPERATOR).set_password(user.id, password)
        except Refused as exc:
            raise click.ClickException(exc.detail) from None
        return f"Password of {user.email} in {org.name!r} set; their sessions ended."
    finally:
        await store.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@click.group("user")
def command() -> None:
    """Manage a studio's users (who sign in to the dashboard)."""


@command.command("add")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organization (e.g. demo).")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="viewer reads, editor edits journeys, admin and owner manage.",
)
@click.option("--name", default="", help="The person's name, as the dashboard shows it.")
@data_dir_option
def add(email: str, org_slug: str, role: Role, name: str, data_dir: str | None) -> None:
    """Add a user to a studio (then `aisle user set-password` lets them sign in)."""
    click.echo(asyncio.run(_add(load_settings(data_dir), org_slug, email, role, name)))


@command.command("set-password")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organization (e.g. demo).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
@data_dir_option
def set_password(email: str, org_slug: str, password_stdin: bool, data_dir: str | None) -> None:
    """Set the dashboard password of a studio's user (at least 12 characters)."""
    settings = load_settings(data_dir)
    password = _read_password(password_stdin)
    click.echo(asyncio.run(_set_password(settings, org_slug, email, password)))
