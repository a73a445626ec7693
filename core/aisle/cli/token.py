"""``aisle token create|list|revoke``: a studio's API tokens from the command line.

``create`` prints the new token alone, for scripts; ``list`` never shows a secret
(tokens are stored as hashes).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import click
import msgspec

from aisle.cli.options import data_dir_option, load_settings
from aisle.domain.api_token import ApiToken
from aisle.domain.organization import Organization
from aisle.domain.user import ROLES, Role
from aisle.services.access import Access
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.errors import NotFound
from aisle.storage.store import Store

__all__ = ["OPERATOR", "command", "create_token", "organization_by_slug"]

OPERATOR = Operator(actor="operator:cli")


async def organization_by_slug(store: Store, org_slug: str) -> Organization:
    org = await store.organizations.by_slug(org_slug)
    if org is None:
        known = ", ".join(o.slug for o in await store.organizations.list()) or "none yet"
        raise click.BadParameter(
            f"no organization with slug {org_slug!r} (known: {known}); "
            "`aisle org create` opens one, `aisle serve` or `aisle demo` the demo",
            param_hint="--org",
        )
    return org


async def create_token(
    settings: Settings, org_slug: str, role: Role, name: str, expires_in_days: int | None
) -> str:
    """Create the token and return its plain text (stored only as a hash)."""
    store = await Store.open(settings)
    try:
        org = await organization_by_slug(store, org_slug)
        _, plaintext = await Access(store, store.for_org(org), OPERATOR).create_token(
            name=name, role=role, expires_in_days=expires_in_days
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


async def _list(settings: Settings, org_slug: str, include_revoked: bool) -> list[ApiToken]:
    store = await Store.open(settings)
    try:
        org = await organization_by_slug(store, org_slug)
        return await store.for_org(org).tokens.list(include_revoked=include_revoked)
    finally:
        await store.close()


async def _revoke(settings: Settings, token_id: str, org_slug: str | None) -> ApiToken:
    """Revoke in the named studio, or in whichever studio has the token."""
    store = await Store.open(settings)
    try:
        orgs = (
            [await organization_by_slug(store, org_slug)]
            if org_slug
            else await store.organizations.list()
        )
        for org in orgs:
            scope = store.for_org(org)
            try:
                token = await scope.tokens.get(token_id)
            except NotFound:
                continue
            if token.revoked_at is not None:
                return token
            return await Access(store, scope, OPERATOR).revoke_token(token.id)
        raise click.BadParameter(
            f"no API token {token_id!r} (see `aisle token list --org SLUG`)", param_hint="ID"
        )
    finally:
        await store.close()


def _when(moment: datetime | None, never: str = "") -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else never


def _row(token: ApiToken) -> dict[str, Any]:
    fields = ("id", "name", "role", "prefix", "user_id", "created_at", "last_used_at")
    row = {f: getattr(token, f) for f in (*fields, "expires_at", "revoked_at")}
    return msgspec.to_builtins(row)  # type: ignore[no-any-return]


@command.command("list")
@click.option("--org", "org_slug", required=True, help="Slug of the organization.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
@data_dir_option
def list_(org_slug: str, include_revoked: bool, as_json: bool, data_dir: str | None) -> None:
    """List a studio's API tokens: id, name, role, created, last used (never the secret)."""
    tokens = asyncio.run(_list(load_settings(data_dir), org_slug, include_revoked))
    if as_json:
        click.echo(msgspec.json.encode([_row(t) for t in tokens]).decode())
        return
    for t in tokens:
        extra = f"\trevoked {_when(t.revoked_at)}" if t.revoked_at else ""
        if t.expires_at and not t.revoked_at:
            extra = f"\texpires {_when(t.expires_at)}"
        click.echo(
            f"{t.id}\t{t.name}\t{t.role}\t{t.prefix}…\tcreated {_when(t.created_at)}"
            f"\t{_when(t.last_used_at, 'never used')}{extra}"
        )


@command.command("revoke")
@click.argument("token_id", metavar="ID")
@click.option("--org", "org_slug", default=None, help="Slug of the organization (optional).")
@data_dir_option
def revoke(token_id: str, org_slug: str | None, data_dir: str | None) -> None:
    """Revoke an API token by id (it stops working at once)."""
    token = asyncio.run(_revoke(load_settings(data_dir), token_id, org_slug))
    click.echo(f"Revoked API token {token.name!r} ({token.prefix}…, {token.role}).")
