"""``aisle operator token create|list|revoke``: the operator's credentials for the
organizations API (``/api/v1/organizations``), stored hashed.

Whoever can run these against the database is the operator: that access is what an
operator token stands for.
"""

from __future__ import annotations

import asyncio

import click
import msgspec

from aisle.cli.options import data_dir_option, load_settings
from aisle.settings import Settings
from aisle.storage.errors import NotFound
from aisle.storage.operator_tokens import OperatorToken
from aisle.storage.store import Store

__all__ = ["command"]


async def _create(settings: Settings, name: str) -> str:
    store = await Store.open(settings)
    try:
        _, plaintext = await store.operator_tokens.create(name=name)
        return plaintext
    finally:
        await store.close()


async def _list(settings: Settings, include_revoked: bool) -> list[OperatorToken]:
    store = await Store.open(settings)
    try:
        return await store.operator_tokens.list(include_revoked=include_revoked)
    finally:
        await store.close()


async def _revoke(settings: Settings, token_id: str) -> OperatorToken:
    store = await Store.open(settings)
    try:
        return await store.operator_tokens.revoke(token_id)
    except NotFound:
        raise click.BadParameter(
            f"no unrevoked operator token {token_id!r} (see `aisle operator token list`)",
            param_hint="ID",
        ) from None
    finally:
        await store.close()


@click.group("operator")
def command() -> None:
    """The operator's own credentials (for the organizations API)."""


@command.group("token")
def token() -> None:
    """Manage operator tokens."""


@token.command("create")
@click.option("--name", required=True, help="Who or what holds it (shown in lists).")
@data_dir_option
def create(name: str, data_dir: str | None) -> None:
    """Create an operator token and print ONLY the token (shown once; store it now)."""
    click.echo(asyncio.run(_create(load_settings(data_dir), name)))


@token.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
@data_dir_option
def list_(include_revoked: bool, as_json: bool, data_dir: str | None) -> None:
    """List operator tokens: id, name, prefix, created, last used (never the secret)."""
    tokens = asyncio.run(_list(load_settings(data_dir), include_revoked))
    if as_json:
        click.echo(msgspec.json.encode(tokens).decode())
        return
    for t in tokens:
        revoked = f"\trevoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        created = f"{t.created_at:%Y-%m-%d %H:%M}" if t.created_at else ""
        click.echo(f"{t.id}\t{t.name}\t{t.prefix}…\tcreated {created}\t{used}{revoked}")


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@data_dir_option
def revoke(token_id: str, data_dir: str | None) -> None:
    """Revoke an operator token (it stops working at once)."""
    revoked = asyncio.run(_revoke(load_settings(data_dir), token_id))
    click.echo(f"Revoked operator token {revoked.name!r} ({revoked.prefix}…).")
