"""What every ``aisle crm`` command does around its service call: open the store and the
runtime, pick the studio (``--org``) and the connection (by id or name), act as the
operator, and turn a refusal into a message saying what to do next (or, with
``--json``, into one JSON document on standard output)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click
import msgspec

from aisle.cli.options import load_plugins
from aisle.cli.token import OPERATOR, organization_by_slug
from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.organization import Organization
from aisle.runtime import Runtime
from aisle.services.errors import Refused
from aisle.settings import Settings
from aisle.storage.credentials import CredentialError
from aisle.storage.errors import NotFound
from aisle.storage.store import OrgScope, Store

__all__ = [
    "CRMCommandError",
    "Studio",
    "echo_json",
    "fail",
    "find_connection",
    "open_crm",
    "open_studio",
    "run_command",
]

T = TypeVar("T")


class CRMCommandError(click.ClickException):
    """A refusal: the message on standard error (exit 1), or with ``--json`` a problem
    document ``{"error": {"status", "detail", "errors"}}`` on standard output."""

    def __init__(
        self,
        message: str,
        *,
        as_json: bool = False,
        status: int = 400,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.as_json = as_json
        self.status = status
        self.errors = errors or []

    def show(self, file: Any = None) -> None:
        if not self.as_json:
            super().show(file)
            return
        echo_json({"error": {"status": self.status, "detail": self.message, "errors": self.errors}})


def echo_json(document: Any) -> None:
    click.echo(msgspec.json.encode(msgspec.to_builtins(document)).decode())


@dataclass(frozen=True)
class Studio:
    """One studio's CRM services, acting as the operator."""

    deps: CRMDeps
    org: Organization
    scope: OrgScope
    actor = OPERATOR


@asynccontextmanager
async def open_crm(settings: Settings) -> AsyncIterator[CRMDeps]:
    """The CRM services on a freshly opened store, closed afterwards."""
    store = await Store.open(settings)
    try:
        runtime = Runtime(store, load_plugins(), settings)
        try:
            deps = CRMDeps.of(runtime)
        except CredentialError:
            raise click.UsageError(
                "CRM connections need AISLE_SECRET_KEY (the key their credentials are "
                "encrypted with); set it as `aisle serve` has it"
            ) from None
        yield deps
    finally:
        await store.close()


@asynccontextmanager
async def open_studio(settings: Settings, org_slug: str) -> AsyncIterator[Studio]:
    async with open_crm(settings) as deps:
        org = await organization_by_slug(deps.store, org_slug)
        yield Studio(deps=deps, org=org, scope=deps.for_org(org.id))


async def find_connection(studio: Studio, ref: str) -> CRMConnection:
    """The studio's connection whose id or name is ``ref``."""
    connections = await studio.scope.crm_connections.list()
    for connection in connections:
        if ref in (connection.id, connection.name):
            return connection
    known = ", ".join(repr(c.name) for c in connections) or "none yet"
    raise click.BadParameter(
        f"no CRM connection {ref!r} in {studio.org.slug} (its connections: {known}); "
        f"`aisle crm connect PROVIDER --org {studio.org.slug} --name NAME` makes one",
        param_hint="CONNECTION",
    )


def _next_step(exc: Refused) -> str:
    if exc.status == 409 and "run" in exc.detail:
        return "; wait for it (`aisle crm status`) or cancel it (`aisle crm cancel RUN`)"
    if exc.status == 422 and any(e.field == "provider" for e in exc.errors):
        return "; `aisle plugins` lists the installed CRM providers"
    if exc.status == 422 and any((e.field or "").startswith("credentials") for e in exc.errors):
        return "; fix the credential named and connect again"
    return ""


def run_command(work: Coroutine[Any, Any, T], *, as_json: bool = False) -> T:
    """Run a command's coroutine, turning what the services refuse into a
    :class:`CRMCommandError` (click prints it and exits 1)."""
    try:
        return asyncio.run(work)
    except Refused as exc:
        errors = [msgspec.to_builtins(e) for e in exc.errors]
        raise CRMCommandError(
            exc.detail + _next_step(exc), as_json=as_json, status=exc.status, errors=errors
        ) from None
    except NotFound as exc:
        raise CRMCommandError(
            f"{exc}; `aisle crm list`, `aisle crm status` and `aisle crm held` show what there is",
            as_json=as_json,
            status=404,
        ) from None
    except UnusableConnection as exc:
        raise CRMCommandError(
            f"{exc}; `aisle crm test CONNECTION` says whether its credentials work",
            as_json=as_json,
            status=409,
        ) from None


def fail(message: str, *, as_json: bool, status: int = 400) -> NoReturn:
    raise CRMCommandError(message, as_json=as_json, status=status)
