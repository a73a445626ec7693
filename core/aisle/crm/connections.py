"""CRM connections of one organization: created, tested, changed and deleted by an admin.

Credentials are checked against the provider's credentials struct, encrypted with the
operator's key (``AISLE_SECRET_KEY``) and never handed back: a connection reads as
:class:`~aisle.domain.crm_connection.CRMConnection`, which does not hold them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from aisle.contracts.crm import CRMProvider, RateLimited
from aisle.contracts.log import LogKind
from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.crm.mapping import MappingError, check_field
from aisle.crm.subscriptions import inbound_url, subscribe, unsubscribe
from aisle.domain.crm_connection import CONFLICT_POLICIES, CRMConnection, SyncDirection
from aisle.services.errors import FieldError, Refused
from aisle.services.key_rotation import rotate_crm_credentials
from aisle.services.roles import Actor, ensure_role
from aisle.storage.errors import Conflict
from aisle.storage.store import OrgScope

__all__ = ["MIN_SCHEDULE_SECONDS", "ConnectionService", "ConnectionTest", "rotate_credentials"]

log = logging.getLogger(__name__)

MIN_SCHEDULE_SECONDS = 300
"""The shortest period a connection may sync on (CRMs rate-limit their APIs)."""

_DIRECTIONS = ("pull", "push", "both")


class ConnectionTest(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the connection's credentials work: ``detail`` says what was tried."""

    ok: bool
    detail: str


def _refused(field: str, message: str) -> Refused:
    return Refused(422, f"{field}: {message}", errors=[FieldError(message=message, field=field)])


