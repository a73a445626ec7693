"""What the CRM services work with: the runtime, the credential cipher, outbound HTTP and
a sleeper (tests wait out a ``Retry-After`` without waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from aisle.contracts.crm import CRMClient, CRMProvider
from aisle.crm.refresh import RefreshFailed, refreshed
from aisle.domain.addresses import phone_region
from aisle.domain.crm_connection import CRMConnection
from aisle.env import env_number
from aisle.http import client as http_client
from aisle.runtime.service import Runtime
from aisle.services.errors import FieldError, Refused
from aisle.storage.credentials import CredentialCipher, CredentialError
from aisle.storage.crm import CRMSystem
from aisle.storage.store import OrgScope, Store

__all__ = ["LEASE_SETTING", "CRMDeps", "UnusableConnection"]

LEASE_SETTING = "AISLE_CRM_LEASE_SECONDS"


class UnusableConnection(Exception):
    """A connection the engine cannot use now (provider not installed, credentials
    that do not decrypt or no longer fit); the message never holds a secret."""


@dataclass(frozen=True, kw_only=True)
class CRMDeps:
    """``http`` builds the outbound client a provider gets (the SSRF-guarded one);
    ``sleep`` waits between retries; ``lease_seconds`` is how long a running sync may
    go without a heartbeat before the sweeper takes it back."""

    runtime: Runtime
    cipher: CredentialCipher
    http: Callable[[], httpx.AsyncClient] = http_client
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    lease_seconds: float = 120.0
    max_resumes: int = 3
    retries: int = 5
    backoff_seconds: float = 1.0
    system: CRMSystem = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "system", CRMSystem(self.store.db, self.store.clock))

    @classmethod
    def of(cls, runtime: Runtime, **overrides: Any) -> CRMDeps:
        """Deps on ``runtime``, its settings' key (``AISLE_SECRET_KEY``) encrypting and
        ``AISLE_CRM_LEASE_SECONDS`` the lease."""
        lease = env_number(runtime.settings.environ, LEASE_SETTING, 120.0)
        return cls(
            runtime=runtime,
            cipher=CredentialCipher.from_settings(runtime.settings),
            **{"lease_seconds": lease, **overrides},
        )

    @property
    def store(self) -> Store:
        return self.runtime.store

    def for_org(self, org_id: str) -> OrgScope:
        return self.runtime.for_org(org_id)

    def provider(self, name: str) -> CRMProvider:
        """:raises Refused: 422 naming ``provider`` when no such provider is installed."""
        found = self.runtime.registry.crm_providers.get(name)
        if found is None:
            known = ", ".join(sorted(self.runtime.registry.crm_providers)) or "none"
            raise Refused(
                422,
                f"no CRM provider named {name!r} is installed (installed: {known})",
                errors=[FieldError(message="unknown CRM provider", field="provider")],
            )
        return found

    async def phone_region(self, org_id: str) -> str | None:
        """The region numbers without a country code are read in, for this studio."""
        org = await self.runtime.organization(org_id)
        return phone_region(org.settings, self.runtime.settings.setting("sms_default_region"))

    async def credentials(self, scope: OrgScope, connection: CRMConnection) -> Any:
        """The connection's credentials, decrypted into its provider's struct (OAuth2
        tokens near expiry refreshed and stored first)."""
        provider = self.runtime.registry.crm_providers.get(connection.provider)
        if provider is None:
            raise UnusableConnection(f"CRM provider {connection.provider!r} is not installed")
        stored = await scope.crm_connections.credentials(connection.id)
        try:
            credentials = msgspec.convert(self.cipher.decrypt(stored), provider.credentials)
        except CredentialError as exc:
            raise UnusableConnection(str(exc)) from None
        except msgspec.ValidationError as exc:
            raise UnusableConnection(
                f"stored credentials no longer fit provider {provider.name!r}: {exc}"
            ) from None
        try:
            return await refreshed(
                provider,
                credentials,
                connection_id=connection.id,
                stored=stored,
                cipher=self.cipher,
                system=self.system,
                http=self.http,
                now=self.store.clock.now(),
            )
        except RefreshFailed as exc:
            raise UnusableConnection(str(exc)) from None

    @asynccontextmanager
    async def client(self, provider: CRMProvider, credentials: Any) -> AsyncIterator[CRMClient]:
        """The provider's client on a fresh outbound HTTP client, closed afterwards."""
        if provider.client is None:
            raise UnusableConnection(f"CRM provider {provider.name!r} has no client")
        async with self.http() as http:
            yield provider.client(credentials, http)
