"""OAuth2 credentials refreshed before they expire, and stored encrypted again.

A provider with ``refresh_credentials`` keeps an ``expires_at`` in its credentials; a
sync or a push reading credentials within :data:`REFRESH_MARGIN` of it gets new ones
from the provider first. The swap is conditional on the stored ciphertext: when
another process refreshed first, its tokens are used instead of a second refresh's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec

from aisle.contracts.crm import CRMProvider
from aisle.storage.credentials import CredentialCipher
from aisle.storage.crm import CRMSystem

__all__ = ["REFRESH_MARGIN", "RefreshFailed", "refreshed"]

REFRESH_MARGIN = timedelta(minutes=5)
"""How long before ``expires_at`` tokens are replaced (a run or a push started just
before expiry must not fail half way)."""


class RefreshFailed(Exception):
    """The provider could not refresh the tokens; the message never holds a secret."""


async def refreshed(
    provider: CRMProvider,
    credentials: Any,
    *,
    connection_id: str,
    stored: str,
    cipher: CredentialCipher,
    system: CRMSystem,
    http: Callable[[], httpx.AsyncClient],
    now: datetime,
) -> Any:
    """``credentials``, or new ones when they expire within the margin (``stored`` is
    their ciphertext as read)."""
    expires_at = getattr(credentials, "expires_at", None)
    refresh = provider.refresh_credentials
    if refresh is None or not isinstance(expires_at, datetime):
        return credentials
    if expires_at - now > REFRESH_MARGIN:
        return credentials
    try:
        async with http() as client:
            fresh = await refresh(credentials, client)
    except Exception as exc:
        raise RefreshFailed(
            f"CRM provider {provider.name!r} could not refresh its OAuth2 tokens "
            f"({type(exc).__name__})"
        ) from None
    if await system.replace_credentials(connection_id, stored, cipher.encrypt(fresh)):
        return fresh
    # Another process refreshed (or someone edited the connection) meanwhile.
    current = await system.credentials(connection_id)
    return msgspec.convert(cipher.decrypt(current), provider.credentials)