class ConnectionService:
    """The connections of ``scope``, managed as ``actor`` (admins; viewers may read)."""

    def __init__(self, deps: CRMDeps, scope: OrgScope, actor: Actor) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor

    async def list(self) -> list[CRMConnection]:
        ensure_role(self.actor, "viewer", "listing CRM connections")
        return await self.scope.crm_connections.list()

    async def get(self, connection_id: str) -> CRMConnection:
        ensure_role(self.actor, "viewer", "reading a CRM connection")
        return await self.scope.crm_connections.get(connection_id)

    async def create(
        self,
        *,
        provider: str,
        name: str,
        credentials: Mapping[str, Any],
        direction: SyncDirection = "pull",
        field_mapping: Mapping[str, str] | None = None,
        conflicts: Mapping[str, str] | None = None,
        protected: Sequence[str] | None = None,
        schedule_seconds: int | None = None,
    ) -> CRMConnection:
        """A new connection; the mapping starts from the provider's defaults, ``field_mapping``
        entries replace or add to them (an empty remote name drops one)."""
        ensure_role(self.actor, "admin", "connecting a CRM")
        registration = self.deps.provider(provider)
        if not name.strip():
            raise _refused("name", "give the connection a name")
        encrypted = self.deps.cipher.encrypt(_checked_credentials(registration, credentials))
        mapping = _mapping({**registration.field_mapping, **(field_mapping or {})})
        _check_direction(registration, direction)
        settings = _policy_settings({}, conflicts, protected)
        _check_schedule(registration, schedule_seconds)
        async with self.deps.store.transaction():
            try:
                connection = await self.scope.crm_connections.create(
                    provider=provider,
                    name=name.strip(),
                    credentials=encrypted,
                    direction=direction,
                    field_mapping=mapping,
                    settings=settings,
                    schedule_seconds=schedule_seconds,
                )
            except Conflict as exc:
                error = FieldError(message=str(exc), field="name")
                raise Refused(409, str(exc), errors=[error]) from None
            await self.scope.log.append(
                LogKind.CRM_CONNECTION_CREATED,
                actor=self.actor.actor,
                message=f"{provider} connection {connection.name!r} created ({direction})",
                data={"connection_id": connection.id, "provider": provider},
            )
        return await subscribe(self.deps, self.scope, connection)

    async def update(
        self,
        connection_id: str,
        *,
        credentials: Mapping[str, Any] | None = None,
        direction: SyncDirection | None = None,
        field_mapping: Mapping[str, str] | None = None,
        conflicts: Mapping[str, str] | None = None,
        protected: Sequence[str] | None = None,
        schedule_seconds: int | None = None,
        unschedule: bool = False,
        enabled: bool | None = None,
    ) -> CRMConnection:
        """Change what is given; ``field_mapping`` replaces the mapping, ``unschedule``
        stops periodic syncs."""
        ensure_role(self.actor, "admin", "changing a CRM connection")
        current = await self.scope.crm_connections.get(connection_id)
        registration = self.deps.provider(current.provider)
        encrypted = (
            self.deps.cipher.encrypt(_checked_credentials(registration, credentials))
            if credentials is not None
            else None
        )
        if direction is not None:
            _check_direction(registration, direction)
        mapping = _mapping(field_mapping) if field_mapping is not None else None
        settings = (
            _policy_settings(current.settings, conflicts, protected)
            if conflicts is not None or protected is not None
            else None
        )
        _check_schedule(registration, schedule_seconds)
        now = self.deps.store.clock.now()
        changed = [
            name
            for name, value in (
                ("credentials", credentials),
                ("direction", direction),
                ("field_mapping", field_mapping),
                ("conflicts", conflicts),
                ("protected", protected),
                ("schedule_seconds", schedule_seconds),
                ("enabled", enabled),
            )
            if value is not None
        ] + (["schedule_seconds"] if unschedule else [])
        async with self.deps.store.transaction():
            updated = await self.scope.crm_connections.update(
                connection_id,
                credentials=encrypted,
                direction=direction,
                field_mapping=mapping,
                settings=settings,
                schedule_seconds=schedule_seconds,
                enabled=enabled,
                next_sync_at=now if schedule_seconds else None,
            )
            if unschedule:
                updated = await self.scope.crm_connections.unschedule(connection_id)
            await self.scope.log.append(
                LogKind.CRM_CONNECTION_UPDATED,
                actor=self.actor.actor,
                message=f"{updated.provider} connection {updated.name!r}: changed "
                f"{', '.join(changed) or 'nothing'}",
                data={"connection_id": connection_id, "fields": changed},
            )
        if enabled is True:
            return await subscribe(self.deps, self.scope, updated)
        if enabled is False:
            return await unsubscribe(self.deps, self.scope, updated)
        return updated

    async def delete(self, connection_id: str) -> None:
        ensure_role(self.actor, "admin", "deleting a CRM connection")
        connection = await self.scope.crm_connections.get(connection_id)
        # Best effort: a CRM that cannot be reached keeps hooks that post to a 404.
        await unsubscribe(self.deps, self.scope, connection)
        async with self.deps.store.transaction():
            await self.scope.crm_connections.delete(connection_id)
            await self.scope.log.append(
                LogKind.CRM_CONNECTION_DELETED,
                actor=self.actor.actor,
                message=f"{connection.provider} connection {connection.name!r} deleted",
                data={"connection_id": connection_id},
            )

    def inbound_url(self, connection: CRMConnection) -> str | None:
        """Where the CRM posts the connection's webhooks (``None``: it posts none)."""
        return inbound_url(self.deps, connection)

    async def test(self, connection_id: str) -> ConnectionTest:
        """Try the credentials: a first page of the first kind when the provider pulls;
        else only that they decrypt and fit the provider."""
        ensure_role(self.actor, "admin", "testing a CRM connection")
        connection = await self.scope.crm_connections.get(connection_id)
        try:
            provider = self.deps.provider(connection.provider)
            credentials = await self.deps.credentials(self.scope, connection)
        except UnusableConnection as exc:
            return ConnectionTest(ok=False, detail=str(exc))
        if "pull" not in provider.capabilities:
            return ConnectionTest(ok=True, detail="credentials are stored and fit the provider")
        kind = provider.pull_kinds[0]
        try:
            async with self.deps.client(provider, credentials) as client:
                page = await client.list_records(kind, None)
        except RateLimited as exc:
            return ConnectionTest(
                ok=True, detail=f"the CRM answered but asks to wait {exc.retry_after:g}s"
            )
        except Exception as exc:
            log.info("testing CRM connection %s failed: %s", connection_id, type(exc).__name__)
            return ConnectionTest(ok=False, detail=f"listing {kind} failed: {_safe(exc)}")
        total = page.total if page.total is not None else len(page.records)
        return ConnectionTest(ok=True, detail=f"listed {kind}: {total} record(s)")


def _safe(exc: Exception) -> str:
    # Exception texts of HTTP clients hold URLs, never headers; keep the type and text.
    return f"{type(exc).__name__}: {exc}"[:300]


def _checked_credentials(provider: CRMProvider, raw: Mapping[str, Any]) -> Any:
    try:
        return msgspec.to_builtins(msgspec.convert(dict(raw), provider.credentials))
    except msgspec.ValidationError as exc:
        # msgspec names the path and the expected type, never the value given.
        path = str(exc).rpartition("at `$.")[2].rstrip("`")
        field = f"credentials.{path}" if "at `$." in str(exc) else "credentials"
        raise _refused(field, f"do not fit the {provider.name} provider: {exc}") from None


def _mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    result = {}
    for aisle_field, remote in mapping.items():
        try:
            check_field(aisle_field)
        except MappingError as exc:
            raise _refused(f"field_mapping.{aisle_field}", str(exc).partition(": ")[2]) from None
        if remote:
            result[aisle_field] = remote
    return result


def _check_direction(provider: CRMProvider, direction: str) -> None:
    if direction not in _DIRECTIONS:
        raise _refused("direction", f"{direction!r} is not one of {', '.join(_DIRECTIONS)}")
    can_pull = bool({"pull", "csv_import", "webhooks"} & provider.capabilities)
    can_push = bool({"push", "csv_export"} & provider.capabilities)
    if direction in ("pull", "both") and not can_pull:
        raise _refused("direction", f"the {provider.name} provider cannot pull")
    if direction in ("push", "both") and not can_push:
        raise _refused("direction", f"the {provider.name} provider cannot push")


def _check_schedule(provider: CRMProvider, seconds: int | None) -> None:
    if seconds is None:
        return
    if seconds < MIN_SCHEDULE_SECONDS:
        raise _refused("schedule_seconds", f"sync at most every {MIN_SCHEDULE_SECONDS} seconds")
    if "pull" not in provider.capabilities:
        raise _refused("schedule_seconds", f"the {provider.name} provider does not pull")


def _policy_settings(
    current: Mapping[str, Any],
    conflicts: Mapping[str, str] | None,
    protected: Sequence[str] | None,
) -> dict[str, Any]:
    settings = dict(current)
    if conflicts is not None:
        for field, policy in conflicts.items():
            try:
                check_field(field)
            except MappingError as exc:
                raise _refused(f"conflicts.{field}", str(exc).partition(": ")[2]) from None
            if policy not in CONFLICT_POLICIES:
                raise _refused(
                    f"conflicts.{field}",
                    f"{policy!r} is not one of {', '.join(CONFLICT_POLICIES)}",
                )
        settings["conflicts"] = dict(conflicts)
    if protected is not None:
        for field in protected:
            if field.endswith("*"):
                continue
            try:
                check_field(field)
            except MappingError:
                raise _refused("protected", f"{field!r} is not a contact field") from None
        settings["protected"] = list(protected)
    return settings


async def rotate_credentials(deps: CRMDeps) -> int:
    """Re-encrypt every connection's credentials with the current key (after moving the
    old one to ``AISLE_PREVIOUS_SECRET_KEYS``); returns how many were re-encrypted.

    :raises UnusableConnection: naming a connection no configured key decrypts (the
        others are rotated first).
    """
    rotated, unreadable = await rotate_crm_credentials(deps.store, deps.cipher)
    if unreadable:
        raise UnusableConnection(
            f"credentials of connection(s) {', '.join(unreadable)} decrypt with no "
            "configured key (AISLE_SECRET_KEY, AISLE_PREVIOUS_SECRET_KEYS)"
        )
    return rotated
